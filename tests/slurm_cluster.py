"""A real SLURM cluster on this machine for the tests: munged, slurmctld and slurmd (Debian's
slurm-wlm and munge), all private to one folder — their own munge socket, configuration, ports,
state and logs — so that nothing of the machine's own setup is used or changed.

With `private_tmp`, slurmd (and so every job) runs in its own mount namespace with an empty
tmpfs on /tmp, the test folders bound back in: a stand-in for the compute nodes of a multi-node
cluster, whose /tmp the submitting process cannot see. Everything is stopped by its process id
when the cluster is closed.

Needs root and the packages; `.ci/run` installs them when it runs as root. Outside CI, tests
that need the cluster are skipped where the packages are missing; in CI
(EVALHARNESS_REQUIRE_SLURM=1) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "unshare")
MUNGE_KEY = Path("/etc/munge/munge.key")


def missing() -> str | None:
    """Why no cluster can be started here (None: it can)."""
    if os.geteuid() != 0:
        return "the SLURM cluster tests start daemons as root"
    lacking = [
        d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").exists()
    ]
    if lacking or not MUNGE_KEY.exists():
        return f"slurm-wlm and munge are not installed (missing: {', '.join(lacking) or MUNGE_KEY})"
    return None


def require() -> None:
    """Skip (outside CI) or fail (in CI) a test that cannot have its cluster."""
    why = missing()
    if why is None:
        return
    if os.environ.get("EVALHARNESS_REQUIRE_SLURM"):
        pytest.fail(f"{why}; CI installs them (.ci/run, as root)")
    pytest.skip(why)


@dataclass
class Cluster:
    folder: Path
    env: dict[str, str]
    """What a client (sbatch, squeue, evalharness) needs in its environment to talk to this
    cluster, on top of its own."""

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sbin(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 512
    return 1024


def _config(folder: Path, host: str, munge_socket: Path) -> str:
    ctld, slurmd = _free_port(), _free_port()
    cpus = os.cpu_count() or 1
    return "\n".join(
        [
            "ClusterName=evalharness-test",
            f"SlurmctldHost={host}",
            f"SlurmctldPort={ctld}",
            f"SlurmdPort={slurmd}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={munge_socket}",
            f"StateSaveLocation={folder}/state",
            f"SlurmdSpoolDir={folder}/spool",
            f"SlurmctldPidFile={folder}/slurmctld.pid",
            f"SlurmdPidFile={folder}/slurmd.pid",
            f"SlurmctldLogFile={folder}/slurmctld.log",
            f"SlurmdLogFile={folder}/slurmd.log",
            "ProctrackType=proctrack/pgid",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "MpiDefault=none",
            "ReturnToService=2",
            "SchedulerParameters=sched_interval=1",
            "MessageTimeout=30",
            "KillWait=5",
            "InactiveLimit=0",
            "MinJobAge=300",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            f"NodeName={host} CPUs={cpus} RealMemory={_memory_mb()} State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


@contextmanager
def cluster(
    folder: Path, keep_visible: Sequence[Path], private_tmp: bool = True
) -> Iterator[Cluster]:
    """Start the cluster in `folder`; with `private_tmp`, jobs see an empty /tmp but for the
    folders of `keep_visible` that lie in it (the shared storage: the tests' folders, and the
    checkout and Python the jobs run from, when those lie under /tmp too)."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool", "munge"):
        (folder / sub).mkdir(exist_ok=True)
    os.chmod(folder / "munge", 0o700)
    key = folder / "munge" / "munge.key"
    shutil.copyfile(MUNGE_KEY, key)
    os.chmod(key, 0o600)
    munge_socket = folder / "munge" / "munge.socket"
    host = socket.gethostname()
    conf = folder / "slurm.conf"
    conf.write_text(_config(folder, host, munge_socket))
    client = {"SLURM_CONF": str(conf)}
    env = {**os.environ, **client}
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: str) -> None:
        out = open(folder / f"{log}.out", "wb")  # noqa: SIM115 (closed with the process)
        started.append(
            subprocess.Popen(args, env=env, stdout=out, stderr=out, start_new_session=True)
        )

    try:
        start(
            [
                _sbin("munged"), "--foreground", "--force", f"--socket={munge_socket}",
                f"--key-file={key}", f"--pid-file={folder}/munge/munged.pid",
                f"--log-file={folder}/munged.log", f"--seed-file={folder}/munge/seed",
            ],
            "munged",
        )  # fmt: skip
        _wait_for(lambda: munge_socket.exists(), "munged", folder)
        start([_sbin("slurmctld"), "-D", "-i", "-f", str(conf)], "slurmctld-stdout")
        slurmd = [_sbin("slurmd"), "-D", "-f", str(conf)]
        if private_tmp:
            keep = _under_tmp(keep_visible)
            hide = "".join(
                f"mkdir -p /run/evalharness-keep-$$-{i}; "
                f"mount --bind {path} /run/evalharness-keep-$$-{i}; "
                for i, path in enumerate(keep)
            )
            show = "".join(
                f"mkdir -p {path}; mount --bind /run/evalharness-keep-$$-{i} {path}; "
                for i, path in enumerate(keep)
            )
            script = (
                f"set -e; {hide}mount -t tmpfs -o size=512m tmpfs /tmp; {show}"
                f"exec {' '.join(slurmd)}"
            )
            slurmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
        start(slurmd, "slurmd-stdout")
        _wait_for(lambda: _node_idle(env), "the node to be idle", folder)
        yield Cluster(folder, client)
    finally:
        _drain(env, folder)
        for proc in reversed(started):
            _stop(proc)


def _under_tmp(paths: Sequence[Path]) -> list[Path]:
    """The folders of `paths` under /tmp (resolved), none inside another of them."""
    tmp = Path("/tmp").resolve()
    inside = sorted({p.resolve() for p in paths if p.resolve().is_relative_to(tmp)})
    return [p for p in inside if not any(p != q and p.is_relative_to(q) for q in inside)]


def _drain(env: dict[str, str], folder: Path) -> None:
    """Cancel what is left in the queue and wait until every job step (slurmstepd, which slurmd
    starts in a session of its own) is gone; a step still there is stopped by its id, which
    `scontrol listpids` gives while slurmd runs."""
    with suppress(Exception):
        subprocess.run(["scancel", "--partition=debug"], env=env, timeout=30, check=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            queue = subprocess.run(
                ["squeue", "-h"], env=env, capture_output=True, text=True, timeout=30
            ).stdout.strip()
            steps = list((folder / "spool").glob("*_*.*"))  # a step's socket: HOST_JOB.STEP
            if not queue and not steps:
                return
            time.sleep(0.5)
    for path in (folder / "spool").glob("*_*.*"):
        with suppress(ValueError, OSError):
            listed = subprocess.run(
                ["scontrol", "listpids", path.name.partition("_")[2].partition(".")[0]],
                env=env, capture_output=True, text=True, timeout=30,
            ).stdout  # fmt: skip
            for line in listed.splitlines()[1:]:
                with suppress(ValueError, ProcessLookupError):
                    os.kill(int(line.split()[0]), signal.SIGKILL)


def _node_idle(env: dict[str, str]) -> bool:
    proc = subprocess.run(
        ["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True, timeout=30
    )
    return proc.returncode == 0 and proc.stdout.strip() in ("idle", "mix", "alloc")


def _wait_for(ready: object, what: str, folder: Path, timeout: float = 60) -> None:
    assert callable(ready)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    logs = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
        for p in sorted(folder.glob("*.log")) + sorted(folder.glob("*.out"))
    )
    raise RuntimeError(f"timed out waiting for {what}\n{logs}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a daemon and what it started (its process group), by id."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
