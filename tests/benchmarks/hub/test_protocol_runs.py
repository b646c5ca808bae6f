"""Both readings through a real run, rescore and the board: POPE answered in sentences."""

from __future__ import annotations

import re
from pathlib import Path

from evalharness.leaderboard import build_site
from evalharness.store import ResultsStore, load_runs, load_samples

from .fixtures import run, write_parquet
from .test_loading import pope_rows

# labels alternate yes, no; the replies are clear to us, and read otherwise by POPE's script
REPLIES = {
    "random-0": "Yes, there is a dog.",  # yes: right both ways
    "random-1": "No!",  # no to us; "yes" to the script (the word is "No!")
    "random-2": "I cannot tell.",  # unreadable to us: wrong; "yes" to the script: right
    "random-3": "Not really.",  # no to us; "yes" to the script ("Not" is not "not")
}


def test_a_run_stores_both_readings_and_the_board_shows_the_parse_gap(tmp_path: Path) -> None:
    rows, features = pope_rows(4)
    file = write_parquet(tmp_path / "pope.parquet", rows, features)
    result, stored = run(tmp_path, "pope", {"path": str(file)}, model="table", answers=REPLIES)
    assert stored["metric_robust"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert stored["metric_official"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert stored["score"].tolist() == stored["metric_official"].tolist()  # the headline
    assert result.metrics["official"].value == 0.5 and result.metrics["robust"].value == 0.75
    assert result.metrics["score"] == result.metrics["official"]
    # the script reads every reply as yes: nothing said no, precision 2 of 4
    assert result.metrics["official/yes_ratio"].value == 1.0
    assert result.metrics["official/precision"].value == 0.5

    results = next(tmp_path.glob("results-table-*"))
    site = build_site(results, tmp_path / "site", title="t")
    gaps = re.findall(r'<small class="parse-gap"[^>]*>([^<]*)</small>', site.read_text())
    assert gaps == ["parse +25.0"]  # robust 0.75 − official 0.50, ×100


def test_rescore_brings_a_run_of_one_reading_to_both_without_the_model(tmp_path: Path) -> None:
    from evalharness.runner.rescore import rescore

    rows, features = pope_rows(4)
    file = write_parquet(tmp_path / "pope.parquet", rows, features)
    run(tmp_path, "pope", {"path": str(file)}, model="table", answers=REPLIES)
    results = next(tmp_path.glob("results-table-*"))
    # the run as a harness with one reading left it: an older version, no protocol columns
    store = ResultsStore(results)
    [row] = load_runs(results).to_dict("records")
    store.write_run({**row, "benchmark_version": "1+00000000", "score": 0.75, "metrics": "{}"})
    frame = store.read_samples(row["run_id"])
    store.compact(row["run_id"], frame.drop(columns=[c for c in frame if c.startswith("metric_")]))
    assert rescore(results) == 1  # the stored raw answers, no model: the table model is not asked
    [after] = load_runs(results).to_dict("records")
    assert after["benchmark_version"] == row["benchmark_version"] and after["score"] == 0.5
    samples = load_samples(results)
    assert samples["metric_official"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert samples["metric_robust"].tolist() == [1.0, 1.0, 0.0, 1.0]


def test_the_scripts_division_by_zero_is_nan_with_its_reason_on_the_board(tmp_path: Path) -> None:
    rows, features = pope_rows(4)
    file = write_parquet(tmp_path / "pope.parquet", rows, features)
    answers = {f"random-{i}": "No, there is not." for i in range(4)}  # nothing read as yes
    result, _ = run(tmp_path, "pope", {"path": str(file)}, model="table", answers=answers)
    precision = result.metrics["official/precision"]
    assert precision.value != precision.value  # NaN, not an exception
    assert precision.note == "POPE's evaluate.py divides by zero: no reply was read as yes"
    assert result.metrics["official"].value == 0.5  # the accuracy is still defined
    results = next(tmp_path.glob("results-table-*"))
    site = build_site(results, tmp_path / "site", title="t")
    page = next((site.parent / "benchmarks").glob("pope*.html")).read_text()
    assert "divides by zero: no reply was read as yes" in page
