"""Rules first, judge second: the judge reads only what the rules cannot, every verdict is stored
with its route, raw reply and prompt hash, a rerun or rescore asks it nothing, and a judge that
fails or answers outside its labels leaves the sample unreadable with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from conftest import RunCLI
from judge_helpers import REPLIES, Options, Replier, RuleJudge, judge_of, run

from evalharness.judge import CACHE_FILE
from evalharness.runner.rescore import rescore
from evalharness.store import load_runs, load_samples


def rows(results: Path) -> pd.DataFrame:
    return load_samples(results).set_index("sample_id")


def test_judge_reads_only_what_the_rules_cannot(tmp_path: Path) -> None:
    RuleJudge.asked.clear()
    results = tmp_path / "results"
    run(results, judge_of(results))
    got = rows(results)
    assert got["read_status"].to_dict() == {
        "plain": "rule",
        "stated": "rule",
        "wrong": "rule",
        "torn": "judge",
        "torn_wrong": "judge",
        "undecided": "unreadable",
    }
    assert len(RuleJudge.asked) == 3  # the three the rules could not read, nothing else
    assert got.loc["torn", "extracted"] == "dog" and got.loc["torn", "score"] == 1.0
    assert got.loc["torn_wrong", "extracted"] == "cat" and got.loc["torn_wrong", "score"] == 0.0
    assert got.loc["torn", "judge_reply"] == "Answer: B"
    assert got.loc["torn", "judge_answer"] == "B"
    assert len(got.loc["torn", "judge_prompt_hash"]) == 16
    # "none" is never turned into an option: unreadable, scored wrong, the reason kept
    assert got.loc["undecided", "judge_reply"] == "none"
    assert pd.isna(got.loc["undecided", "extracted"]) and got.loc["undecided", "score"] == 0.0
    assert "none" in got.loc["undecided", "judge_reason"]
    for sid in ("plain", "stated", "wrong"):  # the rules' readings are left alone
        assert pd.isna(got.loc[sid, "judge_reply"]) and pd.isna(got.loc[sid, "judge_prompt_hash"])
    assert got["prediction"].to_dict() == REPLIES  # the raw replies are kept whole


def test_without_a_judge_the_columns_are_there_and_empty(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run(results, None)
    got = rows(results)
    assert (got["read_status"] == "unreadable").sum() == 3
    assert got["judge_reply"].isna().all() and got["judge_agrees"].isna().all()
    assert load_runs(results).iloc[0]["judge"] == ""


def test_rerun_and_rescore_ask_the_judge_nothing(tmp_path: Path) -> None:
    RuleJudge.asked.clear()
    results = tmp_path / "results"
    first = judge_of(results, agreement=1.0)
    run(results, first)
    asked = len(RuleJudge.asked)
    assert asked == len(REPLIES) and first.calls == asked
    assert (results / CACHE_FILE).is_file()
    before = rows(results)

    again = judge_of(results, agreement=1.0)  # a new process: only the results folder is shared
    model = Replier()
    run(results, again, model)
    assert model.calls == 0 and again.calls == 0 and len(RuleJudge.asked) == asked
    assert again.cache.hits == asked and again.cache.misses == 0  # 100 % cache hits
    pd.testing.assert_frame_equal(rows(results), before)

    assert rescore(results) == 1
    assert len(RuleJudge.asked) == asked  # rescored from the cache too
    pd.testing.assert_frame_equal(rows(results)[before.columns], before)


def test_judge_is_part_of_the_run_key_and_takes_over_the_models_answers(tmp_path: Path) -> None:
    results = tmp_path / "results"
    plain = run(results, None)
    model = Replier()
    judged = run(results, judge_of(results), model)
    assert judged.run_id != plain.run_id
    assert model.calls == 0  # the answers of the run without a judge are taken over
    runs = load_runs(results).set_index("run_id")
    summary = json.loads(runs.loc[judged.run_id, "judge"])
    assert summary["key"]["name"] == "rule_judge" and summary["key"]["prompts"]
    assert summary["settings"]["model"]["name"] == "rule_judge"


def test_bad_judges_leave_samples_unreadable_with_the_reason(tmp_path: Path) -> None:
    """A judge answering outside its labels, timing out or crashing: the run goes on, and each
    such sample stays unreadable (never a random option) with why."""
    replies = {
        "junk": "A or B JUNK",
        "slow": "A or B SLOW",
        "boom": "A or B BOOM",
        "fine": "A or B pick:B",
    }
    results = tmp_path / "results"
    result = run(results, judge_of(results), Replier(replies), Options(list(replies)))
    assert result.n_errors == 0
    got = rows(results)
    assert got["read_status"].to_dict() == {
        "junk": "unreadable",
        "slow": "unreadable",
        "boom": "unreadable",
        "fine": "judge",
    }
    assert "outside the allowed labels: 'purple'" in got.loc["junk", "judge_reason"]
    assert got.loc["junk", "judge_reply"] == "purple"
    assert "timed out" in got.loc["slow", "judge_reason"]
    assert "judge crashed" in got.loc["boom", "judge_reason"]
    assert got.loc[["junk", "slow", "boom"], "extracted"].isna().all()
    assert (got.loc[["junk", "slow", "boom"], "score"] == 0.0).all()
    assert load_runs(results).iloc[0]["status"] == "complete"


def test_unknown_judge_model_is_refused_before_anything_runs(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli(
        "run",
        "model=oracle",
        "benchmark=synth_counting",
        "limit=2",
        "judge=tiny",
        "judge.model.name=tiny_qwen_vl",
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Unknown model 'tiny_qwen_vl'" in lines[0] and "tiny_qwen2_vl" in lines[0]
    assert not (tmp_path / "results" / "runs").exists()  # nothing ran


def test_bad_judge_setting_is_refused_in_one_line(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli("run", "model=oracle", "benchmark=synth_counting", "judge=tiny", "judge.agreement=2")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: oracle: judge.agreement is a share from 0 to 1, got 2.0."
    ]
    assert not (tmp_path / "results" / "runs").exists()


def test_rescore_skips_a_run_whose_judge_cannot_be_built(tmp_path: Path) -> None:
    from evalharness import registry

    results = tmp_path / "results"
    run(results, judge_of(results))
    before = rows(results)
    factory = registry.models._extra.pop("rule_judge")  # its plugin uninstalled, say
    try:
        assert rescore(results) == 0
    finally:
        registry.models.register("rule_judge", factory)
    pd.testing.assert_frame_equal(rows(results), before)
    assert load_runs(results).iloc[0]["status"] == "complete"
