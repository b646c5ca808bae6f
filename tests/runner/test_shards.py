"""Data-parallel runs: shards of a run's samples, one worker each, results as one process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from results_helpers import same_results

from evalharness.runner.shards import ShardError, shard_from, shard_samples
from evalharness.runner.spec import Shard
from evalharness.store import load_runs, load_samples
from evalharness.types import RenderedImage, Sample

RunCLI = Any
CLI = [sys.executable, "-m", "evalharness.cli.main"]


def _samples(n: int, images: int = 1) -> list[Sample]:
    return [
        Sample(
            id=f"s{i}",
            images=tuple(RenderedImage(f"k{i}-{j}", render=lambda: None) for j in range(images)),
            prompt="?" * (i % 5),
            targets=("a",),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [0, 1, 5, 12, 101])
@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_are_a_stable_balanced_partition(n: int, count: int) -> None:
    samples = _samples(n)
    parts = [shard_samples(samples, Shard(i, count)) for i in range(count)]
    ids = [s.id for part in parts for s in part]
    assert sorted(ids) == sorted(s.id for s in samples)  # each sample in exactly one shard
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    # stable: the same ids wherever the samples come from, and in run order
    again = [shard_samples(list(reversed(samples)), Shard(i, count)) for i in range(count)]
    assert [sorted(s.id for s in p) for p in parts] == [sorted(s.id for s in p) for p in again]
    order = {s.id: i for i, s in enumerate(samples)}
    assert all([order[s.id] for s in p] == sorted(order[s.id] for s in p) for p in parts)


def test_expensive_samples_are_spread_over_the_shards() -> None:
    samples = _samples(4, images=1) + _samples(0) + [
        Sample(id=f"big{i}", images=_samples(1, images=4)[0].images, prompt="", targets=("a",))
        for i in range(4)
    ]  # fmt: skip
    for i in range(4):
        assert sum(s.id.startswith("big") for s in shard_samples(samples, Shard(i, 4))) == 1


def test_shard_settings_from_the_command_or_the_launchers_environment() -> None:
    assert shard_from(None, None, {}) is None
    assert shard_from(None, None, {"RANK": "2", "WORLD_SIZE": "3"}) == Shard(2, 3)
    assert shard_from(None, None, {"RANK": "0", "WORLD_SIZE": "1"}) is None
    assert shard_from(4, 1, {"RANK": "2", "WORLD_SIZE": "3"}) == Shard(1, 4)  # given wins
    with pytest.raises(ShardError, match="add -m"):
        shard_from(4, None, {})
    with pytest.raises(ShardError, match="from 0 to 3"):
        shard_from(4, 4, {})
    with pytest.raises(ShardError, match="needs shards=N"):
        shard_from(None, 1, {})


def test_one_two_and_three_workers_give_identical_results(cli: RunCLI, tmp_path: Path) -> None:
    common = ("model=example_parrot", "benchmark=example_parity", "batch_size=2", "limit=11")
    cli("run", *common, "results_dir=one", check=True)
    for n in (2, 3):
        proc = cli("run", "-m", *common, f"shards={n}", f"results_dir=by{n}", check=True)
        assert proc.stdout.count("aggregated by the shard that finishes last") == n - 1
        same_results(tmp_path / "one", tmp_path / f"by{n}")
        assert not list((tmp_path / f"by{n}").glob("samples/*/shards"))  # statuses cleaned up


def test_submitit_local_runs_the_shards_as_jobs(cli: RunCLI, tmp_path: Path) -> None:
    common = ("model=example_parrot", "benchmark=example_parity", "batch_size=2")
    cli("run", *common, "results_dir=one", check=True)
    cli(
        "run", "-m", *common, "shards=2", "hydra/launcher=submitit_local", "results_dir=two",
        check=True,
    )  # fmt: skip
    same_results(tmp_path / "one", tmp_path / "two")


def test_samples_that_error_are_counted_once_every_shard_is_in(cli: RunCLI, tmp_path: Path) -> None:
    common = ("model=example_parrot", "model.args.fail=4", "benchmark=example_parity")
    cli("run", *common, "max_error_rate=1", "results_dir=one", check=True)
    cli("run", "-m", *common, "max_error_rate=1", "shards=2", "results_dir=two", check=True)
    [run] = load_runs(tmp_path / "two").to_dict("records")
    assert run["status"] == "complete" and run["n_errors"] == 3
    same_results(tmp_path / "one", tmp_path / "two")


def test_more_shards_than_samples_is_a_note_and_the_run_completes(
    cli: RunCLI, tmp_path: Path
) -> None:
    proc = cli(
        "run", "-m", "model=oracle", "benchmark=example_parity", "limit=2", "shards=4",
        check=True,
    )  # fmt: skip
    assert "shard 3 of 4 has no samples (the run has 2, fewer than its 4 shards)" in proc.stderr
    assert "Traceback" not in proc.stderr
    [run] = load_runs(tmp_path / "results").to_dict("records")
    assert run["status"] == "complete" and run["n_samples"] == 2
    assert sorted(load_samples(tmp_path / "results")["sample_id"]) == ["parity-000", "parity-001"]


def test_a_shard_alone_is_refused_without_shards_and_out_of_range(cli: RunCLI) -> None:
    proc = cli("run", "model=oracle", "benchmark=example_parity", "shards=3")
    assert proc.returncode == 1 and "add -m" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("run", "model=oracle", "benchmark=example_parity", "shards=3", "shard=3")
    assert proc.returncode == 1 and "shard must be from 0 to 2" in proc.stderr


def _start_shard(tmp_path: Path, env: dict[str, str], index: int, *extra: str) -> Any:
    args = [
        "run", "model=example_parrot", "benchmark=example_parity", "model.args.delay=0.25",
        "batch_size=1", "flush_s=0", "progress=false", "shards=2", f"shard={index}", *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        [*CLI, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for_part(folder: Path, pattern: str) -> None:
    deadline = time.monotonic() + 60
    while not list(folder.glob(pattern)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(folder.glob(pattern)), f"no {pattern} in {folder}"


def test_sigterm_flushes_a_shard_which_then_resumes_alone(
    cli: RunCLI, tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    shard = _start_shard(tmp_path, plugin_env, 1)
    _wait_for_part(tmp_path / "results" / "samples", "*/part-*-s1of2.parquet")
    shard.send_signal(signal.SIGTERM)  # what SLURM sends on preemption
    _, err = shard.communicate(timeout=60)
    assert shard.returncode != 0 and "Traceback" not in err, err
    [run] = load_runs(tmp_path / "results").to_dict("records")
    assert run["status"] == "interrupted"
    [status] = (tmp_path / "results" / "samples").glob("*/shards/s1of2.json")
    assert '"status": "interrupted"' in status.read_text()
    kept = load_samples(tmp_path / "results")
    assert 0 < len(kept) < 6  # what it answered before the signal is stored

    zero = _start_shard(tmp_path, plugin_env, 0, "model.args.delay=0")
    zero.communicate(timeout=120)
    assert zero.returncode == 0
    assert load_runs(tmp_path / "results")["status"].tolist() == ["interrupted"]
    again = _start_shard(tmp_path, plugin_env, 1, "model.args.delay=0")  # the killed one, alone
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "reused" in out  # it aggregated the run, and printed its summary
    cli(
        "run", "model=example_parrot", "benchmark=example_parity", "batch_size=1",
        "model.args.delay=0", "flush_s=0", "progress=false", "results_dir=one", check=True,
    )  # fmt: skip
    same_results(tmp_path / "one", tmp_path / "results")


def test_a_second_launch_of_the_same_shard_is_refused(
    tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    first = _start_shard(tmp_path, plugin_env, 0, "model.args.delay=2")  # busy a while
    _wait_for_part(tmp_path / "results" / "samples", "*/part-*-s0of2.parquet")
    second = _start_shard(tmp_path, plugin_env, 0)
    _, err = second.communicate(timeout=60)
    first.terminate()
    first.communicate(timeout=60)
    assert second.returncode == 1 and "Traceback" not in err
    assert "shard 1 of 2 of run" in err and "being answered by another process" in err
    ids = load_samples(tmp_path / "results")["sample_id"]
    assert not ids.duplicated().any()


def test_a_starting_shard_waits_while_another_checks_the_run(tmp_path: Path) -> None:
    import fcntl
    import os
    import threading

    from evalharness.runner.shards import _wait_shared
    from evalharness.store import RunLockedError

    path = tmp_path / ".lock"
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    waiter = os.open(path, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)  # a finishing shard checks whether the run is complete
    with pytest.raises(RunLockedError, match="held by another process for 0 s"):
        _wait_shared(waiter, "r", patience_s=0.3)  # a run without shards holds it for long
    threading.Timer(0.3, fcntl.flock, (holder, fcntl.LOCK_UN)).start()
    _wait_shared(waiter, "r", patience_s=30)  # the check ends: the shard goes on
    os.close(holder)
    os.close(waiter)
