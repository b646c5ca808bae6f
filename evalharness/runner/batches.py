"""The batch loop: ask the model about a run's samples in batches, each row written as it comes.

A sample that raises (undecodable image, model error) becomes an error row and the loop goes on.
The next batch's images are decoded, and its inputs prepared, on worker threads while the model
answers this one. A `RunObserver` passed to the run is told where the time went (the GPU
throughput script in benchmarks/ uses it).
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from evalharness.benchmarks.base import Benchmark
from evalharness.models.base import Model, ModelUnavailableError, Preparing
from evalharness.runner.progress import Progress
from evalharness.runner.spec import RunSpec
from evalharness.store import META_PREFIX, ResultsStore, SampleRecord, check_columns, escape_row
from evalharness.types import (
    Form,
    GenerationSettings,
    ImageError,
    Mode,
    Prediction,
    Request,
    Sample,
    fingerprint_of,
    request_text,
    routes,
)

GRAY = (128, 128, 128)


class RunObserver(Protocol):
    """Told, as a run answers, where its time goes; its methods may be called from the image
    threads at the same time, so they must be thread-safe and quick."""

    def images_loaded(self, sample: Sample, seconds: float) -> None:
        """`sample`'s images were decoded (and thumbnailed) in `seconds`, before its batch was
        prepared."""


def answer_all(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    generation: GenerationSettings,
    store: ResultsStore,
    run_id: str,
    key: Callable[[Sample], str],
    todo: Sequence[Sample],
    progress: Progress,
    observer: RunObserver | None = None,
) -> list[dict[str, Any]]:
    """Ask the model about `todo` in batches; the new rows, written as they come (`flush_s`).

    The next batch's images are decoded (and thumbnailed), and its inputs processed by a
    `Preparing` model, on a worker thread while the model answers this one: on a GPU the model
    waits for nothing but itself.
    """
    new_rows: list[dict[str, Any]] = []
    writer = _Writer(store, run_id, spec.flush_s, spec.shard.tag if spec.shard else "")
    batches = [todo[i : i + spec.batch_size] for i in range(0, len(todo), spec.batch_size)]
    threads = image_threads()
    images = ThreadPoolExecutor(threads, "images") if threads > 1 else None
    load = functools.partial(_load_images, store, spec.blind)
    if observer is not None:
        load = functools.partial(_timed, load, observer)

    def prepare(batch: Sequence[Sample]) -> _Prepared:
        ways = [routes(s, model.capabilities) for s in batch]
        mapper = images.map if images is not None else map
        loaded = list(mapper(load, batch, ways))
        prepared = _prepare_batch(spec, benchmark, batch, ways, loaded, key, run_id)
        prepared.ask(model, generation)
        return prepared

    with ThreadPoolExecutor(1, thread_name_prefix="prepare") as pool:
        ahead = pool.submit(prepare, batches[0]) if batches else None
        try:
            for i, batch in enumerate(batches):
                assert ahead is not None
                prepared = ahead.result()
                ahead = pool.submit(prepare, batches[i + 1]) if i + 1 < len(batches) else None
                _answer(model, generation, prepared)
                # text parquet cannot hold (a lone surrogate in an answer) is escaped here,
                # once: scoring, the store and a resumed run all see the same row
                rows = [escape_row(r) for r in prepared.rows]
                writer.add(rows)
                new_rows += rows
                progress.advance(len(batch))
        finally:
            if ahead is not None:
                ahead.cancel()
            if images is not None:
                images.shutdown(cancel_futures=True)
            writer.flush()  # on an exception too: what was computed is kept
    return new_rows


class _Writer:
    """Appends sample rows to the store at most every `every_s` seconds (and on `flush`).

    One parquet part per batch costs several milliseconds (frame, encoding, fsync): at batch
    size 1 on a small model that is a good share of the run. Rows computed in the last
    `every_s` seconds are lost on a crash; a resumed run recomputes them.
    """

    def __init__(self, store: ResultsStore, run_id: str, every_s: float, tag: str = "") -> None:
        self.store, self.run_id, self.every_s, self.tag = store, run_id, every_s, tag
        self.pending: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.pending += rows
        if time.monotonic() - self.last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            check_columns({k for row in self.pending for k in row}, SampleRecord)
            self.store.append_samples(self.run_id, self.pending, self.tag)
            self.pending = []
        self.last = time.monotonic()


@dataclass
class _Prepared:
    """A batch ready for the model: a row per sample, the samples it can be asked about with
    their images, and (after `ask`) the call that answers them by their first route."""

    rows: list[dict[str, Any]]
    pending: list[_Pending]
    first: Callable[[], list[Prediction]] | None = None

    def ask(self, model: Model, generation: GenerationSettings) -> None:
        requests = [p.request(self.rows[p.slot], generation) for p in self.pending]
        if not isinstance(model, Preparing):
            self.first = functools.partial(model.predict, requests)
            return
        try:
            self.first = model.prepare(requests)
        except Exception as exc:  # like a crash in predict: this batch's samples fail

            def fail(exc: Exception = exc) -> list[Prediction]:
                raise exc

            self.first = fail


def image_threads() -> int:
    """Threads that decode and thumbnail images for the next batch: a quarter of the cores, at
    most 8 (PIL works outside the GIL). The rest stay with the model; on a small machine that
    runs the model on its CPU the one worker thread does it all."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cores = len(usable) if usable else (os.cpu_count() or 1)
    return max(1, min(8, cores // 4))


def _load_images(
    store: ResultsStore, blind: bool, sample: Sample, ways: list[tuple[Mode, Form]]
) -> tuple[Any, ...] | ImageError:
    """A sample's images decoded (and thumbnailed), gray ones if blind; an unreadable image is
    returned as its error. None are loaded for a sample the model cannot be asked (no `ways`)."""
    if not ways or sample.error is not None:
        return ()
    try:
        images = tuple(img.load() for img in sample.images)
    except ImageError as exc:
        return exc
    for img, src in zip(images, sample.images, strict=True):
        store.save_thumbnail(src.fingerprint(), img)
    return tuple(_gray_like(img) for img in images) if blind else images


def _timed(
    load: Callable[[Sample, list[tuple[Mode, Form]]], tuple[Any, ...] | ImageError],
    observer: RunObserver,
    sample: Sample,
    ways: list[tuple[Mode, Form]],
) -> tuple[Any, ...] | ImageError:
    """`load`, its time told to `observer`."""
    t0 = time.perf_counter()
    try:
        return load(sample, ways)
    finally:
        observer.images_loaded(sample, time.perf_counter() - t0)


def _prepare_batch(
    spec: RunSpec,
    benchmark: Benchmark,
    batch: Sequence[Sample],
    ways: Sequence[list[tuple[Mode, Form]]],
    loaded: Sequence[tuple[Any, ...] | ImageError],
    key: Callable[[Sample], str],
    run_id: str,
) -> _Prepared:
    """A row per sample, and the samples the model can be asked about (their `ways`, from
    `routes`) with their images."""
    rows: list[dict[str, Any]] = []
    pending: list[_Pending] = []
    for sample, options, images in zip(batch, ways, loaded, strict=True):
        row = _sample_row(spec, benchmark, sample, key(sample), run_id)
        rows.append(row)
        if not options:
            row["unsupported"] = True
            continue
        if sample.error is not None:  # a broken item: recorded, never asked
            row["mode"], row["form"] = options[0]
            _record(row, Prediction(error=sample.error))
            continue
        if isinstance(images, ImageError):
            row["mode"], row["form"] = options[0]
            row["prompt"] = request_text(sample, options[0][1])
            _record(row, Prediction.from_exception(images))
            continue
        pending.append(_Pending(len(rows) - 1, sample, images, options))
    return _Prepared(rows, pending)


def _answer(model: Model, generation: GenerationSettings, prepared: _Prepared) -> None:
    """Ask the model; record each answer in its row.

    The first route's answers come from the prepared call. A model may decline a request it
    cannot answer (a captioner asked to count, say): the sample then goes the next way the model
    could take, if there is one.
    """
    rows, pending, call = prepared.rows, prepared.pending, prepared.first
    while pending:
        if call is None:
            requests = [p.request(rows[p.slot], generation) for p in pending]
            call = functools.partial(model.predict, requests)
        predictions = _predict(call, len(pending))
        call = None
        retry = []
        for p, pred in zip(pending, predictions, strict=True):
            if pred.unsupported is not None and len(p.options) > 1:
                retry.append(_Pending(p.slot, p.sample, p.images, p.options[1:]))
            else:
                _record(rows[p.slot], pred)
        pending = retry


@dataclass
class _Pending:
    """A sample waiting for an answer: its row, loaded images and the routes left to try."""

    slot: int
    sample: Sample
    images: tuple[Any, ...]
    options: list[tuple[Mode, Form]]

    def request(self, row: dict[str, Any], generation: GenerationSettings) -> Request:
        mode, form = self.options[0]
        row["mode"], row["form"] = mode, form
        row["prompt"] = request_text(self.sample, form)
        choices = self.sample.choices or ()
        if mode == "choice" and self.sample.choice_texts:  # full statements for matching
            choices = self.sample.choice_texts
        # first-token probabilities come with a generated reply to the open question
        words = self.sample.first_token_words if (mode, form) == ("generate", "open") else ()
        return Request(
            self.sample, self.images, row["prompt"], mode, generation, form, tuple(choices), words
        )


def _predict(call: Callable[[], list[Prediction]], n: int) -> list[Prediction]:
    """Run a model call for `n` requests: `n` predictions, errors for all if it crashes."""
    t0 = time.perf_counter()
    try:
        predictions = call()
        if len(predictions) != n:
            raise RuntimeError(f"model returned {len(predictions)} predictions for {n} requests")
    except ModelUnavailableError:
        raise  # nothing can be answered now: stop the run, keeping what was answered
    except Exception as exc:  # a model crash fails this batch's samples, not the run
        predictions = [Prediction.from_exception(exc) for _ in range(n)]
    share = (time.perf_counter() - t0) / max(n, 1)
    for pred in predictions:
        if not pred.latency_s:
            pred.latency_s = share
    return predictions


def _gray_like(img: Any) -> Any:
    from PIL import Image

    return Image.new("RGB", img.size, GRAY)


def _sample_row(
    spec: RunSpec, benchmark: Benchmark, sample: Sample, key: str, run_id: str
) -> dict[str, Any]:
    """A sample's row before it is asked: every column of the schema, its answer blank."""
    row = SampleRecord(
        run_id=run_id,
        model=spec.model_label,
        benchmark=benchmark.name,
        benchmark_version=benchmark.version,
        sample_id=sample.id,
        cache_key=key,
        group=sample.group or sample.id,
        category=sample.category,
        prompt=sample.prompt,
        target=sample.target,
        targets=json.dumps(list(sample.targets)),
        choices=json.dumps(list(sample.choices)) if sample.choices is not None else None,
        image_ids=json.dumps([fingerprint_of(img) for img in sample.images]),
        metadata=json.dumps(dict(sample.metadata), sort_keys=True, default=str),
    ).row()
    for k, v in sample.metadata.items():
        if isinstance(v, str | int | float | bool) or v is None:
            row[META_PREFIX + k] = v
    return row


def _record(row: dict[str, Any], pred: Prediction) -> None:
    if pred.unsupported is not None:  # as if planning had found no way: not an error
        row["unsupported"] = True
        return
    row["prediction"] = pred.text
    row["choice_scores"] = (
        json.dumps(pred.choice_scores) if pred.choice_scores is not None else None
    )
    row["first_tokens"] = pred.first_tokens.to_json() if pred.first_tokens is not None else None
    row["error"] = pred.error
    row["latency_s"] = float(pred.latency_s)
    row["input_tokens"] = pred.input_tokens
    row["output_tokens"] = pred.output_tokens
    row["reasoning_tokens"] = pred.reasoning_tokens
