"""Extraction and scoring of stored raw predictions, separate from prediction and re-runnable.

The runner calls `score_rows` when a run finishes; `evalharness rescore` calls it on stored runs
after extraction or scoring code improves, without asking the model again.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalharness.benchmarks.base import Answered, Benchmark
from evalharness.benchmarks.protocols import ROBUST, protocol_aggregates
from evalharness.extract import DEFAULT_REASONING_TAGS, TagPair, split_reasoning
from evalharness.stats import Estimate, estimate
from evalharness.store import METRIC_PREFIX
from evalharness.types import FirstTokens, Prediction, Sample, Scored

if TYPE_CHECKING:
    from evalharness.judge import Judge


def prediction_from_row(row: dict[str, Any]) -> Prediction:
    scores = row.get("choice_scores")
    return Prediction(
        text=_str_or_none(row.get("prediction")),
        choice_scores=json.loads(scores) if isinstance(scores, str) else None,
        first_tokens=FirstTokens.from_json(row.get("first_tokens")),
        error=_str_or_none(row.get("error")),
    )


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def read_status(prediction: Prediction, truncated: bool, scored: Scored) -> str:
    """How a sample's answer was read: "rule" (the extraction rules read one), "unreadable" (they
    found none: the reply gives no answer, or two), "truncated" (the reply ended inside its
    reasoning trace), "scores" (from per-option scores), or "" for a failed sample. An
    "unreadable" sample is where another reader (a judge model) may take over."""
    if prediction.error is not None:
        return ""
    if prediction.choice_scores is not None:
        return "scores"
    if truncated:
        return "truncated"
    return "unreadable" if scored.extracted in (None, "") else "rule"


def _split(prediction: Prediction, tags: Sequence[TagPair]) -> tuple[Prediction, str | None, bool]:
    """The prediction with only the answer after its reasoning trace, the trace, and whether the
    reply ended inside the trace (then there is no answer)."""
    if prediction.text is None or prediction.error is not None:
        return prediction, None, False
    split = split_reasoning(prediction.text, tags)
    return dataclasses.replace(prediction, text=split.answer), split.trace, split.truncated


def score_rows(
    benchmark: Benchmark,
    samples: Sequence[Sample],
    rows: pd.DataFrame,
    reasoning_tags: Sequence[TagPair] = DEFAULT_REASONING_TAGS,
    judge: Judge | None = None,
) -> pd.DataFrame:
    """Return `rows` (one per sample, raw predictions) with extracted, score and metric columns,
    the reasoning trace split off each reply (`reasoning`) and how its answer was read
    (`read_status`). The raw reply (`prediction`) is left whole. With a `judge`, the replies the
    rules cannot read go to it (`evalharness.judge.review`), and its columns are filled in."""
    from evalharness import judge as judging

    by_id = {s.id: s for s in samples}
    records = rows.to_dict("records")
    answerable = [
        i for i, r in enumerate(records) if not r.get("unsupported") and r["sample_id"] in by_id
    ]
    splits = [_split(prediction_from_row(records[i]), reasoning_tags) for i in answerable]
    answered = [
        Answered(by_id[records[i]["sample_id"]], split[0], records[i]["form"])
        for i, split in zip(answerable, splits, strict=True)
    ]
    scored = benchmark.score(answered) if answered else []
    for rec in records:
        rec["extracted"] = None
        rec["score"] = math.nan
        rec["reasoning"] = None
        rec["read_status"] = ""
        judging.blank(rec)
    metric_names: set[str] = set()
    for i, sc, a, (_, trace, cut) in zip(answerable, scored, answered, splits, strict=True):
        rec = records[i]
        rec["extracted"] = sc.extracted
        rec["score"] = float(sc.score)
        rec["reasoning"] = trace
        rec["read_status"] = read_status(a.prediction, cut, sc)
        for name, value in sc.metrics.items():
            rec[METRIC_PREFIX + name] = float(value)
            metric_names.add(name)
    if judge is not None:
        items = [
            judging.Item(records[i], a, sc)
            for i, sc, a in zip(answerable, scored, answered, strict=True)
        ]
        metric_names |= judging.review(judge, benchmark, items)
    out = pd.DataFrame(records)
    for name in metric_names:  # rows without a metric (unsupported) hold NaN, not missing columns
        col = METRIC_PREFIX + name
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def aggregate(
    benchmark: Benchmark, samples: Sequence[Sample], rows: pd.DataFrame, seed: int
) -> dict[str, Estimate]:
    """Every aggregate of the benchmark with its 95 % clustered-bootstrap CI."""
    frame = rows[~rows["unsupported"].astype(bool)] if "unsupported" in rows else rows
    renamed = frame.rename(
        columns={c: c[len(METRIC_PREFIX) :] for c in frame.columns if c.startswith(METRIC_PREFIX)}
    )
    aggregates = [*benchmark.aggregates(samples), *protocol_aggregates(benchmark, samples)]
    out = estimate(renamed, aggregates, cluster="group", seed=seed)
    if getattr(benchmark, "official", None) is not None:  # the score is the headline reading's
        out["score"] = out[getattr(benchmark, "headline", ROBUST)]
    return out
