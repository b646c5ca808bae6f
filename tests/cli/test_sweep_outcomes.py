"""How a sweep's jobs report how they ended: through the results folder, never the local /tmp;
a failed job anywhere gives a non-zero exit and its error on the launching terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evalharness.store import load_runs

RunCLI = Any
CLI = [sys.executable, "-m", "evalharness.cli.main"]


def test_one_failed_job_run_elsewhere_shows_its_error(cli: RunCLI, tmp_path: Path) -> None:
    # the job runs in its own process, whose output goes to submitit's log file
    proc = cli(
        "run", "-m", "model=oracle", "benchmark=example_parity", "limit=0",
        "hydra/launcher=submitit_local",
    )  # fmt: skip
    assert proc.returncode == 1
    assert "error: oracle: limit must be at least 1" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results" / ".jobs").exists()  # the board is cleaned up


def test_a_job_killed_without_a_result_is_one_line_and_the_rest_is_collected(
    tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    args = [
        "run", "-m", "model=example_parrot", "benchmark=example_parity",
        "model.args.delay=1", "batch_size=1", "limit=6", "seed=0,1", "progress=false",
        "hydra/launcher=submitit_local",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [*CLI, *args], cwd=tmp_path, env=plugin_env, stderr=subprocess.PIPE, text=True
    )
    sweeps = tmp_path / "results" / "sweeps"
    deadline = time.monotonic() + 120
    jobs: list[Path] = []
    while len(jobs) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # submitit_local names each job's folder by its process id
        jobs = sorted(p for p in sweeps.glob("*/.submitit/*") if p.name.isdigit())
    assert len(jobs) == 2, "the jobs did not start"
    _kill_tree(int(jobs[0].name))  # as the scheduler kills a cancelled job
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert f"job {jobs[0].name} ended without a result" in err, err
    assert "seed=" in err  # which job it was
    runs = load_runs(tmp_path / "results")
    assert "complete" in set(runs["status"])  # the other job was waited for and finished


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and its children (submitit_local's job runs under a controller)."""
    time.sleep(1)  # the controller has started the job
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's pid
            children.append(int(stat.parent.name))
    for child in [*children, pid]:
        os.kill(child, signal.SIGKILL)


def test_no_status_file_in_tmp_and_a_killed_sweeps_board_is_removed_by_the_next(
    tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**plugin_env, "TMPDIR": str(tmp), "TQDM_DISABLE": "1"}
    args = [
        "run", "-m", "model=example_parrot", "benchmark=example_parity",
        "model.args.delay=0.3", "batch_size=1", "flush_s=0", "limit=6", "seed=0,1",
    ]  # fmt: skip
    proc = subprocess.Popen([*CLI, *args], cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    parts = tmp_path / "results" / "samples"
    deadline = time.monotonic() + 60
    while not any(parts.glob("*/part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()  # no chance to clean up
    proc.wait(timeout=30)
    assert [p.name for p in tmp.iterdir() if "evalharness" in p.name] == []
    boards = tmp_path / "results" / ".jobs"
    assert len(list(boards.iterdir())) == 1  # left by the killed sweep, in the results folder
    done = subprocess.run([*CLI, *args, "model.args.delay=0"], cwd=tmp_path, env=env)
    assert done.returncode == 0
    assert not boards.exists()  # the stale board is gone, and so is the new one
