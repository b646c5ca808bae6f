"""Run one model against one benchmark: batches in, raw predictions stored, then scored.

A sample that raises (undecodable image, model error) becomes an error row and the run goes on.
Rows are written after every batch, so a crash loses at most the batch in flight, and a rerun
skips every sample whose stored row has the same resume key and no error.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalharness._version import __version__
from evalharness.benchmarks.base import Benchmark
from evalharness.errors import EvalharnessError, Stopped
from evalharness.extract import DEFAULT_REASONING_TAGS
from evalharness.images import pixel_cap
from evalharness.models.base import Fittable, Model, ModelUnavailableError, Preparing
from evalharness.runner import provenance
from evalharness.runner._reuse import older_answers, reusable, sample_key
from evalharness.runner.progress import Progress
from evalharness.runner.scoring import aggregate, score_rows
from evalharness.runner.spec import BenchmarkSpec, RunSpec, stable_hash
from evalharness.stats import Estimate
from evalharness.store import FORMAT_VERSION, ResultsStore, escape_row, stored_text, to_frame
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

if TYPE_CHECKING:
    from evalharness.judge import Judge

GRAY = (128, 128, 128)


@dataclass(frozen=True)
class RunResult:
    run_id: str
    model: str
    benchmark: str
    benchmark_version: str
    n_samples: int
    n_errors: int
    n_unsupported: int
    n_reused: int
    metrics: dict[str, Estimate]
    top_error: tuple[str, int] | None = None
    """The most frequent error message of the run's samples, and how many samples have it."""
    n_truncated: int = 0
    """Samples whose reply ended inside its reasoning trace: no answer to read."""

    @property
    def error_rate(self) -> float:
        answered = self.n_samples - self.n_unsupported
        return self.n_errors / answered if answered else 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def generation_for(
    max_new_tokens: int | None,
    benchmark: Benchmark,
    thinking_tokens: int | None = None,
    reasoning_tags: tuple[tuple[str, str], ...] | None = None,
) -> GenerationSettings:
    """The benchmark's generation settings, its answer length overridden when one is given, with
    the thinking budget and the reasoning tags it applies to."""
    g = benchmark.generation
    if max_new_tokens is None and thinking_tokens is None and reasoning_tags is None:
        return g
    tokens = g.max_new_tokens if max_new_tokens is None else max_new_tokens
    return GenerationSettings(tokens, g.temperature, g.stop, thinking_tokens, reasoning_tags)


def run_samples(benchmark: Benchmark, limit: int | None) -> tuple[list[Sample], list[Sample]]:
    """All of the benchmark's samples, and the first `limit` of them: those a run asks."""
    everything = list(benchmark.samples())
    for s in everything:  # a row's other text is stored escaped; its id must match as it is
        if stored_text(s.id) != s.id:
            raise EvalharnessError(
                f"benchmark {benchmark.name!r}: sample id {s.id!r} is not valid text (UTF-8 "
                "cannot encode it); its ids must be, to be stored and resumed."
            )
    return everything, everything[:limit] if limit is not None else everything


def data_hash(samples: Sequence[Sample]) -> str:
    """The hash of a run's sample set (`data_hash` in the runs table)."""
    return stable_hash([s.content_hash() for s in samples], 32)


def run_benchmark(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    store: ResultsStore,
    progress: Progress,
    source: BenchmarkSpec | None = None,
    judge: Judge | None = None,
) -> RunResult | None:
    """Run one benchmark; `source` (the name and settings it was built from) is stored with the
    run so that `evalharness rescore` can build it again. A shard (`spec.shard`) answers its
    part; it returns the run's result only when it was the one to aggregate the run. A `judge`
    reads the replies the rules cannot (`evalharness.judge`); it is part of the run's key."""
    plan = plan_run(spec, model, benchmark, source, judge)
    if spec.shard is not None:  # one data-parallel worker's part; the last one in aggregates
        from evalharness.runner.shards import run_shard

        return run_shard(spec, model, benchmark, store, progress, plan)
    samples, key, run_id, base_row = plan.samples, plan.key, plan.run_id, plan.base_row
    with store.lock(run_id):
        done = reusable(store.read_samples(run_id, spare=True), samples, key)
        if done:  # resumed: it keeps what it said of its answers' origin
            base_row["answers_from"] = (store.read_run(run_id) or {}).get("answers_from") or ""
        else:  # a new run: an older version's run may have asked the same already
            done, base_row["answers_from"] = older_answers(
                store, benchmark, samples, plan.key_fields, run_id, key
            )
        with _running(store, base_row):
            todo = [s for s in samples if s.id not in done]
            progress.start_run(f"{spec.model_label} × {benchmark.name}", len(samples), len(done))
            with pixel_cap(spec.max_image_pixels):
                new_rows = _answer_all(
                    spec, model, benchmark, plan.generation, store, run_id, key, todo, progress
                )
            progress.end_run()
            by_id = {**done, **{r["sample_id"]: r for r in new_rows}}
            return complete_run(spec, benchmark, store, plan, by_id, len(done))


@dataclass
class RunPlan:
    """What a run is before anything is asked: its samples, key and row."""

    samples: list[Sample]
    generation: GenerationSettings
    key_fields: dict[str, Any]
    run_key: str
    base_row: dict[str, Any]
    judge: Judge | None = None

    @property
    def run_id(self) -> str:
        return self.run_key[:16]

    def key(self, sample: Sample) -> str:
        # Worked out when needed: for a stored row now, for the rest as its batch is prepared
        # (on the worker thread), so that a run does not first hash every image it will ask about.
        return sample_key(self.run_key, sample)


def plan_run(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    source: BenchmarkSpec | None,
    judge: Judge | None = None,
) -> RunPlan:
    all_samples, samples = run_samples(benchmark, spec.limit)
    if isinstance(model, Fittable):
        model.fit(all_samples)
    generation = generation_for(
        spec.max_new_tokens, benchmark, spec.max_thinking_tokens, spec.reasoning_tags
    )
    identity = model.identity()
    key_fields = {
        "format": FORMAT_VERSION,
        "model": identity,
        "label": spec.model_label,
        "blind": spec.blind,
        "benchmark": benchmark.name,
        "version": benchmark.version,
        "generation": generation.as_dict(),
        "seed": spec.seed,
    }
    if spec.reasoning_tags != DEFAULT_REASONING_TAGS:  # other tags read other answers
        key_fields["reasoning_tags"] = [list(pair) for pair in spec.reasoning_tags]
    if judge is not None:  # another judge reads other answers
        key_fields["judge"] = judge.key()
    run_key = stable_hash(key_fields, length=32)
    base_row = _run_row(spec, model, benchmark, run_key[:16], identity, generation, samples, _now())
    base_row["benchmark_spec"] = json.dumps(
        {"name": source.name, "args": dict(source.args)} if source is not None else None,
        sort_keys=True,
        default=str,
    )
    return RunPlan(samples, generation, key_fields, run_key, base_row, judge)


def complete_run(
    spec: RunSpec,
    benchmark: Benchmark,
    store: ResultsStore,
    plan: RunPlan,
    by_id: dict[str, dict[str, Any]],
    n_reused: int,
) -> RunResult:
    """Score every sample's row (`by_id`), store them as one part and the run as complete (or
    failed, over `max_error_rate`). The caller holds the run's lock."""
    samples, run_id, base_row = plan.samples, plan.run_id, plan.base_row
    raw = pd.DataFrame([by_id[s.id] for s in samples])
    raw = raw.drop(columns=[c for c in raw.columns if c.startswith("metric_")])
    scored = score_rows(benchmark, samples, raw, spec.reasoning_tags, plan.judge)
    metrics = aggregate(benchmark, samples, scored, spec.seed)
    if plan.judge is not None:
        metrics, base_row["judge"] = judged(plan.judge, scored, metrics, spec.seed)
    store.compact(run_id, to_frame(scored.to_dict("records")))
    errors = scored["error"][scored["error"].map(lambda e: isinstance(e, str))]
    n_err = len(errors)
    counts = errors.value_counts()
    top_error = (str(counts.index[0]), int(counts.iloc[0])) if n_err else None
    n_uns = int(scored["unsupported"].astype(bool).sum())
    n_cut = int((scored["read_status"] == "truncated").sum())
    primary = metrics.get("score") or Estimate(float("nan"), float("nan"), float("nan"), 0)
    # over the error threshold the run is failed (never ranked); a rerun retries the errors
    answered = len(samples) - n_uns
    over = answered > 0 and n_err / answered > spec.max_error_rate
    why = (
        f"error rate {n_err}/{answered} above max_error_rate={spec.max_error_rate}"
        + (f"; most common ({top_error[1]} samples): {shorten(top_error[0])}" if top_error else "")
        if over
        else ""
    )
    store.write_run(
        {
            **base_row,
            "status": "failed" if over else "complete",
            "status_reason": why,
            "finished_at": _now(),
            "data_hash": data_hash(samples),
            "n_samples": len(samples),
            "n_errors": n_err,
            "n_unsupported": n_uns,
            "n_truncated": n_cut,
            "score": primary.value,
            "score_ci_low": primary.ci_low,
            "score_ci_high": primary.ci_high,
            "score_bounded": primary.bounded,
            "metrics": json.dumps({k: v.as_dict() for k, v in metrics.items()}),
        }
    )
    return RunResult(
        run_id,
        spec.model_label,
        benchmark.name,
        benchmark.version,
        len(samples),
        n_err,
        n_uns,
        n_reused,
        metrics,
        top_error,
        n_truncated=n_cut,
    )


def judged(
    judge: Judge, scored: pd.DataFrame, metrics: dict[str, Estimate], seed: int
) -> tuple[dict[str, Estimate], str]:
    """The run's metrics with the routes' shares and the judge's agreement added, and the run
    row's `judge` column."""
    from evalharness.judge import judge_summary, route_estimates

    routes = route_estimates(scored, seed)
    summary = json.dumps(judge_summary(judge, routes), sort_keys=True, default=str)
    return {**metrics, **routes}, summary


@contextlib.contextmanager
def _running(store: ResultsStore, row: dict[str, Any]) -> Iterator[None]:
    """The run's row says `running` while the block runs. A run stopped by an exception is
    marked `interrupted` (Ctrl-C, SIGTERM, SIGHUP) or `failed`, with the reason, rather than
    left `running`; the exception goes on."""
    store.write_run({**row, "status": "running", "status_reason": ""})
    try:
        yield
    except BaseException as exc:
        status, reason = ending(exc)
        with contextlib.suppress(Exception):  # the first error is the one to report
            store.write_run(
                {**row, "status": status, "status_reason": reason, "finished_at": _now()}
            )
        raise


def ending(exc: BaseException) -> tuple[str, str]:
    """The status, and its reason, of a run stopped by `exc`."""
    if isinstance(exc, Stopped):
        return "interrupted", f"stopped by {exc.signal_name}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "stopped by Ctrl-C"
    if isinstance(exc, EvalharnessError):
        return "failed", shorten(str(exc))
    return "failed", shorten(f"crashed: {type(exc).__name__}: {exc}")


def shorten(text: str, limit: int = 300) -> str:
    """`text` on one line, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _answer_all(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    generation: GenerationSettings,
    store: ResultsStore,
    run_id: str,
    key: Callable[[Sample], str],
    todo: Sequence[Sample],
    progress: Progress,
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
            self.store.append_samples(self.run_id, self.pending, self.tag)
            self.pending = []
        self.last = time.monotonic()


def _run_row(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    run_id: str,
    identity: dict[str, Any],
    generation: GenerationSettings,
    samples: Sequence[Sample],
    started: str,
) -> dict[str, Any]:
    params = identity.get("params")
    return {
        "run_id": run_id,
        "model": spec.model_label,
        "model_name": spec.model.name,
        "model_identity": json.dumps(identity, sort_keys=True, default=str),
        "model_family": str(identity.get("family_group", "")),
        "model_params": float(params) if isinstance(params, int | float) else float("nan"),
        "reference": bool(model.reference),
        "blind": spec.blind,
        "benchmark": benchmark.name,
        "benchmark_version": benchmark.version,
        "capability": benchmark.capability,
        "data_hash": "",  # set when the run completes, once every sample has been hashed
        "config": json.dumps(dict(spec.config), sort_keys=True, default=str),
        "generation": json.dumps(generation.as_dict()),
        "reasoning_tags": json.dumps([list(pair) for pair in spec.reasoning_tags]),
        "harness_version": __version__,
        "harness_commit": provenance.harness_commit(),
        "libraries": json.dumps(provenance.library_versions(), sort_keys=True),
        "device": provenance.device_name(),
        "seed": spec.seed,
        "batch_size": spec.batch_size,
        "limit": float(spec.limit) if spec.limit is not None else float("nan"),
        "started_at": started,
        "finished_at": "",
        "answers_from": "",
        "status_reason": "",
        "n_samples": len(samples),
        "n_errors": 0,
        "n_unsupported": 0,
        "n_truncated": 0,
        "judge": "",
        "score": float("nan"),
        "score_ci_low": float("nan"),
        "score_ci_high": float("nan"),
        "score_bounded": False,
        "metrics": "{}",
        "format_version": FORMAT_VERSION,
    }


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
        return Request(
            self.sample, self.images, row["prompt"], mode, generation, form, tuple(choices)
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
    row: dict[str, Any] = {
        "run_id": run_id,
        "model": spec.model_label,
        "benchmark": benchmark.name,
        "benchmark_version": benchmark.version,
        "sample_id": sample.id,
        "cache_key": key,
        "group": sample.group or sample.id,
        "category": sample.category,
        "prompt": sample.prompt,
        "mode": "",
        "form": "",
        "prediction": None,
        "choice_scores": None,
        "target": sample.target,
        "targets": json.dumps(list(sample.targets)),
        "choices": json.dumps(list(sample.choices)) if sample.choices is not None else None,
        "error": None,
        "unsupported": False,
        "latency_s": 0.0,
        "input_tokens": None,
        "output_tokens": None,
        "reasoning_tokens": None,
        "image_ids": json.dumps([fingerprint_of(img) for img in sample.images]),
        "metadata": json.dumps(dict(sample.metadata), sort_keys=True, default=str),
    }
    for k, v in sample.metadata.items():
        if isinstance(v, str | int | float | bool) or v is None:
            row[f"meta_{k}"] = v
    return row


def _record(row: dict[str, Any], pred: Prediction) -> None:
    if pred.unsupported is not None:  # as if planning had found no way: not an error
        row["unsupported"] = True
        return
    row["prediction"] = pred.text
    row["choice_scores"] = (
        json.dumps(pred.choice_scores) if pred.choice_scores is not None else None
    )
    row["error"] = pred.error
    row["latency_s"] = float(pred.latency_s)
    row["input_tokens"] = pred.input_tokens
    row["output_tokens"] = pred.output_tokens
    row["reasoning_tokens"] = pred.reasoning_tokens
