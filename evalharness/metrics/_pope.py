"""POPE: object-hallucination probing scored as yes/no classification, with bootstrap aggregates.

Each answer becomes one row of 0/1 columns (`pope_row`); every POPE number is a ratio of column
sums, so the same formulas give both the plain values (`pope`) and the bootstrap intervals of
`evalharness.stats.estimate` (`pope_aggregates`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalharness.stats import Aggregate, FloatArray

POPE_COLUMNS = ("tp", "fp", "fn", "tn", "pred_yes", "correct")
"""Per-sample metric columns written by `pope_row` and read by `pope_aggregates`."""


def pope_row(prediction: bool | None, label: bool) -> dict[str, float]:
    """The per-sample POPE columns of one answer, each 0.0 or 1.0.

    `tp`: said yes, object present. `fp`: said yes, object absent. `fn`: object present, answer
    not yes. `tn`: said no, object absent. `pred_yes`: said yes. `correct`: tp or tn.
    An unreadable answer (None) is wrong and not a yes: it is `fn` when the object is present and
    counts in no column but the sample count when it is absent.
    """
    said_yes = prediction is True
    tp = float(said_yes and label)
    tn = float(prediction is False and not label)
    return {
        "tp": tp,
        "fp": float(said_yes and not label),
        "fn": float(label and not said_yes),
        "tn": tn,
        "pred_yes": float(said_yes),
        "correct": tp + tn,
    }


def _divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(denominator > 0, denominator, 1.0)
        out: FloatArray = np.where(denominator > 0, numerator / safe, np.nan)
    return out


def _precision(sums: FloatArray) -> FloatArray:  # (tp, pred_yes)
    return _divide(sums[..., 0], sums[..., 1])


def _recall(sums: FloatArray) -> FloatArray:  # (tp, fn)
    return _divide(sums[..., 0], sums[..., 0] + sums[..., 1])


def _f1(sums: FloatArray) -> FloatArray:  # (tp, fp, fn): 2PR / (P + R) without the 0/0 cases
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    return _divide(2 * tp, 2 * tp + fp + fn)


def pope_aggregates(
    prefix: str = "", *, column_prefix: str = "", where: tuple[str, object] | None = None
) -> list[Aggregate]:
    """Aggregates for `evalharness.stats.estimate`: accuracy, precision, recall, f1, yes_ratio.

    They read the `POPE_COLUMNS` written by `pope_row`. `prefix` goes before each aggregate's name
    ("adversarial/" gives "adversarial/f1"); `column_prefix` before each column name, for frames
    whose metric columns are stored prefixed (`evalharness.store.METRIC_PREFIX`); `where` keeps only rows whose column
    equals a value (e.g. ``("category", "adversarial")``). Ratios with a zero denominator are NaN.
    """

    def col(name: str) -> str:
        return column_prefix + name

    return [
        Aggregate.mean(col("correct"), prefix + "accuracy", where, bounded=True),
        Aggregate(
            prefix + "precision", (col("tp"), col("pred_yes")), _precision, where, bounded=True
        ),
        Aggregate(prefix + "recall", (col("tp"), col("fn")), _recall, where, bounded=True),
        Aggregate(prefix + "f1", (col("tp"), col("fp"), col("fn")), _f1, where, bounded=True),
        Aggregate.mean(col("pred_yes"), prefix + "yes_ratio", where, bounded=True),
    ]


def pope(predictions: Sequence[bool | None], labels: Sequence[bool]) -> dict[str, float]:
    """POPE metrics of yes/no answers (None = unreadable) against object-presence labels.

    Returns "accuracy", "precision", "recall", "f1" and "yes_ratio". An unreadable answer counts as
    wrong and as not "yes" (see `pope_row`); yes_ratio is the share of *predictions* that are yes,
    over all answers, unreadable ones included. Undefined ratios (no yes answers for precision, no
    present objects for recall, no samples) are NaN. The formulas are those of `pope_aggregates`,
    so these values equal the point estimates of `evalharness.stats.estimate` on the same rows.

    Raises ValueError if the two sequences differ in length.
    """
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels")
    rows = [pope_row(p, label) for p, label in zip(predictions, labels, strict=True)]
    sums = {c: sum(r[c] for r in rows) for c in POPE_COLUMNS} | {"__one__": float(len(rows))}
    return {
        agg.name: float(agg.fn(np.array([sums[c] for c in agg.columns], dtype=np.float64)))
        for agg in pope_aggregates()
    }
