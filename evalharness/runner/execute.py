"""Run one model against one benchmark: batches in, raw predictions stored, then scored.

A run is planned (`plan`: its samples, key and row, and what is already answered), answered in
batches (`batches`) and finished (`finish.finish_run`, which `evalharness rescore` shares).
Rows are written after every batch, so a crash loses at most the batch in flight, and a rerun
skips every sample whose stored row has the same resume key and no error.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from evalharness.benchmarks.base import Benchmark
from evalharness.errors import EvalharnessError, Stopped
from evalharness.images import pixel_cap
from evalharness.models.base import Model
from evalharness.runner.batches import RunObserver, answer_all, image_threads
from evalharness.runner.finish import RunResult, complete_run, finish_run, judged, shorten
from evalharness.runner.plan import (
    RunPlan,
    data_hash,
    generation_for,
    now,
    plan_run,
    resume,
    run_samples,
)
from evalharness.runner.progress import Progress
from evalharness.runner.spec import BenchmarkSpec, RunSpec
from evalharness.store import ResultsStore, RunRecord

if TYPE_CHECKING:
    from evalharness.judge import Judge

__all__ = [
    "RunObserver",
    "RunPlan",
    "RunResult",
    "answer_all",
    "complete_run",
    "data_hash",
    "ending",
    "finish_run",
    "generation_for",
    "image_threads",
    "judged",
    "plan_run",
    "run_benchmark",
    "run_samples",
    "shorten",
]


def run_benchmark(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    store: ResultsStore,
    progress: Progress,
    source: BenchmarkSpec | None = None,
    judge: Judge | None = None,
    observer: RunObserver | None = None,
) -> RunResult | None:
    """Run one benchmark; `source` (the name and settings it was built from) is stored with the
    run so that `evalharness rescore` can build it again. A shard (`spec.shard`) answers its
    part; it returns the run's result only when it was the one to aggregate the run. A `judge`
    reads the replies the rules cannot (`evalharness.judge`); it is part of the run's key. An
    `observer` is told where the run's time goes (`RunObserver`)."""
    plan = plan_run(spec, model, benchmark, source, judge)
    if spec.shard is not None:  # one data-parallel worker's part; the last one in aggregates
        from evalharness.runner.shards import run_shard

        return run_shard(spec, model, benchmark, store, progress, plan)
    samples, run_id = plan.samples, plan.run_id
    with store.lock(run_id):
        reused = resume(store, benchmark, plan)
        done = reused.done
        plan.base_row = dataclasses.replace(plan.base_row, answers_from=reused.answers_from)
        with _running(store, plan.base_row):
            todo = reused.todo(samples)
            progress.start_run(f"{spec.model_label} × {benchmark.name}", len(samples), len(done))
            with pixel_cap(spec.max_image_pixels):
                new_rows = answer_all(
                    spec,
                    model,
                    benchmark,
                    plan.generation,
                    store,
                    run_id,
                    plan.key,
                    todo,
                    progress,
                    observer,
                )
            progress.end_run()
            by_id = {**done, **{r["sample_id"]: r for r in new_rows}}
            return complete_run(spec, benchmark, store, plan, by_id, len(done))


@contextlib.contextmanager
def _running(store: ResultsStore, row: RunRecord) -> Iterator[None]:
    """The run's row says `running` while the block runs. A run stopped by an exception is
    marked `interrupted` (Ctrl-C, SIGTERM, SIGHUP) or `failed`, with the reason, rather than
    left `running`; the exception goes on."""
    store.write_run(dataclasses.replace(row, status="running", status_reason="").row())
    try:
        yield
    except BaseException as exc:
        status, reason = ending(exc)
        stopped = dataclasses.replace(row, status=status, status_reason=reason, finished_at=now())
        with contextlib.suppress(Exception):  # the first error is the one to report
            store.write_run(stopped.row())
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
