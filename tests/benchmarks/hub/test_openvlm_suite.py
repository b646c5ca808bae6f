"""`suite=openvlm` through the command line on tiny copies of its datasets: a tiny VLM, the
oracle and BLIP-2 (which declines items with several images) run it, and the board shows the
suite's average and the share of items each run answered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo_paths import REPO

from . import openvlm_data as data
from .test_choice import (
    ai2d_file,
    mmbench_copy,
    mmstar_file,
    realworldqa_file,
    scienceqa_dir,
    seedbench_file,
)

TWELVE = (
    "mmbench",
    "mmstar",
    "mmmu",
    "mathvista",
    "ocrbench",
    "ai2d",
    "scienceqa_img",
    "seedbench_img",
    "realworldqa",
    "mme",
    "chartqa",
    "docvqa",
)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    code = f"from evalharness.cli.main import main; main({list(args)!r})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_suite_openvlm_runs_and_the_board_averages_it(tmp_path: Path) -> None:
    paths = {
        "mmmu": data.mmmu(tmp_path / "mmmu"),
        "mme": data.mme(tmp_path / "mme"),
        "ocrbench": data.ocrbench(tmp_path / "ocrbench"),
        "chartqa": data.chartqa(tmp_path / "chartqa"),
        "docvqa": data.docvqa(tmp_path / "docvqa"),
        "mathvista": data.mathvista(tmp_path / "mathvista"),
        "mmbench": Path(mmbench_copy(tmp_path)["data_files"]["dev"]),
        "mmstar": mmstar_file(tmp_path),
        "ai2d": ai2d_file(tmp_path),
        "scienceqa_img": scienceqa_dir(tmp_path),
        "seedbench_img": seedbench_file(tmp_path),
        "realworldqa": realworldqa_file(tmp_path),
    }
    suite = (REPO / "configs" / "suite" / "openvlm.yaml").read_text()
    assert sorted(line[4:] for line in suite.splitlines() if line.startswith("  - ")) == sorted(
        TWELVE
    )
    common = [f"benchmark_args.{n}.path={p}" for n, p in paths.items()]
    common += ["suite=openvlm", "results_dir=results", "progress=false", "max_error_rate=1"]
    proc = _cli(tmp_path, "run", "-m", "model=oracle,tiny_qwen2_vl,tiny_blip2", *common)
    assert proc.returncode == 0, proc.stderr[-3000:]

    proc = _cli(tmp_path, "leaderboard", "--results", "results", "--out", "site")
    assert proc.returncode == 0, proc.stderr[-3000:]
    index = (tmp_path / "site" / "index.html").read_text()
    assert "suite=openvlm: average" in index and "OpenVLM leaderboard" in index
    section = index[index.index("suite=openvlm: average") :]
    # the oracle has every benchmark (its average is below 100 only by the copies' bad rows,
    # which are recorded errors)
    oracle = section[section.index(">oracle<") :]
    assert "12 of 12" in oracle[:600]
    # BLIP-2 takes one image per prompt: it declines MMMU's item with two (1 of 3 items)
    assert "answered 67 %" in index


def test_suite_average_is_the_plain_mean_with_a_combined_interval() -> None:
    from evalharness.leaderboard._suites import SuiteAverage, averaged_suites, suite_rows

    [openvlm] = [s for s in averaged_suites() if s.name == "openvlm"]
    assert "divided by 28" in openvlm.definition and sorted(openvlm.benchmarks) == sorted(TWELVE)
    suite = SuiteAverage("s", ("mme", "ocrbench", "mmmu"), "mean")
    benches = {"b1": {"name": "mme"}, "b2": {"name": "ocrbench"}, "b3": {"name": "mmmu"}}
    models = {"m": {"name": "m", "kind": "model"}, "n": {"name": "n", "kind": "model"}}

    def run(score: float, lo: float, hi: float) -> dict[str, float]:
        return {"score": score, "score_ci_low": lo, "score_ci_high": hi}

    cells = {
        ("m", "b1"): run(0.5, 0.4, 0.6),  # MME's total / 2800
        ("m", "b2"): run(0.8, 0.7, 0.9),  # OCRBench's final score / 1000
        ("m", "b3"): run(0.95, 0.8, 1.0),
        ("n", "b1"): run(0.2, 0.1, 0.3),
    }
    full, partial = suite_rows(suite, cells, benches, models)
    assert full["mean"] == pytest.approx((0.5 + 0.8 + 0.95) / 3) and full["covered"] == 3
    se = [0.1 / 1.96, 0.1 / 1.96, 0.1 / 1.96]
    half = 1.96 * sum(x * x for x in se) ** 0.5 / 3
    assert full["hi"] == pytest.approx(min(1.0, full["mean"] + half))
    assert full["lo"] == pytest.approx(full["mean"] - half)
    assert partial["name"] == "n" and partial["covered"] == 1 and not partial["full"]
