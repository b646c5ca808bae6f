"""`evalharness rescore` in-process: scores redone from raw outputs, runs brought to the current
benchmark version when their outputs still answer what it asks, and skipped when they do not."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalharness import extract
from evalharness.benchmarks.base import version_string
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.runner.rescore import rescore
from evalharness.store import ResultsStore, load_runs, load_samples


def spec(tmp_path: Path, limit: int | None = None, **kw: Any) -> RunSpec:
    """A random-model run of synth_vqa (five question kinds) into tmp_path/results."""
    return RunSpec(
        model=ModelSpec(name="random"),
        benchmarks=(BenchmarkSpec("synth_vqa", {"n": 10}),),
        results_dir=str(tmp_path / "results"),
        progress=False,
        limit=limit,
        **kw,
    )


def run(tmp_path: Path, limit: int | None = None, **kw: Any) -> dict[str, Any]:
    """One random-model run of synth_vqa; its runs-table row."""
    run_job(spec(tmp_path, limit, **kw))
    [row] = load_runs(tmp_path / "results").to_dict("records")
    return row


def edit(
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    change_rows: Callable[[pd.DataFrame], None] | None = None,
) -> None:
    """Rewrite the one stored run as an older harness would have left it, scores spoilt."""
    store = ResultsStore(tmp_path / "results")
    [row] = load_runs(tmp_path / "results").to_dict("records")
    change(row)
    store.write_run({**row, "score": -1.0, "metrics": "{}"})
    frame = store.read_samples(row["run_id"])
    frame["score"] = -1.0
    if change_rows is not None:
        change_rows(frame)
    store.compact(row["run_id"], frame.drop(columns=[c for c in frame if c.startswith("metric_")]))


def older_version(row: dict[str, Any]) -> None:
    row["benchmark_version"] = "1+00000000"


def test_rescore_of_a_limited_run_gives_the_run_s_own_metrics(tmp_path: Path) -> None:
    """Only the run's samples count: no per-kind score for a kind the first 5 do not ask."""
    before = run(tmp_path, limit=5)
    edit(tmp_path, lambda row: None)
    assert rescore(tmp_path / "results") == 1
    [after] = load_runs(tmp_path / "results").to_dict("records")
    assert json.loads(after["metrics"]) == json.loads(before["metrics"])
    assert after["score"] == before["score"]


def test_a_run_of_an_older_version_with_the_same_questions_is_brought_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(tmp_path)
    want = load_samples(tmp_path / "results").sort_values("sample_id")["score"].tolist()
    edit(tmp_path, older_version)
    assert rescore(tmp_path / "results") == 1
    assert f"(v1+00000000 → v{before['benchmark_version']})" in capsys.readouterr().out
    [after] = load_runs(tmp_path / "results").to_dict("records")
    assert after["benchmark_version"] == before["benchmark_version"]
    assert after["run_id"] == before["run_id"] and after["score"] == before["score"]
    assert load_samples(tmp_path / "results").sort_values("sample_id")["score"].tolist() == want


def test_a_run_of_an_older_version_with_a_set_answer_length_is_brought_up_to_date(
    tmp_path: Path,
) -> None:
    before = run(tmp_path, max_new_tokens=7, config={"max_new_tokens": 7})
    assert json.loads(before["generation"])["max_new_tokens"] == 7
    edit(tmp_path, older_version)
    assert rescore(tmp_path / "results") == 1
    assert load_runs(tmp_path / "results").loc[0, "score"] == before["score"]


def test_a_new_extraction_version_gives_every_benchmark_a_new_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from evalharness.runner.job import load_benchmark

    before = version_string("1", {"n": 3}, "template")
    vqa = load_benchmark(BenchmarkSpec("synth_vqa", {})).version
    monkeypatch.setattr(extract, "VERSION", extract.VERSION + "-next")
    assert version_string("1", {"n": 3}, "template") != before
    assert load_benchmark(BenchmarkSpec("synth_vqa", {})).version != vqa


def changed_prompt(frame: pd.DataFrame) -> None:
    frame.loc[frame.index[0], "prompt"] = "What colour is it? Answer in French."


@pytest.mark.parametrize(
    ("change", "change_rows", "reason"),
    [
        (lambda row: row.update(data_hash="0" * 32), None, "its samples have changed"),
        (
            lambda row: row.update(generation=json.dumps({"max_new_tokens": 99, "stop": []})),
            None,
            "its generation settings have changed",
        ),
        (lambda row: None, changed_prompt, "its prompts have changed"),
    ],
)
def test_a_run_asked_differently_is_skipped_with_the_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    change_rows: Callable[[pd.DataFrame], None] | None,
    reason: str,
) -> None:
    before = run(tmp_path)

    def older(row: dict[str, Any]) -> None:
        older_version(row)
        change(row)

    edit(tmp_path, older, change_rows)
    assert rescore(tmp_path / "results") == 0
    out = capsys.readouterr().out
    assert f"stored v1+00000000, now v{before['benchmark_version']}; {reason}" in out
    [after] = load_runs(tmp_path / "results").to_dict("records")
    assert after["benchmark_version"] == "1+00000000" and after["score"] == -1.0


def test_a_benchmark_with_no_runs_is_refused_with_the_stored_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evalharness.errors import EvalharnessError

    row = run(tmp_path)
    capsys.readouterr()  # the run's own summary
    with pytest.raises(EvalharnessError, match=r"no runs of benchmark 'synth_vqq'.*'synth_vqa'"):
        rescore(tmp_path / "results", ["synth_vqq"])
    assert rescore(tmp_path / "results", ["synth_vqa"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"rescored random × synth_vqa (run {row['run_id']}): score")
    assert out[-1] == "1 run rescored."


def test_a_run_whose_benchmark_cannot_be_built_is_skipped_and_the_rest_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(tmp_path)
    store = ResultsStore(tmp_path / "results")
    [row] = load_runs(tmp_path / "results").to_dict("records")
    gone = {**row, "run_id": "0" * 16, "benchmark": "uninstalled_plugin_bench"}
    gone["benchmark_spec"] = json.dumps({"name": "uninstalled_plugin_bench", "args": {}})
    store.write_run(gone)
    assert rescore(tmp_path / "results") == 1
    out = capsys.readouterr().out
    assert "skip random × uninstalled_plugin_bench" in out and "cannot be built here" in out
    assert out.splitlines()[-1] == "1 run rescored, 1 skipped (each line above says why)."


def test_an_unfinished_run_is_left_as_stored_and_said_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(tmp_path)
    edit(tmp_path, lambda row: row.update(status="interrupted"))
    assert rescore(tmp_path / "results") == 0
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "interrupted" and row["score"] == -1.0  # untouched
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("0 runs rescored; 1 unfinished run (failed or interrupted) left as")
    assert "run again, finishes it" in last


def test_runs_read_by_an_older_extraction_are_read_again_by_rescore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replies behind a reasoning trace, stored by a harness whose extraction (version 3) read
    the trace: rescore brings the run to the current version and reads what follows the trace."""
    from evalharness.runner.job import load_benchmark

    current = run(tmp_path)
    monkeypatch.setattr(extract, "VERSION", "3")
    older = load_benchmark(BenchmarkSpec("synth_vqa", {"n": 10})).version
    monkeypatch.undo()
    assert older != current["benchmark_version"]

    def traced(frame: pd.DataFrame) -> None:
        # each reply names the answer only after a trace full of other answers
        frame["prediction"] = [
            f"<think>Is it 7? Option D? No... yes.</think>\n{target}" for target in frame["target"]
        ]

    edit(tmp_path, lambda row: row.update(benchmark_version=older), traced)
    assert rescore(tmp_path / "results") == 1
    assert f"(v{older} → v{current['benchmark_version']})" in capsys.readouterr().out
    [after] = load_runs(tmp_path / "results").to_dict("records")
    samples = load_samples(tmp_path / "results")
    assert after["benchmark_version"] == current["benchmark_version"]
    assert after["score"] == 1.0 and (samples["score"] == 1.0).all()
    assert samples["prediction"].str.startswith("<think>").all()  # the raw reply kept whole


def test_readers_never_see_a_half_rescored_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    from evalharness.leaderboard._read import read_results

    for seed in range(8):
        run_job(spec(tmp_path, seed=seed))
    store = ResultsStore(tmp_path / "results")
    current = set(load_runs(tmp_path / "results")["benchmark_version"])
    for row in load_runs(tmp_path / "results").to_dict("records"):  # all of an older version
        store.write_run({**row, "benchmark_version": "1+00000000"})
    total = len(load_samples(tmp_path / "results"))
    rescoring = subprocess.Popen(
        [sys.executable, "-m", "evalharness.cli.main", "rescore", "--results", "results"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    seen = []
    while rescoring.poll() is None:
        runs, samples = read_results(tmp_path / "results")
        seen.append(frozenset(runs["benchmark_version"]))
        assert len(samples) == total
    assert rescoring.returncode == 0
    # the board reads every run of the old version or every one of the new, never a mix (of
    # which it would rank only the newer and leave the rest out)
    assert set(seen) <= {frozenset({"1+00000000"}), frozenset(current)}, set(seen)
    assert set(load_runs(tmp_path / "results")["benchmark_version"]) == current
