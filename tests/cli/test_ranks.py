"""Ranks on one machine: torchrun, and `workers=N` through torch's own launcher, on CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from results_helpers import same_results

from evalharness.store import load_runs, load_samples

RunCLI = Any
TINY = ("model=tiny_qwen2_vl", "benchmark=example_parity", "limit=7", "batch_size=2")


def test_two_ranks_under_torchrun_give_the_results_of_one_process(
    cli: RunCLI, tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    cli("run", *TINY, "results_dir=one", check=True)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    proc = subprocess.run(
        [*torchrun, "--nproc_per_node=2", "-m", "evalharness.cli.main", "run", *TINY,
         "results_dir=two"],
        cwd=tmp_path, env={**plugin_env, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "shard 2 of 2: answered" in proc.stdout  # rank 1 answered its part; rank 0 aggregated
    same_results(tmp_path / "one", tmp_path / "two")


def test_workers_three_starts_three_ranks_with_the_results_of_one_process(
    cli: RunCLI, tmp_path: Path
) -> None:
    fake = ("model=example_parrot", "benchmark=example_parity", "batch_size=2")
    cli("run", *fake, "results_dir=one", check=True)
    proc = cli("run", *fake, "workers=3", "results_dir=three", check=True, env={"TQDM_DISABLE": ""})
    assert proc.stdout.count("answered;") == 2
    # one bar for the run, fed from the store, shown by rank 0 until every rank is done
    bars = [b for b in proc.stderr.replace("\r", "\n").splitlines() if "(all shards)" in b]
    assert bars and "12/12" in bars[-1], proc.stderr
    same_results(tmp_path / "one", tmp_path / "three")


def test_a_rank_that_dies_is_one_line_and_a_rerun_completes_the_run(
    cli: RunCLI, tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    args = [
        "run", "model=example_parrot", "benchmark=example_parity", "model.args.delay=0.5",
        "batch_size=1", "flush_s=0", "workers=2",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalharness.cli.main", *args],
        cwd=tmp_path, env={**plugin_env, "TQDM_DISABLE": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    statuses = tmp_path / "results" / "samples"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list(statuses.glob("*/part-*-s1of2.parquet"))
        status = list(statuses.glob("*/shards/s1of2.json"))
        if found and status and list(statuses.glob("*/shards/s0of2.json")):
            break  # both ranks answer
        time.sleep(0.05)
    os.kill(json.loads(status[0].read_text())["pid"], signal.SIGKILL)  # rank 1 dies
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "error: rank 1 of 2 failed (exit code -9)" in err, err
    assert "Traceback" not in err and "rank 0" not in err  # stopped by the launcher: no fault
    assert "run the same command again to complete the missing samples" in err
    [run] = load_runs(tmp_path / "results").to_dict("records")
    assert run["status"] == "interrupted"  # rank 0 was stopped (SIGTERM) and said so
    kept = load_samples(tmp_path / "results")
    assert 0 < len(kept) < 12 and not kept["sample_id"].duplicated().any()

    cli(*args[:3], "batch_size=1", "flush_s=0", "workers=2", check=True)
    [run] = load_runs(tmp_path / "results").to_dict("records")
    assert run["status"] == "complete" and run["n_samples"] == 12
    ids = load_samples(tmp_path / "results")["sample_id"]
    assert sorted(ids) == [f"parity-{i:03d}" for i in range(12)]


def test_workers_and_devices_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalharness.cli.ranks import RanksError, requested

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # restored after the test, whatever is set
    assert requested(["model=oracle"]) is None
    assert requested(["workers=3"]) == 3
    assert requested(["devices=0,1,2,3"]) == 4
    assert requested(["workers=1"]) is None  # one rank: this process
    assert requested(["devices=2"]) is None and os.environ["CUDA_VISIBLE_DEVICES"] == "2"
    with pytest.raises(RanksError, match="one rank per device"):
        requested(["workers=2", "devices=0,1,2"])
    with pytest.raises(RanksError, match="whole number"):
        requested(["workers=two"])
    with pytest.raises(RanksError, match="-m shards=N"):
        requested(["-m", "model=a,b", "workers=2"])
    monkeypatch.setenv("WORLD_SIZE", "2")  # a rank already: the launcher's settings hold
    assert requested(["workers=2"]) is None


def test_a_bad_workers_setting_is_one_line(cli: RunCLI) -> None:
    proc = cli("run", "model=oracle", "benchmark=example_parity", "workers=2", "devices=0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "error: workers=2 with 1 devices: one rank per device" in proc.stderr
