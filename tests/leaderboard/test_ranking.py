"""The paired tests and tie-group ranks of evalharness.leaderboard.ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalharness.leaderboard import ranking


def _exact(b: int, c: int) -> float:
    n, k = b + c, min(b, c)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def test_mcnemar_exact_known_values() -> None:
    assert ranking.mcnemar_p(0, 0) == 1.0
    assert ranking.mcnemar_p(5, 5) == 1.0
    assert ranking.mcnemar_p(10, 0) == pytest.approx(2 / 2**10)
    assert ranking.mcnemar_p(3, 12) == pytest.approx(_exact(3, 12))
    assert ranking.mcnemar_p(3, 12) < 0.05 < ranking.mcnemar_p(5, 10)


def test_mcnemar_large_counts_use_chi_square_with_continuity_correction() -> None:
    # chi2 = (|150 - 100| - 1)^2 / 250 = 9.604, 1 degree of freedom
    assert ranking.mcnemar_p(150, 100) == pytest.approx(math.erfc(math.sqrt(9.604 / 2)))
    # and the approximation agrees with the exact test where both apply
    assert ranking.mcnemar_p(70, 50) == pytest.approx(_exact(70, 50), rel=0.1)


@given(st.integers(0, 300), st.integers(0, 300))
def test_mcnemar_is_a_symmetric_probability(b: int, c: int) -> None:
    p = ranking.mcnemar_p(b, c)
    assert 0.0 <= p <= 1.0
    assert p == ranking.mcnemar_p(c, b)
    assert ranking.mcnemar_p(b + 5, c) <= p + 1e-12 or b < c  # more disagreement one way: smaller p


def test_mcnemar_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        ranking.mcnemar_p(-1, 3)


def test_discordant_counts_only_items_both_answered() -> None:
    a = np.array([1, 1, 0, 0, 1, np.nan])
    b = np.array([0, 1, 1, 0, np.nan, 0])
    assert ranking.discordant(a, b) == (1, 1)


def test_bootstrap_p() -> None:
    assert ranking.bootstrap_p(np.full(1000, 0.1)) == 0.0
    assert ranking.bootstrap_p(np.zeros(100)) == 1.0
    assert ranking.bootstrap_p(np.array([np.nan])) == 1.0
    rng = np.random.default_rng(0)
    centred = rng.normal(0.0, 1.0, 4000)
    assert ranking.bootstrap_p(centred) > 0.5
    assert ranking.bootstrap_p(rng.normal(3.0, 1.0, 4000)) < 0.01


def test_is_binary() -> None:
    assert ranking.is_binary(np.array([0.0, 1.0, np.nan]))
    assert not ranking.is_binary(np.array([0.0, 0.5]))
    assert not ranking.is_binary(np.array([np.nan]))


def test_cluster_weights_move_clusters_together() -> None:
    groups = np.array([0, 0, 1, 2, 2, 2])
    w = ranking.cluster_weights(groups, 50, seed=1)
    assert w.shape == (50, 6)
    assert np.all(w[:, 0] == w[:, 1]) and np.all(w[:, 3] == w[:, 5])
    # each draw picks as many clusters as there are
    assert np.all(w[:, [0, 2, 3]].sum(axis=1) == 3)


def test_bootstrap_means_skip_missing_items_and_match_plain_means() -> None:
    scores = np.array([[1.0, 0.0], [0.0, np.nan], [1.0, 1.0]])
    means = ranking.bootstrap_means(scores, np.ones((1, 3)))
    assert means[0] == pytest.approx([2 / 3, 0.5])
    weights = ranking.cluster_weights(np.arange(3), 200, 0)
    draws = ranking.bootstrap_means(scores, weights)
    finite = np.isfinite(draws)
    assert np.all((draws[finite] >= 0) & (draws[finite] <= 1))
    # a draw is undefined only when it holds none of the run's answered items
    assert np.array_equal(~finite[:, 1], weights[:, [0, 2]].sum(axis=1) == 0)
    assert finite[:, 0].all()


def test_percentile_ci() -> None:
    lo, hi = ranking.percentile_ci(np.arange(1001, dtype=float))
    assert (lo, hi) == pytest.approx((25.0, 975.0))
    assert all(math.isnan(v) for v in ranking.percentile_ci(np.array([np.nan])))


def _never_chain(i: int, j: int) -> bool:
    # items 0..4 with a "significant" gap only between items two or more positions apart
    return abs(i - j) >= 2


def test_tie_groups_leader_rule_compares_with_the_group_best() -> None:
    ranks = ranking.tie_groups([0, 1, 2, 3, 4], _never_chain, rule="leader")
    assert ranks == {0: 1, 1: 1, 2: 3, 3: 3, 4: 5}


def test_tie_groups_neighbour_rule_chains() -> None:
    ranks = ranking.tie_groups([0, 1, 2, 3, 4], _never_chain, rule="neighbour")
    assert ranks == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1}


def test_rank_by_score_orders_and_leaves_nan_unranked() -> None:
    ranks = ranking.rank_by_score([0.2, float("nan"), 0.9, 0.5], lambda i, j: True)
    assert ranks == [3, None, 1, 2]
    tied = ranking.rank_by_score([0.2, 0.9, 0.5], lambda i, j: False)
    assert tied == [1, 1, 1]


def test_paired_test_uses_mcnemar_on_binary_scores() -> None:
    a = np.r_[np.ones(30), np.zeros(70)]
    b = np.r_[np.ones(5), np.zeros(95)]  # 25 discordant pairs, all in a's favour
    c = a.copy()
    c[:2] = 0  # two discordant pairs: not significant
    scores = np.stack([a, b, c], axis=1)
    no_draws = np.zeros(10)
    clear = ranking.paired_test(scores[:, 0], scores[:, 1], no_draws, binary=True)
    assert clear.method == "McNemar" and clear.discordant == (25, 0) and clear.significant
    close = ranking.paired_test(scores[:, 0], scores[:, 2], no_draws, binary=True)
    assert close.discordant == (2, 0) and not close.significant
    # without item scores (samples not stored) the bootstrap draws decide
    fallback = ranking.paired_test(None, scores[:, 1], np.full(100, 0.2), binary=True)
    assert fallback.method == "paired bootstrap" and fallback.significant


def test_paired_test_uses_the_bootstrap_on_continuous_scores() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 300)
    scores = np.stack([base + 0.2, base, base + 0.001 * rng.normal(size=300)], axis=1)
    draws = ranking.bootstrap_means(scores, ranking.cluster_weights(np.arange(300), 500, 0))

    def test(i: int, j: int) -> bool:
        t = ranking.paired_test(scores[:, i], scores[:, j], draws[:, i] - draws[:, j], binary=False)
        assert t.method == "paired bootstrap"
        return t.significant

    assert test(0, 1)
    assert not test(1, 2)
