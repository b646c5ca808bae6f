"""`suite=openvlm` through the command line on tiny copies of its datasets: a tiny VLM, the
oracle and BLIP-2 (which declines items with several images) run it, and the board shows the
suite's average and the share of items each run answered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import openvlm_data as data

MINE = ("mmmu", "mme", "ocrbench", "chartqa", "docvqa", "mathvista")


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
    }
    suite = (Path(__file__).parents[2] / "configs" / "suite" / "openvlm.yaml").read_text()
    assert all(f"  - {name}\n" in suite for name in MINE)
    common = [f"benchmark_args.{n}.path={p}" for n, p in paths.items()]
    common += ["suite=openvlm", "results_dir=results", "progress=false", "max_error_rate=1"]
    proc = _cli(tmp_path, "run", "-m", "model=oracle,tiny_qwen2_vl,tiny_blip2", *common)
    assert proc.returncode == 0, proc.stderr[-3000:]

    proc = _cli(tmp_path, "leaderboard", "--results", "results", "--out", "site")
    assert proc.returncode == 0, proc.stderr[-3000:]
    index = (tmp_path / "site" / "index.html").read_text()
    assert "suite=openvlm: average" in index and "OpenVLM leaderboard" in index
    section = index[index.index("suite=openvlm: average") :]
    # the oracle is right everywhere: its average is 100 on every benchmark's scale
    oracle = section[section.index(">oracle<") :]
    assert 'data-v="1.0"' in oracle[:400] and "6 of 6" in oracle[:600]
    # BLIP-2 takes one image per prompt: it declines MMMU's item with two (1 of 3 items)
    assert "answered 67 %" in index
