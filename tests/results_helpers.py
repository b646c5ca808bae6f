"""Comparing whole results folders: the runs and samples of two ways of running the same."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from evalharness.store import load_runs, load_samples

# columns that say when or how fast, not what: they differ between any two runs
VOLATILE = {"started_at", "finished_at", "latency_s", "harness_commit"}


def _config(text: str) -> str:
    config = json.loads(text)
    config.pop("results_dir")  # the two folders compared differ in this alone
    return json.dumps(config, sort_keys=True)


def same_results(a: Path, b: Path) -> None:
    """Two results folders hold the same runs and samples (timing aside)."""
    runs_a, runs_b = load_runs(a), load_runs(b)
    runs_a["config"], runs_b["config"] = (
        runs_a["config"].map(_config),
        runs_b["config"].map(_config),
    )
    cols = sorted(set(runs_a.columns) - VOLATILE)
    pd.testing.assert_frame_equal(
        runs_a[cols].sort_values("run_id").reset_index(drop=True),
        runs_b[cols].sort_values("run_id").reset_index(drop=True),
    )
    samples_a, samples_b = load_samples(a), load_samples(b)
    cols = sorted(set(samples_a.columns) - VOLATILE)
    key = ["run_id", "sample_id"]
    pd.testing.assert_frame_equal(
        samples_a[cols].sort_values(key).reset_index(drop=True),
        samples_b[cols].sort_values(key).reset_index(drop=True),
    )


def wait_for_answers(results: Path, timeout_s: float = 60) -> None:
    """Wait until a run writing into `results` has saved its first answers (it is under way)."""
    parts = results / "samples"
    deadline = time.monotonic() + timeout_s
    while not any(parts.glob("*/part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
