"""The runner end to end in-process, on the example plugin's benchmark and model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from model_helpers import FakeModel

from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, JobError, RunSpec, run_job
from evalharness.store import load_runs, load_samples

pytestmark = pytest.mark.usefixtures("plugin_on_path")


def spec(tmp_path: Path, model: str = "oracle", **kw: object) -> RunSpec:
    args = kw.pop("model_args", {})
    return RunSpec(
        model=ModelSpec(name=model, args=args),  # type: ignore[arg-type]
        benchmarks=(BenchmarkSpec("example_parity", kw.pop("bench_args", {})),),  # type: ignore[arg-type]
        results_dir=str(tmp_path / "results"),
        progress=False,
        **kw,  # type: ignore[arg-type]
    )


def test_oracle_scores_one_and_writes_both_tables(tmp_path: Path) -> None:
    out = io.StringIO()
    [result] = run_job(spec(tmp_path), out=out)
    assert result.metrics["score"].value == 1.0
    runs = load_runs(tmp_path / "results")
    samples = load_samples(tmp_path / "results")
    assert list(runs["status"]) == ["complete"]
    assert runs.loc[0, "n_samples"] == 12 and runs.loc[0, "reference"]
    for col in (
        "run_id",
        "model",
        "benchmark",
        "benchmark_version",
        "status",
        "model_identity",
        "data_hash",
        "config",
        "generation",
        "harness_version",
        "libraries",
        "device",
        "seed",
        "started_at",
    ):
        assert col in runs.columns
    for col in (
        "run_id",
        "model",
        "benchmark",
        "benchmark_version",
        "sample_id",
        "prediction",
        "extracted",
        "target",
        "score",
        "error",
        "latency_s",
        "meta_dots",
    ):
        assert col in samples.columns
    assert sorted(samples["sample_id"]) == [f"parity-{i:03d}" for i in range(12)]
    assert (samples["score"] == 1.0).all()
    assert "example_parity" in out.getvalue() and "1.000" in out.getvalue()


def test_scores_carry_a_confidence_interval(tmp_path: Path) -> None:
    [result] = run_job(
        spec(tmp_path, model="example_parrot", bench_args={"n": 30}), out=io.StringIO()
    )
    est = result.metrics["score"]
    assert est.value == pytest.approx(20 / 30)
    assert est.ci_low < est.value < est.ci_high
    runs = load_runs(tmp_path / "results")
    stored = json.loads(runs.loc[0, "metrics"])["score"]
    assert stored["ci_low"] == pytest.approx(est.ci_low)
    assert runs.loc[0, "score_ci_high"] == pytest.approx(est.ci_high)


def test_limit_caps_samples_and_rerun_reuses_them(tmp_path: Path) -> None:
    run_job(spec(tmp_path, limit=5), out=io.StringIO())
    assert len(load_samples(tmp_path / "results")) == 5
    [again] = run_job(spec(tmp_path, limit=8), out=io.StringIO())
    assert again.n_reused == 5
    samples = load_samples(tmp_path / "results")
    assert len(samples) == 8 and samples["sample_id"].is_unique


def test_a_smaller_limit_keeps_the_answers_beyond_it_for_a_later_run(tmp_path: Path) -> None:
    run_job(spec(tmp_path, limit=8), out=io.StringIO())
    first = load_samples(tmp_path / "results").set_index("sample_id")["prediction"]
    [smaller] = run_job(spec(tmp_path, limit=3), out=io.StringIO())
    assert smaller.n_reused == 3 and smaller.n_samples == 3
    assert len(load_samples(tmp_path / "results")) == 3  # the table holds the run's samples
    [larger] = run_job(spec(tmp_path, limit=10), out=io.StringIO())
    assert larger.n_reused == 8  # the 5 answers beyond limit=3 were kept aside, not lost
    again = load_samples(tmp_path / "results").set_index("sample_id")["prediction"]
    assert len(again) == 10 and again[first.index].equals(first)
    assert not (tmp_path / "results" / "samples" / larger.run_id / "spare.parquet").exists()


def test_changed_generation_settings_recompute(tmp_path: Path) -> None:
    run_job(spec(tmp_path), out=io.StringIO())
    [again] = run_job(spec(tmp_path, max_new_tokens=9), out=io.StringIO())
    assert again.n_reused == 0
    assert load_runs(tmp_path / "results")["run_id"].nunique() == 2


def test_blind_run_is_its_own_model_row(tmp_path: Path) -> None:
    run_job(spec(tmp_path, blind=True), out=io.StringIO())
    runs = load_runs(tmp_path / "results")
    assert list(runs["model"]) == ["oracle (blind)"] and bool(runs.loc[0, "blind"])


def test_random_is_deterministic_per_sample(tmp_path: Path) -> None:
    run_job(spec(tmp_path, model="random", bench_args={"n": 40}, batch_size=3), out=io.StringIO())
    a = load_samples(tmp_path / "results").set_index("sample_id")["prediction"]
    run_job(
        spec(tmp_path / "b", model="random", bench_args={"n": 40}, batch_size=7), out=io.StringIO()
    )
    b = load_samples(tmp_path / "b" / "results").set_index("sample_id")["prediction"]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


def test_sample_errors_become_rows_and_the_threshold_fails_the_job(tmp_path: Path) -> None:
    from evalharness import registry
    from evalharness.types import Prediction

    class Flaky(FakeModel):
        name = "flaky"

        def predict(self, requests):  # type: ignore[no-untyped-def]
            if any(r.sample.id.endswith("3") for r in requests):
                raise RuntimeError("device fell over")
            return [Prediction(text="yes") for _ in requests]

    registry.models.register("flaky", Flaky)
    with pytest.raises(
        JobError, match=r"error rate .* Most common \(2 samples\): RuntimeError: device fell over"
    ):
        run_job(spec(tmp_path, model="flaky", batch_size=2), out=io.StringIO())
    samples = load_samples(tmp_path / "results").set_index("sample_id")
    assert samples.loc["parity-003", "error"] == "RuntimeError: device fell over"
    assert samples.loc["parity-002", "error"] == "RuntimeError: device fell over"  # same batch
    assert pd.isna(samples.loc["parity-000", "error"]) and samples.loc["parity-000", "score"] == 1.0
    # over the threshold the run is failed, with the reason, not complete (which would be ranked)
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "failed" and row["finished_at"]
    assert row["status_reason"] == (
        "error rate 2/12 above max_error_rate=0.1; most common (2 samples): RuntimeError: "
        "device fell over"
    )
    # a looser threshold lets the same job pass; errored rows are retried, not reused
    [r] = run_job(
        spec(tmp_path, model="flaky", batch_size=2, max_error_rate=0.5), out=io.StringIO()
    )
    assert r.n_errors == 2 and r.n_reused == 10
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "complete" and row["status_reason"] == ""


def test_a_model_that_cannot_answer_stops_the_run_and_keeps_the_answers(tmp_path: Path) -> None:
    from evalharness import registry
    from evalharness.models.base import ModelUnavailableError
    from evalharness.types import Prediction

    class GoesDown(FakeModel):
        name = "goes_down"
        calls = 0

        def predict(self, requests):  # type: ignore[no-untyped-def]
            type(self).calls += 1
            if type(self).calls > 2:
                raise ModelUnavailableError("model 'goes_down': the server is gone")
            return [Prediction(text="yes") for _ in requests]

    registry.models.register("goes_down", GoesDown)
    with pytest.raises(ModelUnavailableError, match="the server is gone"):
        run_job(spec(tmp_path, model="goes_down", batch_size=3, flush_s=0), out=io.StringIO())
    assert GoesDown.calls == 3  # stopped at the failing batch, not asked for the other two
    assert list(load_runs(tmp_path / "results")["status"]) == ["failed"]
    samples = load_samples(tmp_path / "results")
    assert len(samples) == 6 and samples["error"].isna().all()  # no error rows were made up
    GoesDown.calls = -100  # the server is back: the same command goes on from the answers
    [r] = run_job(spec(tmp_path, model="goes_down", batch_size=3), out=io.StringIO())
    assert r.n_reused == 6 and r.n_samples == 12 and r.n_errors == 0
    assert list(load_runs(tmp_path / "results")["status"]) == ["complete"]


def test_undecodable_image_is_an_error_row(tmp_path: Path) -> None:
    from evalharness import registry
    from evalharness.benchmarks.base import BaseBenchmark
    from evalharness.types import EncodedImage, Sample, Scored

    class Broken(BaseBenchmark):
        name = "broken_images"
        capability = "vqa"
        version = "1"

        def samples(self):  # type: ignore[no-untyped-def]
            good = EncodedImage(_png())
            return [
                Sample("ok", (good,), "Colour?", ("white",)),
                Sample("bad", (EncodedImage(b"not an image"),), "Colour?", ("white",)),
            ]

        def score_open(self, sample: Sample, text: str) -> Scored:
            return Scored(text, float(text == sample.target))

    registry.benchmarks.register("broken_images", Broken)
    s = RunSpec(
        ModelSpec("oracle"),
        (BenchmarkSpec("broken_images"),),
        str(tmp_path / "r"),
        progress=False,
        max_error_rate=0.9,
    )
    run_job(s, out=io.StringIO())
    rows = load_samples(tmp_path / "r").set_index("sample_id")
    assert rows.loc["bad", "error"].startswith("ImageError: cannot decode image")
    assert rows.loc["ok", "score"] == 1.0


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, format="PNG")
    return buf.getvalue()


def test_unknown_benchmark_setting_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(JobError, match=r"no setting 'm'\. Known: n\."):
        run_job(spec(tmp_path, bench_args={"m": 3}), out=io.StringIO())


def _count_appends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from evalharness.store import ResultsStore

    sizes: list[int] = []
    original = ResultsStore.append_samples

    def spy(self: ResultsStore, run_id: str, rows: object, tag: str = "") -> None:
        sizes.append(len(rows))  # type: ignore[arg-type]
        original(self, run_id, rows, tag)  # type: ignore[arg-type]

    monkeypatch.setattr(ResultsStore, "append_samples", spy)
    return sizes


def test_rows_are_written_every_flush_s_and_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _count_appends(monkeypatch)
    slow = {"model_args": {"delay": 0.05}, "batch_size": 1, "bench_args": {"n": 12}}
    run_job(spec(tmp_path / "every", "example_parrot", flush_s=0, **slow))  # type: ignore[arg-type]
    assert sizes == [1] * 12  # flush_s=0: one part per batch
    sizes.clear()
    run_job(spec(tmp_path / "buffered", "example_parrot", flush_s=0.22, **slow))  # type: ignore[arg-type]
    # ~0.05 s a batch: about every fifth batch is written, and the rest at the end
    assert sum(sizes) == 12 and 2 <= len(sizes) <= 4 and max(sizes) >= 4, sizes
    a, b = (
        load_samples(tmp_path / "every" / "results"),
        load_samples(tmp_path / "buffered" / "results"),
    )
    cols = ["sample_id", "prediction", "score"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_rows_computed_before_a_crash_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalharness.store import ResultsStore

    sizes = _count_appends(monkeypatch)
    calls = {"n": 0}
    original = ResultsStore.save_thumbnail

    def boom(self: ResultsStore, *args: object) -> None:  # the 8th sample's batch crashes
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ResultsStore, "save_thumbnail", boom)
    with pytest.raises(KeyboardInterrupt):
        run_job(spec(tmp_path, "example_parrot", batch_size=1, flush_s=60))
    assert sizes == [7]
    assert list(load_runs(tmp_path / "results")["status"]) == ["interrupted"]
    assert list(load_runs(tmp_path / "results")["status_reason"]) == ["stopped by Ctrl-C"]
    assert (
        len(
            ResultsStore(tmp_path / "results").read_samples(
                load_runs(tmp_path / "results").run_id[0]
            )
        )
        == 7
    )


def test_a_run_stopped_by_an_error_is_marked_failed_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalharness.store import ResultsStore

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ResultsStore, "compact", broken)  # the end of the run fails
    with pytest.raises(OSError, match="disk full"):
        run_job(spec(tmp_path, "example_parrot"))
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "failed" and row["finished_at"]
    assert row["status_reason"] == "crashed: OSError: disk full"
    assert len(load_samples(tmp_path / "results")) == 12  # the answers are kept
    monkeypatch.undo()
    [again] = run_job(spec(tmp_path, "example_parrot"))
    assert again.n_reused == 12
    assert list(load_runs(tmp_path / "results")["status"]) == ["complete"]


def test_requests_a_model_cannot_answer_are_unsupported_not_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalharness import registry
    from evalharness.types import Prediction

    parrot = registry.models.get("example_parrot")  # the class the runner will build

    def predict(self: object, requests: list[object]) -> list[Prediction]:
        return [Prediction(unsupported="parrots only repeat") for _ in requests]

    monkeypatch.setattr(parrot, "predict", predict)
    [result] = run_job(spec(tmp_path, "example_parrot", max_error_rate=0.0))
    assert result.n_unsupported == 12 and result.n_errors == 0
    samples = load_samples(tmp_path / "results")
    assert samples["unsupported"].all() and samples["error"].isna().all()


def test_a_declined_request_takes_the_models_next_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model with both capabilities that cannot answer open questions (CoCa: it only
    captions) gets the option items again as choice requests; items without options stay
    unsupported."""
    from evalharness import registry
    from evalharness.benchmarks.base import BaseBenchmark
    from evalharness.types import (
        GenerationSettings,
        Prediction,
        RenderedImage,
        Request,
        Sample,
        Scored,
    )

    class Quiz(BaseBenchmark):
        name = "quiz"
        capability = "vqa"
        version = "1"
        generation = GenerationSettings(max_new_tokens=4)

        def __init__(self) -> None:
            pass

        def samples(self) -> list[Sample]:
            from PIL import Image

            image = RenderedImage("gray", lambda: Image.new("RGB", (8, 8)))
            return [
                Sample(
                    id=f"q{i}",
                    images=(image,),
                    prompt="Which animal?",
                    targets=("cat",),
                    choices=("dog", "cat") if i < 3 else None,
                    target_index=1 if i < 3 else None,
                )
                for i in range(5)
            ]

        def score_open(self, sample: Sample, text: str) -> Scored:
            return Scored(text, float(text == sample.target))

    class CaptionOnly(FakeModel):
        name = "caption_only"
        capabilities = frozenset({"generate", "choice"})

        def predict(self, requests: list[Request]) -> list[Prediction]:
            out = []
            for r in requests:
                if r.mode == "generate":
                    out.append(Prediction(unsupported="only captions"))
                else:
                    out.append(Prediction(choice_scores=[0.0, 1.0]))
            return out

    monkeypatch.setitem(registry.benchmarks._extra, "quiz", Quiz)
    monkeypatch.setitem(registry.models._extra, "caption_only", CaptionOnly)
    [result] = run_job(
        RunSpec(
            model=ModelSpec(name="caption_only"),
            benchmarks=(BenchmarkSpec("quiz"),),
            results_dir=str(tmp_path / "results"),
            progress=False,
        )
    )
    samples = load_samples(tmp_path / "results").sort_values("sample_id")
    assert list(samples["mode"]) == ["choice"] * 3 + ["generate"] * 2
    assert list(samples["unsupported"]) == [False] * 3 + [True] * 2
    assert list(samples["score"][:3]) == [1.0] * 3 and result.n_errors == 0
    assert result.metrics["score"].value == 1.0 and result.n_unsupported == 2


def test_the_next_batch_is_prepared_while_the_model_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from evalharness import registry
    from evalharness.store import ResultsStore

    events: list[tuple[str, str]] = []
    save = ResultsStore.save_thumbnail

    def thumbnail(self: ResultsStore, *args: object) -> None:
        events.append(("image", threading.current_thread().name))
        save(self, *args)  # type: ignore[arg-type]

    parrot = registry.models.get("example_parrot")
    predict = parrot.predict

    def answer(self: object, requests: list[object]) -> object:
        events.append(("model", threading.current_thread().name))
        out = predict(self, requests)
        events.append(("done", threading.current_thread().name))
        return out

    monkeypatch.setattr(ResultsStore, "save_thumbnail", thumbnail)
    monkeypatch.setattr(parrot, "predict", answer)
    run_job(spec(tmp_path, "example_parrot", batch_size=3, model_args={"delay": 0.3}))
    # on the worker thread (or, on a machine with more cores, on the image threads it uses)
    image_threads = {t for kind, t in events if kind == "image"}
    assert image_threads <= {"prepare_0"} | {f"images_{i}" for i in range(8)}, image_threads
    assert {t for kind, t in events if kind == "model"} == {threading.main_thread().name}
    kinds = [kind for kind, _ in events]
    assert kinds.count("model") == 4 and kinds.count("image") == 12
    # the second batch's images were loaded while the model answered the first
    sixth_image = [i for i, k in enumerate(kinds) if k == "image"][5]
    assert kinds.index("model") < sixth_image < kinds.index("done"), kinds


def test_a_preparing_model_prepares_the_next_batch_while_it_answers(tmp_path: Path) -> None:
    """A `Preparing` model's input work for batch k + 1 runs on the worker thread while the
    call of batch k runs; a failing `prepare` fails its batch's samples only."""
    import threading

    from evalharness import registry
    from evalharness.types import Prediction, Request

    class Ahead(FakeModel):
        name = "ahead"
        capabilities = frozenset({"generate", "choice"})
        batches = 4  # example_parity's 12 samples at batch size 3

        def __init__(self, spec: ModelSpec) -> None:
            super().__init__(spec)
            self.prepared: list[str] = []  # the thread of each prepare call
            self.overlapped: list[bool] = []
            self.cond = threading.Condition()
            Ahead.last = self  # type: ignore[attr-defined]

        def predict(self, requests: list[Request]) -> list[Prediction]:
            raise AssertionError("the runner asks a Preparing model through prepare")

        def prepare(self, requests: list[Request]) -> object:
            with self.cond:
                self.prepared.append(threading.current_thread().name)
                k = len(self.prepared)
                self.cond.notify_all()
            if any(r.sample.id == "parity-007" for r in requests):
                raise RuntimeError("processor fell over")

            def run() -> list[Prediction]:
                if k < self.batches:  # wait until the next batch is being prepared
                    with self.cond:
                        ok = self.cond.wait_for(lambda: len(self.prepared) > k, timeout=10)
                    self.overlapped.append(ok)
                return [Prediction(text="yes") for _ in requests]

            return run

    registry.models.register("ahead", Ahead)
    [result] = run_job(spec(tmp_path, "ahead", batch_size=3, max_error_rate=0.5))
    model = Ahead.last  # type: ignore[attr-defined]
    assert model.prepared == ["prepare_0"] * 4
    # batches 1 and 2 ran while the next was prepared; the third's prepare raised
    assert model.overlapped == [True, True]
    samples = load_samples(tmp_path / "results").set_index("sample_id")
    failed = samples.index[samples["error"].notna()].tolist()
    assert sorted(failed) == ["parity-006", "parity-007", "parity-008"]
    assert samples.loc["parity-006", "error"] == "RuntimeError: processor fell over"
    assert result.n_errors == 3 and samples.loc["parity-000", "score"] == 1.0


@pytest.mark.parametrize("blind", [False, True])
def test_images_load_on_image_threads_on_a_machine_with_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blind: bool
) -> None:
    import os
    import threading

    from evalharness import registry
    from evalharness.store import ResultsStore
    from evalharness.types import Prediction, Request

    class Looker(FakeModel):
        """Answers with a digest of the image it was shown, and its colour range."""

        name = "looker"

        def predict(self, requests: list[Request]) -> list[Prediction]:
            import hashlib

            return [
                Prediction(
                    text=f"{r.images[0].getextrema()} "
                    + hashlib.sha256(r.images[0].tobytes()).hexdigest()[:12]
                )
                for r in requests
            ]

    registry.models.register("looker", Looker)
    names: list[str] = []
    save = ResultsStore.save_thumbnail

    def thumbnail(self: ResultsStore, *args: object) -> None:
        names.append(threading.current_thread().name)
        save(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ResultsStore, "save_thumbnail", thumbnail)
    answers = {}
    for threads in (1, 3):
        names.clear()
        # a quarter of the usable cores load images (`image_threads`)
        monkeypatch.setattr(
            os, "sched_getaffinity", lambda pid, n=threads: set(range(4 * n)), raising=False
        )
        run_job(spec(tmp_path / str(threads), "looker", batch_size=5, blind=blind))
        samples = load_samples(tmp_path / str(threads) / "results").sort_values("sample_id")
        answers[threads] = list(samples["prediction"])
        assert samples["error"].isna().all()
    assert len(names) == 12 and set(names) <= {"images_0", "images_1", "images_2"}
    assert answers[3] == answers[1]
    gray = {a.startswith("((128, 128), (128, 128), (128, 128))") for a in answers[3]}
    if blind:  # the model saw gray images, but the thumbnails are the real ones
        assert gray == {True}
    else:
        assert gray == {False} and len(set(answers[3])) == 12


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (8, 2), (16, 4), (96, 8)])
def test_image_threads_take_a_quarter_of_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int, threads: int
) -> None:
    import os

    from evalharness.runner.execute import image_threads

    # the cores this process may use (a container's share), not all the machine has
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 128)
    assert image_threads() == threads
