"""Ranks with tie groups per benchmark and overall, and the overall score with its CI.

Point estimates are the stored run scores (the primary score may be a corpus-level metric, not a
mean of sample scores). Their uncertainty comes from a clustered bootstrap over the samples with
weights shared by all runs of a benchmark version, recentred on the stored score; a run whose
samples are missing falls back to normal draws from its stored CI. Draws of a score that lies in
[0, 1] (`score_bounded`) are clipped there, so that no interval leaves the score's range.

Overall score = mean of a model's benchmark scores. Its CI and the overall tie groups come from
the same draws: each draw of the overall is the mean of that draw's benchmark means, so items are
resampled within every benchmark (pooled samples) while the benchmark set stays fixed. Overall
ranks are given only to models that have every benchmark of the board; the others show their
overall with their coverage, unranked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalharness.leaderboard._runs import Board
from evalharness.leaderboard._safe import digest
from evalharness.leaderboard._samples import BenchData
from evalharness.leaderboard.ranking import (
    ALPHA,
    FloatArray,
    bootstrap_means,
    bootstrap_p,
    cluster_weights,
    paired_test,
    percentile_ci,
    rank_by_score,
)

RESAMPLES = 1000


@dataclass
class Scores:
    run_rank: dict[str, int | None]
    """rkey -> rank within its benchmark (evaluated, seeing models only)"""
    run_test: dict[str, str]
    """rkey -> how its rank was decided against the model above it"""
    overall: pd.DataFrame
    """index mkey: overall, lo, hi, n, rank"""


def compute(board: Board, data: dict[str, BenchData], resamples: int = RESAMPLES) -> Scores:
    ranked = board.ranked
    mpos = {m: i for i, m in enumerate(board.models.index)}
    total = np.zeros((resamples, len(mpos)))
    run_rank: dict[str, int | None] = {}
    run_test: dict[str, str] = {}
    for _, runs in ranked.groupby("bkey", sort=False):
        bench = data.get(str(runs["bvkey"].iloc[0]))
        draws = _draws(runs, bench, resamples)
        total[:, [mpos[m] for m in runs["mkey"]]] += draws
        rank, test = _rank_benchmark(runs, board, bench, draws)
        run_rank.update(rank)
        run_test.update(test)
    overall = _overall(board, total)
    return Scores(run_rank, run_test, overall)


def _draws(runs: pd.DataFrame, bench: BenchData | None, resamples: int) -> FloatArray:
    """(resamples, len(runs)) bootstrap draws of each run's score, centred on the stored score."""
    score = runs["score"].to_numpy(float)
    se = (runs["score_ci_high"].to_numpy(float) - runs["score_ci_low"].to_numpy(float)) / (2 * 1.96)
    rng = np.random.default_rng(int(digest(str(runs["bvkey"].iloc[0]), 8), 16))
    draws: FloatArray = score + np.nan_to_num(se) * rng.standard_normal((resamples, len(runs)))
    if bench is None:
        return _clip_bounded(runs, draws)
    cols = [bench.columns.get(k, -1) for k in runs["rkey"]]
    have = np.array([c >= 0 for c in cols])
    if not have.any():
        return _clip_bounded(runs, draws)
    weights = cluster_weights(bench.groups, resamples, int(digest(bench.bvkey, 8), 16))
    matrix = bench.scores[:, [c for c in cols if c >= 0]]
    boot = bootstrap_means(matrix, weights)
    with np.errstate(invalid="ignore"):
        centre = np.nanmean(matrix, axis=0)
    ok = np.isfinite(centre)
    idx = np.flatnonzero(have)
    draws[:, idx[ok]] = boot[:, ok] - centre[ok] + score[idx[ok]]
    return _clip_bounded(runs, draws)


def _clip_bounded(runs: pd.DataFrame, draws: FloatArray) -> FloatArray:
    """Draws of scores that lie in [0, 1] clipped to it (the normal and recentred draws are not
    bounded by themselves)."""
    bounded = runs["score_bounded"].to_numpy(bool)
    draws[:, bounded] = np.clip(draws[:, bounded], 0.0, 1.0)
    return draws


def _rank_benchmark(
    runs: pd.DataFrame, board: Board, bench: BenchData | None, draws: FloatArray
) -> tuple[dict[str, int | None], dict[str, str]]:
    kind = board.models["kind"].reindex(runs["mkey"]).to_numpy()
    pos = np.flatnonzero(kind == "model")
    keys = runs["rkey"].to_numpy()[pos]
    names = runs["model"].to_numpy()[pos]
    scores = runs["score"].to_numpy(float)[pos]
    cols = [bench.columns.get(k, -1) if bench is not None else -1 for k in keys]
    tests: dict[str, str] = {}

    def column(i: int) -> FloatArray | None:
        return bench.scores[:, cols[i]] if bench is not None and cols[i] >= 0 else None

    def significant(i: int, j: int) -> bool:
        binary = bench is not None and bench.binary
        test = paired_test(column(i), column(j), draws[:, pos[i]] - draws[:, pos[j]], binary)
        counts = (
            f": {test.discordant[0]} vs {test.discordant[1]} discordant items"
            if test.discordant
            else ""
        )
        tests[keys[j]] = f"{test.method} against {names[i]}{counts}, p = {test.p:.3g}"
        return test.significant

    ranks = rank_by_score(list(scores), significant)
    return {str(k): r for k, r in zip(keys, ranks, strict=True)}, tests


def _overall(board: Board, total: FloatArray) -> pd.DataFrame:
    ranked = board.ranked
    g = ranked.groupby("mkey")["score"]
    out = pd.DataFrame({"overall": g.mean(), "n": g.size()}).reindex(board.models.index)
    out["n"] = out["n"].fillna(0).astype(int)
    counts = out["n"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        draws = total / np.where(counts > 0, counts, np.nan)
    cis = [percentile_ci(draws[:, i]) for i in range(draws.shape[1])]
    out["lo"] = [c[0] for c in cis]
    out["hi"] = [c[1] for c in cis]
    eligible = (board.models["kind"] == "model") & board.models["full"] & out["overall"].notna()
    idx = np.flatnonzero(eligible.to_numpy())
    ranks = rank_by_score(
        list(out["overall"].to_numpy(float)[idx]),
        lambda i, j: bootstrap_p(draws[:, idx[i]] - draws[:, idx[j]]) < ALPHA,
    )
    out["rank"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out.iloc[idx, out.columns.get_loc("rank")] = ranks
    return out
