"""Text that parquet cannot hold (a lone surrogate in a model's answer, undecodable bytes in a
label or metadata, carried as surrogates) is stored escaped, its row flagged, and comes back as
it was: nothing a model says can crash a run or lose its rows."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from model_helpers import FakeModel

from evalharness import registry
from evalharness.benchmarks.base import BaseBenchmark
from evalharness.errors import EvalharnessError
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.store import ResultsStore, load_runs, load_samples, restore_text, to_frame
from evalharness.types import Prediction, RenderedImage, Request, Sample, Scored

LONE = "yes \ud800 no"
"""A lone high surrogate: a Python string UTF-8 cannot encode."""
BAD_BYTES = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
"""Invalid UTF-8 as Python carries it (file names, `surrogateescape`): also unencodable."""


class Questions(BaseBenchmark):
    """Twelve questions on one small image; "yes" is right. The last one's label and metadata
    hold undecodable bytes (a label read from a file name, say)."""

    name = "questions"
    capability = "vqa"
    description = "twelve yes questions"
    version = "1"

    def samples(self) -> Sequence[Sample]:
        from PIL import Image

        image = RenderedImage("white", lambda: Image.new("RGB", (8, 8), "white"))
        samples = [
            Sample(id=f"q-{i:03d}", images=(image,), prompt="Yes?", targets=("yes",))
            for i in range(11)
        ]
        bad = {"file": BAD_BYTES}
        samples.append(
            Sample(
                id="q-011", images=(image,), prompt="Yes?", targets=(BAD_BYTES, "yes"), metadata=bad
            )
        )
        return samples

    def score_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=float(text.startswith("Yes")))


class Surrogates(FakeModel):
    """Says a lone surrogate on every third sample, else "Yes."."""

    name = "surrogates"

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return [
            Prediction(text=LONE if int(r.sample.id.rsplit("-", 1)[1]) % 3 == 0 else "Yes.")
            for r in requests
        ]


def test_a_lone_surrogate_answer_is_stored_escaped_and_the_run_completes(
    tmp_path: Path,
) -> None:
    registry.models.register("surrogates", Surrogates)
    registry.benchmarks.register("questions", Questions)
    results = tmp_path / "results"
    spec = RunSpec(
        model=ModelSpec(name="surrogates"),
        benchmarks=(BenchmarkSpec("questions", {}),),
        results_dir=str(results),
        progress=False,
        batch_size=4,
        flush_s=0,
    )
    [first] = run_job(spec, out=io.StringIO())
    assert first.n_errors == 0

    runs = load_runs(results)
    assert list(runs["status"]) == ["complete"]
    stored = load_samples(results).set_index("sample_id")
    assert len(stored) == 12
    odd = [f"q-{i:03d}" for i in range(0, 12, 3)]
    # stored as a JSON string literal (ASCII), the row says which of its columns are escaped
    for sid in odd:
        assert json.loads(stored.loc[sid, "escaped"]) == ["prediction"]
        assert stored.loc[sid, "prediction"] == '"yes \\ud800 no"'
        assert json.loads(stored.loc[sid, "prediction"]) == LONE
    # the label and metadata of the last sample
    assert json.loads(stored.loc["q-011", "escaped"]) == ["meta_file", "target"]
    assert json.loads(stored.loc["q-011", "target"]) == BAD_BYTES
    assert json.loads(stored.loc["q-011", "meta_file"]) == BAD_BYTES
    assert json.loads(stored.loc["q-011", "targets"]) == [BAD_BYTES, "yes"]
    plain = stored.drop(index=[*odd, "q-011"])
    assert plain["escaped"].isna().all() and (plain["prediction"] == "Yes.").all()
    # the original comes back
    restored = restore_text(load_samples(results)).set_index("sample_id")
    assert "escaped" not in restored.columns
    assert all(restored.loc[sid, "prediction"] == LONE for sid in odd)
    assert restored.loc["q-011", "meta_file"] == restored.loc["q-011", "target"] == BAD_BYTES
    assert (restored.drop(index=odd)["prediction"] == "Yes.").all()

    # a rerun reuses every row (the stored rows read back as they were) and changes nothing
    [again] = run_job(spec, out=io.StringIO())
    assert again.n_reused == 12
    assert again.metrics["score"].value == first.metrics["score"].value
    assert load_samples(results).set_index("sample_id").equals(stored)


def test_unencodable_labels_and_metadata_round_trip_through_the_store(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results")
    rows = [
        {"run_id": "r", "sample_id": "a", "target": BAD_BYTES, "meta_file": BAD_BYTES},
        {"run_id": "r", "sample_id": "b", "target": "fine", "meta_file": LONE},
    ]
    store.append_samples("r", rows)
    stored = store.read_samples("r")
    assert stored["escaped"].map(json.loads).tolist() == [["meta_file", "target"], ["meta_file"]]
    assert stored.loc[0, "target"] == json.dumps(BAD_BYTES)
    assert restore_text(stored).to_dict("records") == rows
    # compaction keeps them: rows it is not given move aside as they were stored
    store.compact("r", to_frame(rows[:1]))
    assert len(store.read_samples("r")) == 1
    assert restore_text(store.read_samples("r", spare=True)).to_dict("records") == [
        rows[1],
        rows[0],
    ]
    # written again in their stored form (as rescore writes what it read), nothing changes
    store.compact("r", to_frame(stored.to_dict("records")))
    assert restore_text(load_samples(tmp_path / "results")).to_dict("records") == rows

    # a text that only looks escaped needed no escaping: it is left alone and not flagged
    store.append_samples("q", [{"run_id": "q", "sample_id": "x", "prediction": '"\\ud800"'}])
    again = load_samples(tmp_path / "results", ["q"])
    assert again.loc[0, "prediction"] == '"\\ud800"' and again["escaped"].isna().all()
    assert restore_text(again).loc[0, "prediction"] == '"\\ud800"'


def test_unencodable_text_in_a_run_row_round_trips(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results")
    row = {"run_id": "r", "model": BAD_BYTES, "status": "complete", "score": 0.5}
    store.write_run(row)
    stored = load_runs(tmp_path / "results")
    assert json.loads(stored.loc[0, "escaped"]) == ["model"]
    assert restore_text(stored).to_dict("records") == [row]
    # rewritten from its stored form (as rescore does), it keeps its flag and is not escaped twice
    store.write_run({**stored.to_dict("records")[0], "score": 0.75})
    assert restore_text(load_runs(tmp_path / "results")).to_dict("records") == [
        {**row, "score": 0.75}
    ]


class BadIds(Questions):
    name = "bad_ids"

    def samples(self) -> Sequence[Sample]:
        return [
            Sample(id=f"q-\udc80-{i}", images=(), prompt="Yes?", targets=("yes",)) for i in (1, 2)
        ]


def test_a_sample_id_that_cannot_be_stored_is_refused_in_one_line(tmp_path: Path) -> None:
    registry.benchmarks.register("bad_ids", BadIds)
    spec = RunSpec(
        model=ModelSpec(name="oracle"),
        benchmarks=(BenchmarkSpec("bad_ids", {}),),
        results_dir=str(tmp_path / "results"),
        progress=False,
    )
    with pytest.raises(EvalharnessError, match=r"sample id 'q-\\udc80-1' is not valid text"):
        run_job(spec, out=io.StringIO())
    assert not (tmp_path / "results" / "runs").exists()  # refused before anything was written
