"""The results schema: the typed records own the columns a run writes, the types readers see,
what rows stored by older versions read as, and docs/results-schema.md."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from repo_paths import REPO

from evalharness.store import (
    RunRecord,
    SampleRecord,
    SchemaError,
    check_columns,
    conform,
    names,
    schema_markdown,
)

DOC = REPO / "docs" / "results-schema.md"


def test_the_schema_doc_is_the_one_the_records_make() -> None:
    if DOC.read_text(encoding="utf-8") != schema_markdown():
        pytest.fail(
            "docs/results-schema.md is not what the records (evalharness/store/_records.py) and "
            "the doc's prose (evalharness/store/_schema.md) make: regenerate it with "
            "`bash scripts/results-schema.sh`."
        )


def test_a_column_the_schema_does_not_declare_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"samples column 'predction' not declared in Sample"):
        check_columns(["run_id", "predction", "metric_exact", "meta_colour"], SampleRecord)
    with pytest.raises(TypeError, match="run_idd"):
        RunRecord(run_idd="r")  # type: ignore[call-arg]


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


def test_every_column_is_described_and_typed_once() -> None:
    for record in (RunRecord, SampleRecord):
        fields = dataclasses.fields(record)  # type: ignore[arg-type]
        assert len({f.name for f in fields}) == len(fields)
        assert all(f.metadata["doc"].strip() for f in fields)
        assert not any(n.startswith(p.prefix) for n in names(record) for p in record.PREFIXES)
