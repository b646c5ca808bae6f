"""Aggregates with 95 % confidence intervals from a clustered bootstrap.

Every benchmark-level number is a function of column *sums* over the scored rows: a mean is
sum(x) / sum(1), precision is sum(tp) / sum(pred_yes), corpus BLEU is a function of summed n-gram
counts. That one shape lets the bootstrap recompute every aggregate on every resample with a single
matrix product, instead of looping in Python.

Rows are resampled by cluster (items that share an image move together), as the items within a
cluster are not independent.

A few official numbers rank the rows instead (ROC-AUC and PR-AUC of a probability): such an
aggregate (`Aggregate.ranked`) gets the rows themselves with how often each resample draws them,
one weight row per resample, and stays vectorised over the resamples the same way.

Where a [0, 1] aggregate (`Aggregate.bounded`: accuracies, rates, similarities, precision)
comes out 0 (or 1) on every resample, because every item scored 0 (or every one 1), the
percentile interval would have no width, as if 0 of 24 right proved the model never right. The
interval is then the exact (Clopper-Pearson) one for 0 (or all) of k, with k the clusters that
hold the aggregate's observations: [0, 1 - 0.025^(1/k)] (or [0.025^(1/k), 1]). For a mean it
holds for any values in [0, 1], not only 0/1 ones: a mean μ of such values has P(value = 0) ≤
1 - μ. For a ratio of counts (precision = true positives / predicted positives) the observations
are the rows that count in it (those predicted positive), and k clusters of at least one trial
each make the bound conservative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # imported where rows are scored: benchmarks import this module to declare
    import pandas as pd  # their aggregates, and listing them needs no pandas

FloatArray = npt.NDArray[np.float64]
DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True)
class Aggregate:
    """A named benchmark-level metric computed from sums of per-row columns.

    `fn` receives an array whose last axis holds the sums of `columns` (in order) and returns the
    metric; it must work on any leading shape (it is called once on the full data and once on a
    (resamples, k) stack). `where` keeps only rows whose column equals the value.
    """

    name: str
    columns: tuple[str, ...]
    fn: Callable[[FloatArray], FloatArray] = field(compare=False)
    where: tuple[str, object] | None = None
    bounded: bool = False
    """The aggregate lies in [0, 1] (a mean of [0, 1] values, or a ratio of counts whose
    numerator never exceeds its denominator): where every resample gives 0 (or 1), the CI is
    the exact binomial one over the clusters instead of a zero-width interval."""
    undefined: str = ""
    """Why the aggregate can be NaN (say, an official script's division by zero): the estimate
    carries it as its `note` when it is."""
    rows: Callable[[FloatArray, FloatArray], FloatArray] | None = field(default=None, compare=False)
    """For an aggregate that is no function of column sums (`ranked`): called with the (n, k)
    matrix of its columns and (..., n) row weights, it returns the metric per weight row."""

    @staticmethod
    def mean(
        column: str,
        name: str | None = None,
        where: tuple[str, object] | None = None,
        *,
        bounded: bool = False,
    ) -> Aggregate:
        """The mean of `column`; `bounded`: its values lie in [0, 1]."""
        return Aggregate(name or column, (column, "__one__"), _ratio, where, bounded)

    @staticmethod
    def ranked(
        name: str,
        columns: tuple[str, ...],
        rows: Callable[[FloatArray, FloatArray], FloatArray],
        *,
        bounded: bool = False,
        undefined: str = "",
    ) -> Aggregate:
        """An aggregate of the rows themselves (a ROC-AUC ranks them): `rows(x, weights)`."""
        return Aggregate(name, columns, _no_sums, None, bounded, undefined, rows)

    @staticmethod
    def ratio(numerator: str, denominator: str, name: str, *, bounded: bool = False) -> Aggregate:
        """sum(numerator) / sum(denominator); `bounded`: no row's numerator exceeds its
        denominator."""
        return Aggregate(name, (numerator, denominator), _ratio, bounded=bounded)


def _no_sums(sums: FloatArray) -> FloatArray:
    raise TypeError("a ranked aggregate is computed from its rows, not from column sums")


def _ratio(sums: FloatArray) -> FloatArray:
    num, den = sums[..., 0], sums[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float
    n: int
    bounded: bool = field(default=False, compare=False)
    """The aggregate lies in [0, 1] (`Aggregate.bounded`): draws around it may be clipped there."""
    note: str = field(default="", compare=False)
    """Why the value is NaN, where the aggregate says (`Aggregate.undefined`)."""

    def as_dict(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
        }
        if self.note:
            out["note"] = self.note
        return out


def by_category(
    column: str,
    category_column: str,
    values: Sequence[object],
    prefix: str,
    *,
    bounded: bool = False,
) -> list[Aggregate]:
    """One mean of `column` per value of a category column, named `prefix[value]`."""
    return [
        Aggregate.mean(column, f"{prefix}[{v}]", (category_column, v), bounded=bounded)
        for v in values
    ]


def estimate(
    rows: pd.DataFrame,
    aggregates: Sequence[Aggregate],
    *,
    cluster: str | None = "group",
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Point estimate and percentile 95 % CI of each aggregate over `rows`.

    Rows with NaN in a column contribute nothing to that aggregate (as if filtered out).
    """
    n = len(rows)
    if n == 0:
        nan = float("nan")
        return {a.name: Estimate(nan, nan, nan, 0, a.bounded) for a in aggregates}
    if cluster and cluster in rows.columns:
        import pandas as pd

        codes, _ = pd.factorize(rows[cluster].astype(str))
        clusters = np.asarray(codes)
    else:
        clusters = np.arange(n)
    n_clusters = int(clusters.max()) + 1
    rng = np.random.default_rng(seed)
    # (B, n_clusters) multinomial counts -> (B, n) row weights
    cluster_weights = rng.multinomial(
        n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=resamples
    )
    row_weights = cluster_weights[:, clusters].astype(np.float64)

    out: dict[str, Estimate] = {}
    for agg in aggregates:
        x, valid = _matrix(rows, agg)
        if agg.rows is not None:  # rows left out weigh nothing
            full = agg.rows(x, valid.astype(np.float64))
            boot = agg.rows(x, row_weights * valid)
        else:
            full = agg.fn(x.sum(axis=0))
            boot = agg.fn(row_weights @ x)
        boot = boot[np.isfinite(boot)]
        value = float(full)
        if boot.size and np.isfinite(value):
            lo, hi = np.percentile(boot, [2.5, 97.5])
        else:
            lo = hi = float("nan")
        alike = agg.bounded and agg.rows is None and value in (0.0, 1.0)
        if alike and boot.size and np.all(boot == value):
            k = len(np.unique(clusters[observations(agg, x, valid)]))
            if k:
                lo, hi = all_alike(value, k)
        note = agg.undefined if agg.undefined and not np.isfinite(value) else ""
        out[agg.name] = Estimate(value, float(lo), float(hi), int(valid.sum()), agg.bounded, note)
    return out


def observations(
    agg: Aggregate, x: FloatArray, valid: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """The rows that count in `agg`: for a mean every valid row; for an aggregate of counts the
    valid rows with any count (a precision's predicted positives, a recall's true ones)."""
    if "__one__" in agg.columns:
        return valid
    counted: npt.NDArray[np.bool_] = valid & np.any(x != 0, axis=1)
    return counted


def all_alike(value: float, clusters: int) -> tuple[float, float]:
    """The exact 95 % interval of a [0, 1] mean whose values over `clusters` clusters all equal
    `value`, 0 or 1 (Clopper-Pearson for 0 or k successes of k)."""
    edge = 0.025 ** (1.0 / clusters)
    return (0.0, 1.0 - edge) if value == 0.0 else (edge, 1.0)


def _matrix(rows: pd.DataFrame, agg: Aggregate) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """The (n, k) matrix of the aggregate's columns, zeroed on rows it does not use."""
    import pandas as pd

    cols = []
    valid = np.ones(len(rows), dtype=bool)
    if agg.where is not None:
        col, val = agg.where
        valid &= (rows[col] == val).to_numpy() if col in rows.columns else False
    for c in agg.columns:
        if c == "__one__":
            cols.append(np.ones(len(rows)))
            continue
        v = (
            pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=np.float64)
            if c in rows.columns
            else np.full(len(rows), np.nan)
        )
        valid &= np.isfinite(v)
        cols.append(v)
    x = np.stack(cols, axis=1)
    x[~valid] = 0.0
    return x, valid
