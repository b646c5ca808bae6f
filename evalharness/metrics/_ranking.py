"""Ranking metrics of a probability against binary labels, as scikit-learn computes them, over
weighted rows: ROC-AUC (`roc_auc_score`: the area under the ROC curve by the trapezoidal rule,
so a tie between a positive and a negative counts one half) and average precision
(`average_precision_score`: the sum over thresholds of the recall gained times the precision
there, without interpolation).

A weight is how often a row counts (a bootstrap resample draws rows several times or not at all):
the value equals scikit-learn's on the rows repeated that often. `weights` may hold one weight row
per resample, (..., n), and every resample is computed at once. Without a positive (by weight)
neither has a value, and without a negative ROC-AUC has none: NaN there (scikit-learn raises, or
warns and returns 0, for these).
"""

from __future__ import annotations

import numpy as np

from evalharness.stats import FloatArray


def _groups(
    scores: FloatArray, labels: FloatArray, weights: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Weighted positives and negatives per distinct score, highest score first: (..., g)."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    w = weights[..., order]
    y = labels[order]
    pos = np.add.reduceat(w * y, starts, axis=-1)
    neg = np.add.reduceat(w * (1.0 - y), starts, axis=-1)
    return pos, neg


def roc_auc(scores: FloatArray, labels: FloatArray, weights: FloatArray) -> FloatArray:
    """The area under the ROC curve: the share of (positive, negative) pairs in which the
    positive scores higher, ties one half."""
    if scores.size == 0:
        return np.full(weights.shape[:-1], np.nan)
    pos, neg = _groups(scores, labels, weights)
    n_pos, n_neg = pos.sum(axis=-1), neg.sum(axis=-1)
    below = n_neg[..., None] - np.cumsum(neg, axis=-1)  # negatives scored lower than the group
    pairs = (pos * (below + 0.5 * neg)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where((n_pos > 0) & (n_neg > 0), pairs / (n_pos * n_neg), np.nan)
    return out


def average_precision(scores: FloatArray, labels: FloatArray, weights: FloatArray) -> FloatArray:
    """Average precision: at each distinct score from the top, the recall it adds times the
    precision of everything scored at least that high."""
    if scores.size == 0:
        return np.full(weights.shape[:-1], np.nan)
    pos, neg = _groups(scores, labels, weights)
    tps, fps = np.cumsum(pos, axis=-1), np.cumsum(neg, axis=-1)
    n_pos = tps[..., -1]
    counted = tps + fps
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(counted > 0, tps / np.where(counted > 0, counted, 1.0), 0.0)
        total = (pos * precision).sum(axis=-1)
        out: FloatArray = np.where(n_pos > 0, total / n_pos, np.nan)
    return out
