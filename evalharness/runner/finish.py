"""The end of a run, shared by a run and `evalharness rescore`: its rows scored, its metrics
aggregated (with confidence intervals), its parts compacted into one, its errors summed up and
its run row written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalharness.benchmarks.base import Benchmark
from evalharness.extract import TagPair
from evalharness.runner.plan import RunPlan, data_hash, now
from evalharness.runner.scoring import aggregate, score_rows
from evalharness.runner.spec import RunSpec
from evalharness.stats import Estimate
from evalharness.store import (
    METRIC_PREFIX,
    ResultsStore,
    RunRecord,
    SampleRecord,
    check_columns,
    conform,
    to_frame,
)
from evalharness.types import Sample

if TYPE_CHECKING:
    from evalharness.judge import Judge


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


@dataclass(frozen=True)
class Finished:
    """A run's scores and counts, as `finish_run` wrote them."""

    metrics: dict[str, Estimate]
    primary: Estimate
    n_errors: int
    n_unsupported: int
    n_truncated: int
    top_error: tuple[str, int] | None


def finish_run(
    store: ResultsStore,
    benchmark: Benchmark,
    samples: Sequence[Sample],
    raw: pd.DataFrame,
    row: RunRecord,
    *,
    seed: int,
    reasoning_tags: tuple[TagPair, ...],
    judge: Judge | None = None,
    max_error_rate: float | None = None,
) -> Finished:
    """Score a run's raw rows (one per sample, in `samples`' order), store them as the run's one
    part, and write its run row: `row` with the scores and the truncated count.

    A run that ends here (`max_error_rate` given) also records its counts, data hash and end:
    complete, or failed when its errors are over `max_error_rate`. A rescore (None) keeps the
    run's status and counts. Raw rows stored by an older version get the columns they lack (the
    schema's values for older rows). The caller holds the run's lock.
    """
    raw = raw.drop(columns=[c for c in raw.columns if c.startswith(METRIC_PREFIX)])
    raw = conform(raw, SampleRecord, coerce=False)
    scored = score_rows(benchmark, samples, raw, reasoning_tags, judge)
    check_columns(scored.columns, SampleRecord)
    metrics = aggregate(benchmark, samples, scored, seed)
    if judge is not None:
        metrics, summary = judged(judge, scored, metrics, seed)
        row = replace(row, judge=summary)
    store.compact(row.run_id, to_frame(scored.to_dict("records")))
    errors = scored["error"][scored["error"].map(lambda e: isinstance(e, str))]
    n_err = len(errors)
    counts = errors.value_counts()
    top_error = (str(counts.index[0]), int(counts.iloc[0])) if n_err else None
    n_uns = int(scored["unsupported"].astype(bool).sum())
    n_cut = int((scored["read_status"] == "truncated").sum())
    primary = metrics.get("score") or Estimate(float("nan"), float("nan"), float("nan"), 0)
    if max_error_rate is not None:
        status, why = _ending(len(samples), n_err, n_uns, top_error, max_error_rate)
        row = replace(
            row,
            status=status,
            status_reason=why,
            finished_at=now(),
            data_hash=data_hash(samples),
            n_samples=len(samples),
            n_errors=n_err,
            n_unsupported=n_uns,
        )
    row = replace(
        row,
        n_truncated=n_cut,
        score=primary.value,
        score_ci_low=primary.ci_low,
        score_ci_high=primary.ci_high,
        score_bounded=primary.bounded,
        metrics=json.dumps({k: v.as_dict() for k, v in metrics.items()}),
    )
    store.write_run(row.row())
    return Finished(metrics, primary, n_err, n_uns, n_cut, top_error)


def _ending(
    n: int, n_err: int, n_uns: int, top_error: tuple[str, int] | None, max_error_rate: float
) -> tuple[str, str]:
    """The run's status at its end, and why: over the error threshold the run is failed (never
    ranked); a rerun retries the errors."""
    answered = n - n_uns
    over = answered > 0 and n_err / answered > max_error_rate
    why = (
        f"error rate {n_err}/{answered} above max_error_rate={max_error_rate}"
        + (f"; most common ({top_error[1]} samples): {shorten(top_error[0])}" if top_error else "")
        if over
        else ""
    )
    return ("failed" if over else "complete"), why


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
    samples = plan.samples
    end = finish_run(
        store,
        benchmark,
        samples,
        pd.DataFrame([by_id[s.id] for s in samples]),
        plan.base_row,
        seed=spec.seed,
        reasoning_tags=spec.reasoning_tags,
        judge=plan.judge,
        max_error_rate=spec.max_error_rate,
    )
    return RunResult(
        plan.run_id,
        spec.model_label,
        benchmark.name,
        benchmark.version,
        len(samples),
        end.n_errors,
        end.n_unsupported,
        n_reused,
        end.metrics,
        end.top_error,
        n_truncated=end.n_truncated,
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


def shorten(text: str, limit: int = 300) -> str:
    """`text` on one line, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
