"""Paired significance tests and tie-group ranks for the leaderboard.

Two models are compared on the same items (same benchmark version, shared sample ids), so the tests
are paired: McNemar's test for 0/1 scores, a paired bootstrap for continuous scores. A rank is shared
by a *tie group*: walking down the score order, a model joins the group above when its difference
from that group's leader (its best model) is not significant, otherwise it opens a new group. Comparing
with the leader rather than with the direct neighbour stops long chains of small steps (A ~ B ~ C …)
from merging models that clearly differ into one rank. No correction for multiple comparisons is
applied: the groups describe adjacent pairs, not a family-wise claim.

The bootstrap keeps clusters (items that share an image) together, like `evalharness.stats`, and uses
the same resampling weights for every model of a benchmark, so differences of bootstrapped means are
bootstrapped paired differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ALPHA = 0.05
EXACT_MCNEMAR_MAX = 100
"""Up to this many discordant pairs McNemar uses the exact binomial test; above, the chi-square."""


def mcnemar_p(b: int, c: int) -> float:
    """Two-sided p-value of McNemar's test from the discordant counts b (A right, B wrong) and c.

    Exact binomial (b ~ Bin(b + c, 1/2)) for small counts; chi-square with continuity correction
    (1 degree of freedom) when the normal approximation is good.
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0
    if n <= EXACT_MCNEMAR_MAX:
        k = min(b, c)
        log_half_n = n * math.log(0.5)
        tail = sum(math.exp(_log_choose(n, i) + log_half_n) for i in range(k + 1))
        return min(1.0, 2.0 * tail)
    chi2 = (abs(b - c) - 1.0) ** 2 / n
    return math.erfc(math.sqrt(chi2 / 2.0))


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def discordant(a: FloatArray, b: FloatArray) -> tuple[int, int]:
    """(# items a right and b wrong, # items a wrong and b right) over items both answered."""
    both = np.isfinite(a) & np.isfinite(b)
    a1, b1 = a[both] >= 0.5, b[both] >= 0.5
    return int(np.sum(a1 & ~b1)), int(np.sum(~a1 & b1))


def bootstrap_p(diffs: FloatArray) -> float:
    """Two-sided p-value that a paired difference is zero, from its bootstrap draws.

    Twice the share of draws on the far side of zero (percentile method); 1 when all draws are 0.
    """
    d = diffs[np.isfinite(diffs)]
    if d.size == 0:
        return 1.0
    below = (np.sum(d < 0) + 0.5 * np.sum(d == 0)) / d.size
    above = (np.sum(d > 0) + 0.5 * np.sum(d == 0)) / d.size
    return float(min(1.0, 2.0 * min(below, above)))


def is_binary(scores: FloatArray) -> bool:
    """All finite values are 0 or 1 (accuracy-like): such benchmarks use McNemar."""
    v = scores[np.isfinite(scores)]
    return bool(v.size) and bool(np.all((v == 0.0) | (v == 1.0)))


def cluster_weights(groups: IntArray, resamples: int, seed: int) -> FloatArray:
    """(resamples, n_items) bootstrap weights that resample whole clusters with replacement."""
    n_clusters = int(groups.max()) + 1 if groups.size else 0
    if n_clusters == 0:
        return np.zeros((resamples, 0))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=resamples)
    return counts[:, groups].astype(np.float64)


def bootstrap_means(scores: FloatArray, weights: FloatArray) -> FloatArray:
    """Bootstrap draws of each column's mean: (resamples, n_columns); NaN items are left out.

    `scores` is (n_items, n_columns), one column per run of the same benchmark version; `weights`
    comes from `cluster_weights` over the same items, shared by every column.
    """
    mask = np.isfinite(scores)
    num = weights @ np.where(mask, scores, 0.0)
    den = weights @ mask.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def percentile_ci(draws: FloatArray) -> tuple[float, float]:
    """95 % percentile interval of bootstrap draws along axis 0 (NaN when there are none)."""
    d = draws[np.isfinite(draws)]
    if d.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(d, [2.5, 97.5])
    return float(lo), float(hi)


def tie_groups(
    order: Sequence[int],
    significant: Callable[[int, int], bool],
    *,
    rule: Literal["leader", "neighbour"] = "leader",
) -> dict[int, int]:
    """Competition ranks (1, 1, 3, …) for items listed best first, ties from a pairwise test.

    `significant(i, j)` says whether i and j differ significantly. With rule="leader" a model joins
    the current group when it does not differ from the group's first member; with "neighbour" when
    it does not differ from the model just above it.
    """
    ranks: dict[int, int] = {}
    leader: int | None = None
    previous: int | None = None
    rank = 0
    for position, item in enumerate(order):
        anchor = leader if rule == "leader" else previous
        if anchor is None or significant(anchor, item):
            leader = item
            rank = position + 1
        ranks[item] = rank
        previous = item
    return ranks


def rank_by_score(
    scores: Sequence[float],
    significant: Callable[[int, int], bool],
    *,
    rule: Literal["leader", "neighbour"] = "leader",
) -> list[int | None]:
    """Tie-group ranks of `scores` (higher is better); NaN scores get no rank."""
    finite = [i for i, s in enumerate(scores) if math.isfinite(s)]
    order = sorted(finite, key=lambda i: (-scores[i], i))
    ranks = tie_groups(order, significant, rule=rule)
    return [ranks.get(i) for i in range(len(scores))]


@dataclass(frozen=True)
class PairedTest:
    """The outcome of a paired test between two runs on the same items."""

    p: float
    method: str
    discordant: tuple[int, int] | None = None
    """(only A right, only B right) for McNemar's test"""

    @property
    def significant(self) -> bool:
        return self.p < ALPHA


def paired_test(
    a: FloatArray | None, b: FloatArray | None, diff_draws: FloatArray, binary: bool
) -> PairedTest:
    """McNemar's test when both runs have 0/1 item scores, else the paired bootstrap.

    `a` and `b` are the item scores on a shared item axis (None when a run's samples are
    missing); `diff_draws` are bootstrap draws of the difference of the two scores, made with
    weights shared by both runs.
    """
    if binary and a is not None and b is not None:
        only_a, only_b = discordant(a, b)
        return PairedTest(mcnemar_p(only_a, only_b), "McNemar", (only_a, only_b))
    return PairedTest(bootstrap_p(diff_draws), "paired bootstrap")
