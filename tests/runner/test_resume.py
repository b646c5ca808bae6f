"""Kill the runner with SIGKILL at many moments, rerun: results equal an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from evalharness.store import load_runs, load_samples

N, BATCH = 36, 2
ARGS = [
    "model=example_parrot",
    "+model.args.delay=0.12",
    "benchmark=example_parity",
    f"benchmark.args.n={N}",
    f"batch_size={BATCH}",
    "progress=false",
]
VOLATILE = ["latency_s"]


def _start(results: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "evalharness.cli.main", "run", *ARGS, f"results_dir={results}"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _parts(results: Path) -> int:
    return len(list((results / "samples").glob("*/part-*.parquet")))


def _kill_when(proc: subprocess.Popen[bytes], ready: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():  # type: ignore[operator]
            break
        time.sleep(0.01)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _canonical(results: Path) -> pd.DataFrame:
    frame = load_samples(results).drop(columns=VOLATILE)
    return frame.sort_values("sample_id").reset_index(drop=True)


def test_sigkill_at_many_moments_then_resume_equals_uninterrupted(
    tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    env = {**plugin_env, "TQDM_DISABLE": "1"}
    clean = tmp_path / "clean"
    subprocess.run(
        [sys.executable, "-m", "evalharness.cli.main", "run", *ARGS, f"results_dir={clean}"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    crashed = tmp_path / "crashed"
    # during start-up, before anything is written
    for delay in (0.3, 1.0):
        proc = _start(crashed, env, tmp_path)
        t0 = time.monotonic()
        _kill_when(proc, lambda t=t0, d=delay: time.monotonic() - t > d)  # type: ignore[misc]
    # mid-run, after a given number of batches were stored (the count includes earlier runs' parts)
    for extra in (1, 2, 3, 5):
        before = _parts(crashed)
        proc = _start(crashed, env, tmp_path)
        _kill_when(proc, lambda b=before, e=extra: _parts(crashed) >= b + e)  # type: ignore[misc]
    # at random moments, compaction and final writes included
    for delay in (1.7, 2.2, 2.9):
        proc = _start(crashed, env, tmp_path)
        t0 = time.monotonic()
        _kill_when(proc, lambda t=t0, d=delay: time.monotonic() - t > d)  # type: ignore[misc]
    final = subprocess.run(
        [sys.executable, "-m", "evalharness.cli.main", "run", *ARGS, f"results_dir={crashed}"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stderr

    got, want = _canonical(crashed), _canonical(clean)
    assert got["sample_id"].is_unique
    assert list(got["sample_id"]) == [f"parity-{i:03d}" for i in range(N)]
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
    runs = load_runs(crashed)
    assert list(runs["status"]) == ["complete"]
    assert runs.loc[0, "score"] == load_runs(clean).loc[0, "score"]
