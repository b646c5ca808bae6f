"""Stored answers a run keeps: a new benchmark version that asks the same takes over the older
run's answers."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from evalharness import extract, registry
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.runner.spec import Shard
from evalharness.store import load_runs, load_samples
from evalharness.types import Prediction, Request


class Counted:
    """The random reference model, counting the requests it is asked."""

    asked = 0

    def __new__(cls, spec: ModelSpec) -> Any:
        model = registry.models.create("random", ModelSpec("random", seed=spec.seed))
        predict = model.predict

        def counted(requests: Sequence[Request]) -> list[Prediction]:
            cls.asked += len(requests)
            return predict(requests)

        model.predict = counted
        return model


@pytest.fixture(autouse=True)
def counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.models._extra, "counted", Counted)
    Counted.asked = 0


def run(
    tmp_path: Path,
    seed: int = 0,
    batch_size: int = 8,
    flush_s: float = 1.0,
    shard: Shard | None = None,
    **bench: Any,
) -> Any:
    spec = RunSpec(
        model=ModelSpec(name="counted"),
        benchmarks=(BenchmarkSpec("synth_vqa", {"n": 6, **bench}),),
        results_dir=str(tmp_path / "results"),
        progress=False,
        seed=seed,
        batch_size=batch_size,
        flush_s=flush_s,
        shard=shard,
    )
    results = run_job(spec, out=io.StringIO())  # none from a shard that did not aggregate
    assert len(results) <= 1
    return results[0] if results else None


def run_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[Any, int]:
    """A run made with an older extraction version, and how many requests the model has had."""
    with monkeypatch.context() as m:
        m.setattr(extract, "VERSION", "older")
        result = run(tmp_path, **kw)
    return result, Counted.asked


def test_a_new_extraction_version_reuses_the_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, asked = run_as_before(tmp_path, monkeypatch)
    assert asked == first.n_samples > 0
    second = run(tmp_path)
    assert second.benchmark_version != first.benchmark_version
    assert Counted.asked == asked  # the model was not asked again
    assert second.n_reused == second.n_samples == first.n_samples
    assert second.metrics["score"].value == first.metrics["score"].value
    runs = load_runs(tmp_path / "results")
    assert sorted(runs["benchmark_version"]) == sorted(
        [first.benchmark_version, second.benchmark_version]
    )
    samples = load_samples(tmp_path / "results")
    mine = samples[samples["run_id"] == second.run_id]
    assert set(mine["benchmark_version"]) == {second.benchmark_version}
    origin = runs.set_index("run_id")["answers_from"]
    assert origin[second.run_id] == first.run_id and origin[first.run_id] == ""
    # and a rerun of the new version resumes its own run, still saying where its answers came from
    assert run(tmp_path).n_reused == second.n_samples and Counted.asked == asked
    origin = load_runs(tmp_path / "results").set_index("run_id")["answers_from"]
    assert origin[second.run_id] == first.run_id


def test_answers_of_another_seed_or_other_samples_are_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(extract, "VERSION", "older")
        run(tmp_path, seed=1)
        run(tmp_path, image_size=200)  # other images: another data hash, another version
    asked = Counted.asked
    result = run(tmp_path)
    assert result.n_reused == 0 and Counted.asked == asked + result.n_samples


def test_answers_to_a_prompt_asked_differently_are_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalharness.runner import _reuse

    first, asked = run_as_before(tmp_path, monkeypatch)
    real = _reuse.request_text

    def reworded(sample: Any, form: Any) -> str:
        text = real(sample, form)
        return text + " Think first." if sample.id.endswith("color") else text

    monkeypatch.setattr(_reuse, "request_text", reworded)
    second = run(tmp_path)
    reasked = sum(1 for s in load_samples(tmp_path / "results")["sample_id"].unique()
                  if s.endswith("color"))  # fmt: skip
    assert 0 < reasked < first.n_samples
    assert second.n_reused == first.n_samples - reasked
    assert Counted.asked == asked + reasked


def test_run_rows_are_read_again_when_rewritten_and_damaged_ones_passed_over(
    tmp_path: Path,
) -> None:
    from evalharness.runner._reuse import _runs
    from evalharness.store import ResultsStore

    store = ResultsStore(tmp_path)
    row = {"run_id": "r1", "benchmark": "b", "benchmark_version": "1", "status": "running"}
    store.write_run(row)
    assert [r["status"] for r in _runs(store)] == ["running"]
    store.write_run({**row, "status": "complete"})
    assert [r["status"] for r in _runs(store)] == ["complete"]
    (tmp_path / "runs" / "r0.parquet").write_bytes(b"not parquet")
    assert [r["run_id"] for r in _runs(store)] == ["r1"]


class Formerly:
    """The random reference model as versions before `Model.info()` had it: its kind and size
    in its identity (so in its run key), no `info()`; with `stop_after`, interrupted (Ctrl-C)
    once it has answered that many requests."""

    stop_after: int | None = None

    def __init__(self, spec: ModelSpec) -> None:
        self.model = Counted(spec)
        self.capabilities = self.model.capabilities
        self.reference = self.model.reference

    def identity(self) -> dict[str, Any]:
        return {**self.model.identity(), "family_group": "reference", "params": 0}

    def fit(self, samples: Sequence[Any]) -> None:
        self.model.fit(samples)

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        if self.stop_after is not None and Counted.asked >= self.stop_after:
            raise KeyboardInterrupt
        return list(self.model.predict(requests))


def run_formerly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_after: int | None = None, **kw: Any
) -> tuple[str, int]:
    """A store written the way versions before `Model.info()` wrote it: the run's id and how
    many requests the model had."""
    with monkeypatch.context() as m:
        m.setitem(registry.models._extra, "counted", Formerly)
        m.setattr(Formerly, "stop_after", stop_after)
        if stop_after is None:
            result = run(tmp_path, **kw)
        else:
            with pytest.raises(KeyboardInterrupt):
                run(tmp_path, **kw)
    runs = load_runs(tmp_path / "results")
    [run_id] = runs["run_id"]
    identity = json.loads(runs.loc[0, "model_identity"])
    assert identity["family_group"] == "reference" and identity["params"] == 0
    if stop_after is None:
        assert result.run_id == run_id
    return str(run_id), Counted.asked


def test_answers_stored_before_model_info_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_id, asked = run_formerly(tmp_path, monkeypatch)
    old = load_samples(tmp_path / "results")
    result = run(tmp_path)
    assert result.run_id != old_id  # the key changed: the display info left the identity
    assert Counted.asked == asked and result.n_reused == result.n_samples == len(old)
    runs = load_runs(tmp_path / "results").set_index("run_id")
    assert runs.loc[result.run_id, "answers_from"] == old_id
    assert runs.loc[result.run_id, "model_family"] == "reference"
    assert "family_group" not in json.loads(runs.loc[result.run_id, "model_identity"])
    new = load_samples(tmp_path / "results").query("run_id == @result.run_id")
    assert list(new.sort_values("sample_id")["prediction"]) == list(
        old.sort_values("sample_id")["prediction"]
    )
    assert result.metrics["score"].value == runs.loc[old_id, "score"]
    assert run(tmp_path).n_reused == result.n_samples and Counted.asked == asked  # resumed


def test_an_interrupted_run_stored_before_model_info_goes_on_from_its_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_id, asked = run_formerly(tmp_path, monkeypatch, stop_after=2, batch_size=2, flush_s=0)
    assert load_runs(tmp_path / "results").loc[0, "status"] == "interrupted" and asked == 2
    result = run(tmp_path, batch_size=2)
    assert result.n_reused == 2 and Counted.asked == result.n_samples  # only the rest asked
    origin = load_runs(tmp_path / "results").set_index("run_id")["answers_from"]
    assert origin[result.run_id] == old_id


def test_answers_stored_before_model_info_and_an_extraction_change_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(extract, "VERSION", "older")
        old_id, asked = run_formerly(tmp_path, monkeypatch)
    result = run(tmp_path)
    assert Counted.asked == asked and result.n_reused == result.n_samples
    origin = load_runs(tmp_path / "results").set_index("run_id")["answers_from"]
    assert origin[result.run_id] == old_id


def test_answers_of_another_model_stored_before_model_info_are_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, asked = run_formerly(tmp_path, monkeypatch, seed=1)
    result = run(tmp_path)
    assert result.n_reused == 0 and Counted.asked == asked + result.n_samples


def test_shards_take_over_the_answers_stored_before_model_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_id, asked = run_formerly(tmp_path, monkeypatch)
    old = load_samples(tmp_path / "results")
    first = run(tmp_path, shard=Shard(0, 2))
    result = run(tmp_path, shard=Shard(1, 2))  # the last shard in aggregates the run
    assert first is None and result is not None and result.run_id != old_id
    assert Counted.asked == asked  # neither shard asked the model
    runs = load_runs(tmp_path / "results").set_index("run_id")
    assert runs.loc[result.run_id, "status"] == "complete"
    assert runs.loc[result.run_id, "answers_from"] == old_id
    new = load_samples(tmp_path / "results").query("run_id == @result.run_id")
    assert len(new) == len(old) == result.n_samples
    assert list(new.sort_values("sample_id")["prediction"]) == list(
        old.sort_values("sample_id")["prediction"]
    )
    assert result.metrics["score"].value == runs.loc[old_id, "score"]


def test_shards_take_over_an_older_versions_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, asked = run_as_before(tmp_path, monkeypatch)
    assert run(tmp_path, shard=Shard(1, 2)) is None  # the shards in any order
    result = run(tmp_path, shard=Shard(0, 2))
    assert Counted.asked == asked and result.n_samples == old.n_samples
    assert result.metrics["score"].value == old.metrics["score"].value
    origin = load_runs(tmp_path / "results").set_index("run_id")["answers_from"]
    assert origin[result.run_id] == old.run_id
