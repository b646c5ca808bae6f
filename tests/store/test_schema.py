"""The results schema: the typed records own the columns a run writes, the types readers see,
what rows stored by older versions read as, and docs/results-schema.md."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from repo_paths import REPO

from evalharness.benchmarks.synthetic.counting import CountingSuite
from evalharness.leaderboard import build_site
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.runner.batches import _Writer
from evalharness.runner.rescore import rescore
from evalharness.store import (
    META_PREFIX,
    METRIC_PREFIX,
    ResultsStore,
    RunRecord,
    SampleRecord,
    SchemaError,
    check_columns,
    conform,
    load_runs,
    load_samples,
    names,
    schema_markdown,
    undeclared,
)

DOC = REPO / "docs" / "results-schema.md"

# the columns a run stored by an earlier version lacks: added since, or left empty then
NEWER_RUN_COLUMNS = (
    "description",
    "difficulty_column",
    "reasoning_tags",
    "n_truncated",
    "answers_from",
    "judge",
    "escaped",
)
NEWER_SAMPLE_COLUMNS = (
    "first_tokens",
    "reasoning",
    "reasoning_tokens",
    "read_status",
    "judge_answer",
    "judge_reply",
    "judge_prompt_hash",
    "judge_reason",
    "judge_agrees",
    "escaped",
)


def test_the_schema_doc_is_the_one_the_records_make() -> None:
    if DOC.read_text(encoding="utf-8") != schema_markdown():
        pytest.fail(
            "docs/results-schema.md is not what the records (evalharness/store/_records.py) and "
            "the doc's prose (evalharness/store/_schema.md) make: regenerate it with "
            "`bash scripts/results-schema.sh`."
        )


def counting_run(tmp_path: Path) -> Path:
    """A random-model run of synth_counting (metrics, metadata, a difficulty) into a folder."""
    results = tmp_path / "results"
    run_job(
        RunSpec(
            model=ModelSpec(name="random"),
            benchmarks=(BenchmarkSpec("synth_counting", {"n": 12}),),
            results_dir=str(results),
            progress=False,
        )
    )
    return results


def test_a_run_writes_exactly_the_records_columns(tmp_path: Path) -> None:
    results = counting_run(tmp_path)
    runs, samples = load_runs(results), load_samples(results)
    assert list(runs.columns) == list(names(RunRecord))
    assert set(names(SampleRecord)) <= set(samples.columns)
    assert undeclared(samples.columns, SampleRecord) == []
    extra = set(samples.columns) - set(names(SampleRecord))
    assert any(c.startswith(METRIC_PREFIX) for c in extra)
    assert any(c.startswith(META_PREFIX) for c in extra)
    # what the board needs of the benchmark is written with the run
    [run] = runs.to_dict("records")
    assert run["description"] == CountingSuite.description
    assert run["difficulty_column"] == META_PREFIX + CountingSuite.difficulty
    assert run["difficulty_column"] in samples.columns


def test_a_column_the_schema_does_not_declare_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"samples column 'predction' not declared in Sample"):
        check_columns(["run_id", "predction", "metric_exact", "meta_colour"], SampleRecord)
    with pytest.raises(TypeError, match="run_idd"):
        RunRecord(run_idd="r")  # type: ignore[call-arg]
    # the runner's writer refuses such a row before anything is stored
    store = ResultsStore(tmp_path / "results")
    writer = _Writer(store, "r1", every_s=0.0)
    row = {"run_id": "r1", "sample_id": "a", "predction": "yes"}
    with pytest.raises(SchemaError, match="'predction'"):
        writer.add([row])
    assert store.read_samples("r1").empty


def test_a_row_stored_before_a_column_reads_as_its_default() -> None:
    stored = {
        "run_id": "r1",
        "seed": np.int64(3),
        "n_samples": 12.0,  # an int column holding NaN in another run comes back as float
        "limit": None,
        "model_params": float("nan"),
        "reference": np.bool_(True),
        "status": "complete",
        "score": 0.5,
    }
    run = RunRecord.from_row(stored)
    assert (run.seed, run.n_samples, run.reference) == (3, 12, True)
    assert type(run.seed) is int and type(run.n_samples) is int and type(run.reference) is bool
    assert math.isnan(run.limit) and math.isnan(run.model_params)
    assert run.description == "" and run.difficulty_column == "" and run.n_truncated == 0
    assert run.reasoning_tags is None and run.benchmark_spec is None and run.judge == ""
    with pytest.raises(SchemaError, match="'colour'"):
        RunRecord.from_row({**stored, "colour": "red"})


def test_conform_gives_old_frames_every_column_with_its_type() -> None:
    old = pd.DataFrame(
        {"run_id": ["a", "b"], "model": ["m", None], "n_samples": [3.0, np.nan], "blind": [1, 0]}
    )
    out = conform(old, RunRecord)
    assert set(names(RunRecord)) <= set(out.columns)
    assert list(out["model"]) == ["m", ""] and list(out["description"]) == ["", ""]
    assert out["n_samples"].dtype == np.int64 and list(out["n_samples"]) == [3, 0]
    assert out["blind"].dtype == bool and list(out["blind"]) == [True, False]
    assert out["score"].isna().all() and out["reasoning_tags"].isna().all()
    # only the columns asked for, the rest kept as they are
    some = conform(old, RunRecord, only=["n_samples"])
    assert "description" not in some and some["model"].isna().iloc[1]


def _as_stored_before(results: Path) -> str:
    """Rewrite the one run in `results` as an earlier version stored it: without the columns
    added since (the run row and every sample row)."""
    [row] = load_runs(results).to_dict("records")
    run_id = str(row["run_id"])
    old = {k: v for k, v in row.items() if k not in NEWER_RUN_COLUMNS}
    pq.write_table(pa.Table.from_pylist([old]), results / "runs" / f"{run_id}.parquet")
    store = ResultsStore(results)
    frame = store.read_samples(run_id)
    store.compact(run_id, frame.drop(columns=[c for c in NEWER_SAMPLE_COLUMNS if c in frame]))
    return run_id


def test_a_store_written_by_an_earlier_version_still_reads_and_rescore_fills_it_in(
    tmp_path: Path,
) -> None:
    results = counting_run(tmp_path)
    before = load_runs(results)
    run_id = _as_stored_before(results)
    runs = load_runs(results)
    assert not set(NEWER_RUN_COLUMNS) & set(runs.columns)
    # readers see every column, with the values older rows read as
    [run] = conform(runs, RunRecord).to_dict("records")
    assert run["description"] == "" and run["difficulty_column"] == "" and run["n_truncated"] == 0
    board = tmp_path / "board"
    build_site(results, board)  # the site builds from it (without a difficulty curve)
    page = next((board / "benchmarks").glob("synth-counting-*.html")).read_text()
    assert 'id="fig-difficulty"' not in page

    assert rescore(results) == 1
    runs, samples = load_runs(results), load_samples(results)
    assert list(runs.columns) == list(names(RunRecord))
    assert set(names(SampleRecord)) <= set(samples.columns)
    [run] = runs.to_dict("records")
    assert run["run_id"] == run_id and run["score"] == before.loc[0, "score"]
    assert run["description"] == CountingSuite.description
    assert run["difficulty_column"] == "meta_true_count"
    build_site(results, board)
    page = next((board / "benchmarks").glob("synth-counting-*.html")).read_text()
    assert 'id="fig-difficulty"' in page and CountingSuite.description in page


def test_every_column_is_described_and_typed_once() -> None:
    for record in (RunRecord, SampleRecord):
        fields = dataclasses.fields(record)  # type: ignore[arg-type]
        assert len({f.name for f in fields}) == len(fields)
        assert all(f.metadata["doc"].strip() for f in fields)
        assert not any(n.startswith(p.prefix) for n in names(record) for p in record.PREFIXES)
