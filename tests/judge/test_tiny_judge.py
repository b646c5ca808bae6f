"""A tiny random-weight HF checkpoint as the judge, through the CLI end to end: it is asked about
the agreement share, its raw replies are stored (random weights answer outside the labels: the
reason is kept, nothing is imputed), and the same command again asks it nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCLI

from evalharness.store import load_runs, load_samples


@pytest.mark.slow
def test_tiny_hf_judge_end_to_end(cli: RunCLI, tmp_path: Path) -> None:
    args = ("run", "model=oracle", "benchmark=synth_vqa", "limit=4", "judge=tiny")
    first = cli(*args, "judge.agreement=1.0", check=True)
    assert "judge tiny-qwen2-vl for synth_vqa: 4 calls" in first.stderr
    rows = load_samples(tmp_path / "results")
    assert (rows["read_status"] == "rule").all()  # the oracle's answers: the rules read them all
    assert rows["judge_reply"].map(lambda r: isinstance(r, str)).all()
    assert rows["judge_prompt_hash"].str.len().eq(16).all()
    judged = rows["judge_answer"].notna()
    # whatever the random judge said, each reply is either a label or has its reason
    assert (judged | rows["judge_reason"].notna()).all()
    assert rows["judge_agrees"].notna().all()

    again = cli(*args, "judge.agreement=1.0", check=True)
    assert "judge tiny-qwen2-vl" not in again.stderr  # every verdict from the cache
    runs = load_runs(tmp_path / "results")
    assert len(runs) == 1 and runs.iloc[0]["status"] == "complete"


@pytest.mark.slow
def test_tiny_hf_judge_reads_hallusionbench_officially(cli: RunCLI, tmp_path: Path) -> None:
    from hub.test_yes_no import hallusion_file

    file = hallusion_file(tmp_path)
    args = (
        "run",
        "model=oracle",
        "benchmark=hallusionbench",
        f"benchmark.args.data_files={file}",
        "benchmark.args.split=image",
        "judge=tiny",
    )
    first = cli(*args, check=True)
    assert "judge tiny-qwen2-vl for hallusionbench: 4 calls" in first.stderr
    rows = load_samples(tmp_path / "results")
    # whatever the random judge said, the script's reading gives every reply a verdict
    assert rows["judge_reply"].map(lambda r: isinstance(r, str)).all()
    assert rows["judge_answer"].isin(["correct", "incorrect", "uncertain"]).all()
    assert (rows["read_status"] == "judge").all()
    assert (rows["metric_official_judged"] == 1.0).all()
    assert (rows["metric_robust"] == 1.0).all()  # the oracle's answers, read by the rules
    assert rows["judge_agrees"].notna().all()

    again = cli(*args, check=True)
    assert "judge tiny-qwen2-vl" not in again.stderr  # every verdict from the cache
