"""Clustered-bootstrap intervals, and the exact interval where every value sits at 0 or at 1."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalharness.metrics import pope_aggregates
from evalharness.stats import Aggregate, all_alike, estimate


def rows(
    values: list[float], groups: list[int] | None = None, **columns: list[object]
) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": values, "group": groups if groups is not None else range(len(values)), **columns}
    )


def test_no_item_right_is_not_proof_of_never_right() -> None:
    est = estimate(rows([0.0] * 24), [Aggregate.mean("x", bounded=True)])["x"]
    # Clopper-Pearson for 0 of 24: [0, 0.1425]
    assert (est.value, est.ci_low) == (0.0, 0.0)
    assert est.ci_high == pytest.approx(0.14247, abs=1e-5)
    assert est.n == 24
    every = estimate(rows([1.0] * 24), [Aggregate.mean("x", bounded=True)])["x"]
    assert every.value == 1.0 and every.ci_high == 1.0
    assert every.ci_low == pytest.approx(1 - est.ci_high)


def test_the_bound_is_exact_at_its_edge() -> None:
    # a true mean at the upper bound gives k zeros with probability 2.5 %
    for k in (1, 6, 24, 500):
        low, high = all_alike(0.0, k)
        assert low == 0.0 and (1 - high) ** k == pytest.approx(0.025)
    assert all_alike(1.0, 6) == pytest.approx((0.025 ** (1 / 6), 1.0))


def test_clusters_are_what_count() -> None:
    # 24 items on 8 images: 8 independent observations, not 24
    est = estimate(
        rows([0.0] * 24, [i // 3 for i in range(24)]), [Aggregate.mean("x", bounded=True)]
    )
    assert est["x"].ci_high == pytest.approx(1 - 0.025 ** (1 / 8))
    # and only the clusters of the rows the aggregate uses
    data = rows([0.0] * 24, list(range(24)), category=["a"] * 6 + ["b"] * 18)
    sub = estimate(data, [Aggregate.mean("x", "a", ("category", "a"), bounded=True)])["a"]
    assert sub.n == 6 and sub.ci_high == pytest.approx(1 - 0.025 ** (1 / 6))


def test_unscored_items_do_not_count() -> None:
    # items with no score (NaN: unsupported) are no observations
    est = estimate(rows([0.0] * 10 + [math.nan] * 5), [Aggregate.mean("x", bounded=True)])["x"]
    assert est.n == 10 and est.ci_high == pytest.approx(1 - 0.025 ** (1 / 10))


def test_other_cases_keep_the_bootstrap_interval() -> None:
    # not declared bounded (a mean absolute error of 0 everywhere): nothing to bound it by
    assert estimate(rows([0.0] * 24), [Aggregate.mean("x")])["x"].ci_high == 0.0
    # values that differ: the percentile interval, the same whether bounded or not
    mixed = rows([0.0, 1.0, 1.0, 0.0, 1.0, 0.5] * 4)
    a, b = (
        estimate(mixed, [Aggregate.mean("x", bounded=flag)], seed=3)["x"] for flag in (True, False)
    )
    assert a == b and a.ci_low < a.value < a.ci_high
    # all alike away from the ends (a yes to every item of balanced pairs on each image): the
    # bootstrap's zero width is right there, as every resample is exactly half right
    half = rows([0.0, 1.0] * 12, [i // 2 for i in range(24)])
    est = estimate(half, [Aggregate.mean("x", bounded=True)])["x"]
    assert est.ci_low == est.ci_high == 0.5


def test_ratios_of_counts_count_the_rows_in_them() -> None:
    # a model that says yes to 10 of 24 questions, none of them right, and to none of the 12
    # whose answer is yes: precision 0 over 10 predicted positives, recall 0 over 12 true ones
    truth = [1.0] * 12 + [0.0] * 12
    said = [0.0] * 12 + [1.0] * 10 + [0.0] * 2
    data = pd.DataFrame(
        {
            "group": range(24),
            "tp": [t * s for t, s in zip(truth, said, strict=True)],
            "fp": [(1 - t) * s for t, s in zip(truth, said, strict=True)],
            "fn": [t * (1 - s) for t, s in zip(truth, said, strict=True)],
            "pred_yes": said,
            "correct": [float(t == s) for t, s in zip(truth, said, strict=True)],
        }
    )
    est = estimate(data, pope_aggregates())
    assert est["precision"].value == 0.0
    assert est["precision"].ci_high == pytest.approx(1 - 0.025 ** (1 / 10))
    assert est["recall"].ci_high == pytest.approx(1 - 0.025 ** (1 / 12))
    assert est["f1"].ci_high == pytest.approx(1 - 0.025 ** (1 / 22))  # every row but the 2 no/no
    # a ratio of 1: every mentioned object really there
    chair = pd.DataFrame({"group": range(8), "hit": [2.0, 1, 0, 3, 1, 0, 1, 1]})
    full = estimate(chair, [Aggregate.ratio("hit", "hit", "r", bounded=True)])["r"]
    assert full.value == 1.0 and full.ci_low == pytest.approx(0.025 ** (1 / 6))
    assert estimate(chair, [Aggregate.ratio("hit", "hit", "r")])["r"].ci_low == 1.0
