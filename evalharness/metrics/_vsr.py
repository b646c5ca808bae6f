"""VSR's official reading: TRI-ML/vlm-evaluation's VSR evaluation
(`vlm_eval/tasks/harnesses/vsr.py`, `VSRScorer`, with the probabilities its model wrappers in
`vlm_eval/models/` compute), which reads the model's first step, not its reply.

The wrappers take the first generated step's distribution over the whole vocabulary, the
probabilities of the first token of "True" and of "False" (as the tokenizer encodes each word
alone), and normalise the pair to sum to one. The scorer predicts the larger ("True" on a tie:
`[True, False][np.argmax(pair)]`), reports the accuracy of those predictions, and the ROC-AUC
and PR-AUC of the "True" probability against the labels (scikit-learn's `roc_auc_score` and
`average_precision_score`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from evalharness.metrics._ranking import average_precision, roc_auc
from evalharness.stats import Aggregate, FloatArray

VSR_WORDS = ("True", "False")
"""The words whose first tokens the scorer compares, in its order (the positive class first)."""

_SCRIPT = "vlm-evaluation's VSR scorer"


def true_false_pair(
    probs: Mapping[str, float | None] | None, words: Sequence[str] = VSR_WORDS
) -> tuple[float, float] | None:
    """The two words' first-token probabilities normalised over the pair, as the wrappers
    normalise them; None where either is missing or neither has any probability (the wrappers
    would divide 0 by 0)."""
    if probs is None:
        return None
    a, b = (probs.get(w) for w in words)
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return None
    total = a + b
    if total <= 0:
        return None
    return a / total, b / total


def vsr_says_true(p_true: float, p_false: float) -> bool:
    """The scorer's prediction from a normalised pair: the larger, "True" on a tie."""
    return not p_false > p_true


def _roc(x: FloatArray, weights: FloatArray) -> FloatArray:  # columns (p_true, is_true)
    return roc_auc(x[:, 0], x[:, 1], weights)


def _pr(x: FloatArray, weights: FloatArray) -> FloatArray:
    # the scorer computes ROC-AUC first: where that raises (one class only), there is no PR-AUC
    negatives = (weights * (1.0 - x[:, 1])).sum(axis=-1)
    out: FloatArray = np.where(negatives > 0, average_precision(x[:, 0], x[:, 1], weights), np.nan)
    return out


def vsr_official_aggregates(column_prefix: str) -> list[Aggregate]:
    """The scorer's numbers over the official reading's columns: `official` (accuracy; NaN where
    no sample has probabilities), `official/roc_auc` and `official/pr_auc` (NaN where the samples
    with probabilities hold one class only, where the scorer's `roc_auc_score` raises)."""
    columns = (column_prefix + "p_true", column_prefix + "is_true")
    one_class = (
        f"{_SCRIPT} fails: roc_auc_score needs both true and false captions among the samples "
        "with probabilities"
    )
    accuracy = Aggregate.mean("official", "official", bounded=True)
    return [
        dataclasses.replace(
            accuracy,
            undefined=f'no sample has first-token probabilities of "{VSR_WORDS[0]}" and '
            f'"{VSR_WORDS[1]}" (the model gives none)',
        ),
        Aggregate.ranked("official/roc_auc", columns, _roc, bounded=True, undefined=one_class),
        Aggregate.ranked("official/pr_auc", columns, _pr, bounded=True, undefined=one_class),
    ]
