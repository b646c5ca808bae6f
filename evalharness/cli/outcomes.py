"""How the jobs of a run or sweep tell the launching process how they ended.

Jobs may run in this process (Hydra's basic launcher), in worker processes (joblib) or on other
machines (submitit, SLURM), whose /tmp this process cannot see. So each finished job writes one
small file into a folder under the results folder, which is shared storage wherever the jobs can
write results at all. The launching process names the folder in EVALHARNESS_JOBS_DIR, counts the
files for the sweep's bar, reads the failures at the end and removes the folder. A folder left by
a launching process that was killed is removed by the next sweep started on the same machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

JOBS_ENV = "EVALHARNESS_JOBS_DIR"
JOBS_FOLDER = ".jobs"
"""Under the results folder: one folder per launching process, named HOST~PID~RANDOM."""

__all__ = ["JOBS_ENV", "Outcome", "close_board", "open_board", "read_outcomes", "record"]


@dataclass(frozen=True)
class Outcome:
    """One finished job: its title ('MODEL × BENCHMARK'), whether it succeeded, its error
    message, and the process that already showed that message on the launching terminal
    (`shown_by`, a pid; 0 when no terminal has shown it)."""

    title: str
    ok: bool
    message: str = ""
    shown_by: int = 0

    @property
    def shown_here(self) -> bool:
        return self.shown_by == os.getpid()


_local: list[Outcome] = []
"""Outcomes of jobs that ran in this process with no board open (a single run)."""


def open_board(results_dir: str | Path) -> Path:
    """A fresh folder for this launch's outcomes under `results_dir`, named in the environment
    that the jobs inherit (worker processes, submitit jobs, SLURM's exported environment)."""
    root = Path(results_dir).absolute() / JOBS_FOLDER
    _remove_stale(root)
    folder = root / f"{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    os.environ[JOBS_ENV] = str(folder)
    return folder


def record(outcome: Outcome) -> None:
    """Report a finished job to whoever launched it (a file in its board, or this process)."""
    folder = os.environ.get(JOBS_ENV)
    if not folder:
        _local.append(outcome)
        return
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
    tmp = Path(folder) / f".{name}.tmp"
    try:
        tmp.write_text(json.dumps(asdict(outcome)))
        os.replace(tmp, Path(folder) / name)  # readers see whole files only
    except OSError:
        _local.append(outcome)  # the board is gone (its launcher ended): keep it here at least


def count_outcomes(folder: Path) -> tuple[int, int, str]:
    """Jobs finished so far, how many failed, and the last one's title (for the sweep's bar)."""
    found = read_outcomes(folder)
    failed = sum(not o.ok for o in found)
    return len(found), failed, found[-1].title if found else ""


def read_outcomes(folder: Path | None) -> list[Outcome]:
    """Every outcome in the board, in the order the jobs finished (this process's own if none)."""
    if folder is None:
        return list(_local)
    found: list[Outcome] = []
    with contextlib.suppress(FileNotFoundError):
        for path in sorted(folder.glob("*.json")):
            with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
                found.append(Outcome(**json.loads(path.read_text())))
    return found + _local


def close_board(folder: Path | None) -> None:
    """Remove the board; its outcomes have been read."""
    os.environ.pop(JOBS_ENV, None)
    _local.clear()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # the last board: no empty `.jobs` left in the results folder


def _remove_stale(root: Path) -> None:
    """Remove boards whose launching process on this machine is gone (killed, or the machine
    restarted). Boards of other machines are left alone: their processes cannot be seen."""
    if not root.is_dir():
        return
    host = socket.gethostname()
    for folder in root.iterdir():
        owner, _, rest = folder.name.partition("~")
        pid = rest.partition("~")[0]
        if owner == host and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
