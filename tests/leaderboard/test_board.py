"""Which runs are ranked together, and the model and benchmark tables of the board."""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalharness.leaderboard._runs import (
    build_board,
    format_params,
    size_bucket,
    unranked_summary,
)


def _run(run_id: str, model: str, benchmark: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run_id, "model": model, "model_name": "hf", "model_family": "generative",
        "model_params": 7e9, "reference": False, "blind": False, "benchmark": benchmark,
        "benchmark_version": "2", "capability": "vqa", "data_hash": "h", "status": "complete",
        "score": 0.5, "score_ci_low": 0.4, "score_ci_high": 0.6, "n_samples": 100,
        "started_at": "2025-01-01T00:00:00+00:00", "finished_at": "2025-01-01T01:00:00+00:00",
    }  # fmt: skip
    row.update(kw)
    return row


def _reasons(runs: list[dict[str, Any]], **kw: Any) -> dict[str, str]:
    board = build_board(pd.DataFrame(runs), **kw)
    return dict(zip(board.runs["run_id"], board.runs["reason"], strict=True))


def test_only_the_newest_benchmark_version_is_ranked() -> None:
    reasons = _reasons([
        _run("a", "m1", "b", benchmark_version="1", finished_at="2025-01-01T00:00:00"),
        _run("b", "m2", "b", benchmark_version="2", finished_at="2025-02-01T00:00:00"),
        _run("c", "m1", "b", benchmark_version="2", finished_at="2025-01-15T00:00:00"),
    ])  # fmt: skip
    assert reasons["b"] == reasons["c"] == ""
    assert "benchmark version 1" in reasons["a"] and "shows 2" in reasons["a"]


def test_pinned_versions_override_the_newest() -> None:
    runs = [
        _run("a", "m1", "b", benchmark_version="1", finished_at="2025-01-01"),
        _run("b", "m2", "b", benchmark_version="2", finished_at="2025-02-01"),
    ]
    reasons = _reasons(runs, versions={"b": "1"})
    assert reasons["a"] == "" and "benchmark version 2" in reasons["b"]


def test_incomplete_runs_and_other_sample_sets_are_kept_apart() -> None:
    reasons = _reasons([
        _run("ok", "m1", "b"),
        _run("ok2", "m2", "b"),
        _run("fail", "m3", "b", status="failed", score=float("nan")),
        _run("live", "m4", "b", status="running", finished_at=""),
        _run("lim", "m5", "b", data_hash="other", n_samples=10, limit=10.0),
        _run("noscore", "m6", "b", score=float("nan")),
        _run("matcher", "m7", "b", score=float("nan"), n_unsupported=100),
    ])  # fmt: skip
    assert reasons["ok"] == reasons["ok2"] == ""
    assert reasons["fail"] == "run failed"
    why = "error rate 5/10 above max_error_rate=0.1"
    failed = _reasons([_run("ok", "m1", "b"), _run("bad", "m2", "b", score=1.0, status="failed",
                                                   status_reason=why)])  # fmt: skip
    assert failed == {"ok": "", "bad": f"run failed: {why}"}
    assert reasons["live"] == "run running"
    assert reasons["lim"] == "a different sample set (10 samples, limit=10)"
    assert reasons["noscore"] == "complete but without a score"
    assert reasons["matcher"].startswith("the model cannot answer these items")


def test_a_newer_run_of_the_same_model_supersedes_the_older() -> None:
    reasons = _reasons([
        _run("old", "m1", "b", finished_at="2025-01-01"),
        _run("new", "m1", "b", finished_at="2025-03-01"),
        _run("other", "m2", "b", finished_at="2025-02-01"),
    ])  # fmt: skip
    assert reasons["new"] == reasons["other"] == ""
    assert reasons["old"] == "superseded by a newer run of this model"


def test_models_table_kinds_twins_sizes_and_coverage() -> None:
    board = build_board(pd.DataFrame([
        _run("1", "llava", "b1"), _run("2", "llava", "b2"),
        _run("3", "llava (blind)", "b1", blind=True),
        _run("4", "oracle", "b1", reference=True, model_family="reference", model_params=float("nan")),
        _run("5", "tiny", "b1", model_params=5e7, capability="counting"),
    ]))  # fmt: skip
    m = board.models.set_index("name")
    assert list(m.loc[["llava", "llava (blind)", "oracle", "tiny"], "kind"]) == [
        "model",
        "blind",
        "reference",
        "model",
    ]
    assert m.loc["llava", "twin"] == board.models.index[board.models["name"] == "llava (blind)"][0]
    assert m.loc["llava (blind)", "twin"] == board.models.index[board.models["name"] == "llava"][0]
    assert m.loc["llava", "full"] and not m.loc["tiny", "full"]
    assert m.loc["tiny", "size"] == "< 1B" and m.loc["oracle", "size"] == "unknown"
    assert m.loc["llava", "size"] == "3–10B"


def test_benchmarks_in_capability_order_with_display_scale() -> None:
    board = build_board(pd.DataFrame([
        _run("1", "m", "zz_counting", capability="counting"),
        _run("2", "m", "aa_custom", capability="custom_cap", score=42.0, score_ci_low=40.0,
             score_ci_high=44.0),
        _run("3", "m", "mm_vqa", capability="vqa"),
    ]))  # fmt: skip
    b = board.benchmarks
    assert list(b["name"]) == ["mm_vqa", "zz_counting", "aa_custom"]
    assert list(b["percent"]) == [True, True, False]


def test_missing_columns_and_keys_never_come_from_raw_names() -> None:
    board = build_board(pd.DataFrame([{"run_id": "x", "model": "<b>", "benchmark": "../../b"}]))
    row = board.runs.iloc[0]
    assert row["reason"] == "run of unknown status"
    for key in ("rkey", "mkey", "bkey", "bvkey"):
        assert all(ch.isalnum() or ch == "-" for ch in row[key])


def test_format_params_and_buckets() -> None:
    assert format_params(7.2e9) == "7.2B"
    assert format_params(1.3e8) == "130M"
    assert format_params(float("nan")) == "—"
    assert size_bucket(2e11) == "≥ 100B"


def test_the_command_line_summary_groups_unranked_runs_and_says_what_to_do() -> None:
    board = build_board(pd.DataFrame([
        _run("new", "m1", "b", benchmark_version="3", finished_at="2025-02-01"),
        _run("old1", "m2", "b", benchmark_version="2", finished_at="2025-01-01"),
        _run("old2", "m3", "b", benchmark_version="2", finished_at="2025-01-01"),
        _run("fail", "m4", "b", status="failed", score=float("nan")),
        _run("noscore", "m6", "b", score=float("nan")),
    ]))  # fmt: skip
    assert unranked_summary(board) == [
        "4 runs not ranked (the site lists each under Other runs):",
        "  2 of another benchmark version than the board's: `evalharness rescore` brings older "
        "ones to the current version where their questions are unchanged; then build again",
        "  1 not complete (failed, interrupted or running): run their command again",
        "  1 complete but without a score",
    ]
    assert unranked_summary(build_board(pd.DataFrame([_run("new", "m1", "b")]))) == []


def test_fallback_draws_of_a_bounded_score_stay_within_its_bounds() -> None:
    from evalharness.leaderboard._scores import compute

    # no samples to resample (the fallback: normal draws from the stored CI); a score of 0 whose
    # exact interval is wide, as for 0 right of one image
    runs = [
        _run("zero", "m1", "b", score=0.0, score_ci_low=0.0, score_ci_high=0.975),
        _run("top", "m2", "b", score=1.0, score_ci_low=0.025, score_ci_high=1.0),
    ]

    def overall(rows: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
        board = build_board(pd.DataFrame(rows))
        out = compute(board, {}).overall
        keys = dict(zip(board.runs["model"], board.runs["mkey"], strict=True))
        return {m: (out.loc[k, "lo"], out.loc[k, "hi"]) for m, k in keys.items()}

    bounded = overall([{**r, "score_bounded": True} for r in runs])
    assert all(0.0 <= lo <= hi <= 1.0 for lo, hi in bounded.values())
    assert bounded["m1"][0] == 0.0 and bounded["m2"][1] == 1.0
    # a score on another scale (or a run stored without saying) is not clipped
    free = overall(runs)
    assert free["m1"][0] < 0.0 and free["m2"][1] > 1.0
