"""With a judge, each run carries the shares of replies read by rule, by the judge and by
neither, and the judge's agreement with the rules, each with a CI; the board shows them and
flags a judge below its threshold."""

from __future__ import annotations

import json
from pathlib import Path

from judge_helpers import judge_of, run

from evalharness.leaderboard import build_site
from evalharness.store import load_runs, load_samples


def test_shares_and_agreement_are_stored_with_cis(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run(results, judge_of(results, agreement=1.0))
    row = load_runs(results).iloc[0]
    metrics = json.loads(row["metrics"])
    # 3 read by rule, 2 by the judge, 1 by neither
    assert metrics["read_rule"]["value"] == 0.5
    assert abs(metrics["read_judge"]["value"] - 2 / 6) < 1e-9
    assert abs(metrics["read_unreadable"]["value"] - 1 / 6) < 1e-9
    # the fake judge names no answer where the reply states no pick: it never agrees
    samples = load_samples(results).set_index("sample_id")
    assert samples.loc[["plain", "stated", "wrong"], "judge_agrees"].tolist() == [0.0] * 3
    agreement = metrics["judge_agreement"]
    assert agreement["value"] == 0.0 and agreement["n"] == 3
    assert agreement["ci_low"] == 0.0 and 0 < agreement["ci_high"] < 1
    judge = json.loads(row["judge"])
    assert judge["flagged"] is True and judge["agreement"] == 0.0


def test_board_shows_shares_and_flags_a_judge_below_threshold(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run(results, judge_of(results, agreement=1.0))
    index = build_site(results, tmp_path / "site")
    page = next((index.parent / "benchmarks").glob("*.html")).read_text()
    for column in ("read_rule", "read_judge", "read_unreadable", "judge_agreement"):
        assert f">{column}</th>" in page
    assert "judge below threshold" in page
    assert "agrees with the rules on 0% of the replies both read, below 80%" in page
    # the main table's cell says how its replies were read
    assert "read: rule 50 %, judge 33 %, none 17 %" in index.read_text()


def test_a_judge_that_agrees_is_not_flagged(tmp_path: Path) -> None:
    results = tmp_path / "results"
    replies = {"a": "B pick:B", "b": "C pick:C", "c": "Either A or B pick:A"}
    from judge_helpers import Options, Replier

    run(results, judge_of(results, agreement=1.0), Replier(replies), Options(list(replies)))
    metrics = json.loads(load_runs(results).iloc[0]["metrics"])
    assert metrics["judge_agreement"]["value"] == 1.0
    index = build_site(results, tmp_path / "site")
    page = next((index.parent / "benchmarks").glob("*.html")).read_text()
    assert ">judged</span>" in page and "judge below threshold" not in page
