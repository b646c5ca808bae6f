"""Full disks, read-only folders, file modes and temporary files of the results folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from disks import fill, read_only, small_disk
from results_helpers import wait_for_answers

from evalharness.store import ResultsStore, load_runs, load_samples

RunCLI = Any
RUN = ["run", "model=example_parrot", "benchmark=example_parity", "progress=false"]
SLOW = ["model.args.delay=0.2", "batch_size=1", "flush_s=0"]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def test_a_full_disk_mid_run_is_one_line_a_failed_status_and_a_rerun_resumes(
    tmp_path: Path, plugin_env: dict[str, str], cli: RunCLI
) -> None:
    with small_disk(tmp_path / "disk", 4096) as disk:
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalharness.cli.main", *RUN, *SLOW, "results_dir=disk/results"],
            cwd=tmp_path,
            env=plugin_env,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_answers(disk / "results")  # the run is under way
        filler = fill(disk)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        line = _one_error_line(err)
        assert "No space left on device" in line and str(Path("disk") / "results") in line
        [row] = load_runs(disk / "results").to_dict("records")
        assert row["status"] == "failed" and "No space left on device" in row["status_reason"]
        kept = len(load_samples(disk / "results"))
        assert 0 < kept < 12
        assert not [p for p in (disk / "results").rglob("*") if p.name.endswith(".tmp")]
        filler.unlink()  # space again: the same command goes on from the saved answers
        again = cli(*RUN, "results_dir=disk/results", check=True)
        assert again.stdout.splitlines()[-1].split()[-1] == str(kept)
        [row] = load_runs(disk / "results").to_dict("records")
        assert row["status"] == "complete" and row["status_reason"] == ""


def test_a_read_only_results_folder_is_one_line(tmp_path: Path, cli: RunCLI) -> None:
    cli(*RUN, "limit=3", check=True)
    with read_only(tmp_path / "results"):
        proc = cli(*RUN)  # the whole benchmark: a new run
        assert proc.returncode == 1
        line = _one_error_line(proc.stderr)
        assert "results" in line and "not writable" in line and "results_dir=PATH" in line
    assert list(load_runs(tmp_path / "results")["status"]) == ["complete"]


def test_a_sweep_into_a_read_only_or_full_results_folder_is_one_line(
    tmp_path: Path, cli: RunCLI
) -> None:
    cli(*RUN, "limit=3", check=True)
    sweep = ["run", "-m", "model=oracle,example_parrot", "benchmark=example_parity"]
    with read_only(tmp_path / "results"):
        proc = cli(*sweep)
        assert proc.returncode == 1
        assert "not writable" in _one_error_line(proc.stderr)
    with small_disk(tmp_path / "disk", 256) as disk:
        fill(disk)
        proc = cli(*sweep, "results_dir=disk/results")
        assert proc.returncode == 1
        assert "No space left on device" in _one_error_line(proc.stderr)


def test_the_leaderboard_to_an_unwritable_place_is_one_line(tmp_path: Path, cli: RunCLI) -> None:
    cli(*RUN, check=True)
    (tmp_path / "locked").mkdir()
    with read_only(tmp_path / "locked"):
        proc = cli("leaderboard", "--out", "locked/site")
        assert proc.returncode == 1
        line = _one_error_line(proc.stderr)
        assert "cannot write the leaderboard to locked/site" in line and "--out" in line
    with small_disk(tmp_path / "disk", 256) as disk:
        fill(disk)
        proc = cli("leaderboard", "--out", "disk/site")
        assert proc.returncode == 1
        assert "No space left on device" in _one_error_line(proc.stderr)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_results_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    from PIL import Image

    old = os.umask(umask)
    try:
        store = ResultsStore(tmp_path / "results")
        store.write_run({"run_id": "r1", "status": "running"})
        store.append_samples("r1", [{"run_id": "r1", "sample_id": "a"}])
        store.compact("r1", store.read_samples("r1"))
        store.save_thumbnail("ab" * 8, Image.new("RGB", (8, 8)))
        with store.lock("r1"):
            pass
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "results").rglob("*") if p.is_file()]
    assert len(files) >= 5
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_temporaries_a_killed_rewrite_left_are_removed_by_the_next(tmp_path: Path) -> None:
    from evalharness.runner.rescore import rescore

    store = ResultsStore(tmp_path / "results")
    store.write_run({"run_id": "r1", "status": "interrupted", "benchmark": "b"})
    store.append_samples("r1", [{"run_id": "r1", "sample_id": "a"}])
    # what a process killed inside an atomic write leaves behind
    left = [
        tmp_path / "results" / "samples" / "r1" / ".part-000001.parquet.k2j4.tmp",
        tmp_path / "results" / "runs" / ".r1.parquet.x9q1.tmp",
    ]
    for path in left:
        path.write_bytes(b"PAR1 cut short")
    with store.lock("r1"):  # whoever writes the run next: a rerun, or rescore
        pass
    assert not any(p.exists() for p in left)
    assert len(store.read_samples("r1")) == 1
    # and rescore's own pass (which skips this unfinished run) leaves none behind either
    rescore(tmp_path / "results")
    assert not [p for p in (tmp_path / "results").rglob("*.tmp")]


def test_rescore_removes_temporaries_older_than_an_hour_anywhere_in_the_folder(
    tmp_path: Path,
) -> None:
    from evalharness.runner.rescore import rescore

    store = ResultsStore(tmp_path / "results")
    store.write_run({"run_id": "r1", "status": "interrupted", "benchmark": "b"})
    root = tmp_path / "results"
    (root / "images" / "ab").mkdir(parents=True)
    (root / "samples" / "r2").mkdir(parents=True)
    old = [root / "images" / "ab" / ".abcd.jpg.k2j4.tmp", root / "samples" / "r2" / ".x.tmp"]
    fresh = root / "images" / "ab" / ".abce.jpg.q8w1.tmp"  # maybe being written right now
    for path in [*old, fresh]:
        path.write_bytes(b"cut short")
    hours_ago = time.time() - 2 * 3600
    for path in old:
        os.utime(path, (hours_ago, hours_ago))
    rescore(root)
    assert not any(p.exists() for p in old) and fresh.exists()
