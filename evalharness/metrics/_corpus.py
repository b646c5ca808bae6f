"""Corpus BLEU-4 and METEOR from per-image sufficient statistics, as the COCO toolkit pools them.

pycocoevalcap does not average per-image BLEU-4 and METEOR. BLEU sums every image's clipped
n-gram matches, n-gram counts, caption length and closest reference length over the corpus and
applies one brevity penalty (`pycocoevalcap/bleu/bleu_scorer.py`, `BleuScorer.compute_score`,
with `option="closest"` as `bleu.py` asks). METEOR's jar sums every segment's statistics
(`MeteorStats.addStats`) and scores the sum once (`MeteorScorer.computeMetrics`, cmu-mtlab/meteor,
`src/edu/cmu/meteor/scorer/`). Both are functions of column sums, so each image stores its
statistics as metric columns and `evalharness.stats.estimate` gives the corpus value and its
bootstrap interval (resampled images, the statistics summed again) in one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalharness.stats import Aggregate, FloatArray

BLEU_N = 4
BLEU_STATS = (
    "bleu_testlen",
    "bleu_reflen",
    *(f"bleu_guess_{k}" for k in range(1, BLEU_N + 1)),
    *(f"bleu_correct_{k}" for k in range(1, BLEU_N + 1)),
)
"""Per-image BLEU statistics: caption length, closest reference length (ties: the shorter),
n-grams of each order in the caption, and those matched in a reference (clipped counts)."""

_STAGES = 4  # exact, stem, synonym, paraphrase
METEOR_STATS = (
    "meteor_test_len",
    "meteor_ref_len",
    "meteor_test_func",
    "meteor_ref_func",
    *(
        f"meteor_s{i}_{side}"
        for i in range(1, _STAGES + 1)
        for side in ("test_content", "ref_content", "test_func", "ref_func")
    ),
    "meteor_chunks",
    "meteor_test_word_matches",
    "meteor_ref_word_matches",
)
"""Per-segment METEOR statistics, in the order of the jar's statistics line. `meteor_chunks` is
0 for a segment whose hypothesis and reference match completely in one chunk: the jar's sum
leaves those chunks out (`MeteorStats.addStats`)."""

# METEOR 1.5, English, the default "rank" task (what `-l en -norm` runs): alpha, beta, gamma,
# delta and the four stages' weights (cmu-mtlab/meteor, src/edu/cmu/meteor/util/Constants.java)
_ALPHA, _BETA, _GAMMA, _DELTA = 0.85, 0.20, 0.60, 0.75
_WEIGHTS = (1.0, 0.6, 0.8, 0.6)


def bleu_stats(
    testlen: int, reflens: Sequence[int], guess: Sequence[int], correct: Sequence[int]
) -> dict[str, float]:
    """The `BLEU_STATS` of one image from pycocoevalcap's cooked caption (`BleuScorer.ctest`):
    its reference length is the closest to the caption's, the shorter on a tie."""
    closest = min((abs(r - testlen), r) for r in reflens)[1]
    values = (testlen, closest, *guess, *correct)
    return {name: float(v) for name, v in zip(BLEU_STATS, values, strict=True)}


def corpus_bleu(sums: FloatArray) -> FloatArray:
    """BLEU-4 from summed `BLEU_STATS` (last axis), with pycocoevalcap's smoothing constants."""
    small, tiny = 1e-9, 1e-15
    testlen, reflen = sums[..., 0], sums[..., 1]
    bleu = np.ones_like(testlen)
    for k in range(BLEU_N):
        bleu = bleu * ((sums[..., 2 + BLEU_N + k] + tiny) / (sums[..., 2 + k] + small))
    bleu = bleu ** (1.0 / BLEU_N)
    ratio = (testlen + tiny) / (reflen + small)
    with np.errstate(divide="ignore", over="ignore"):
        penalty = np.where(ratio < 1, np.exp(1 - 1 / np.where(ratio > 0, ratio, 1e-300)), 1.0)
    out: FloatArray = bleu * penalty
    return out


def meteor_stats(line: str) -> dict[str, float]:
    """The `METEOR_STATS` of one segment from the jar's statistics line."""
    values = [float(v) for v in line.split()]
    if len(values) != len(METEOR_STATS):
        raise ValueError(f"a METEOR statistics line has {len(METEOR_STATS)} numbers: {line!r}")
    stats = dict(zip(METEOR_STATS, values, strict=True))
    test_matches, ref_matches = _matches(np.array(values))
    if (
        test_matches == stats["meteor_test_len"]
        and ref_matches == stats["meteor_ref_len"]
        and stats["meteor_chunks"] == 1.0
    ):
        stats["meteor_chunks"] = 0.0
    return stats


def _matches(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Total test and reference matches over the stages (the jar adds them as it reads a line)."""
    test = np.zeros_like(x[..., 0])
    ref = np.zeros_like(x[..., 0])
    for i in range(_STAGES):
        base = 4 + 4 * i
        test = test + x[..., base] + x[..., base + 2]
        ref = ref + x[..., base + 1] + x[..., base + 3]
    return test, ref


def corpus_meteor(sums: FloatArray) -> FloatArray:
    """METEOR from summed `METEOR_STATS` (last axis), as the jar scores its summed statistics."""
    x = sums
    test_len, ref_len, test_func, ref_func = x[..., 0], x[..., 1], x[..., 2], x[..., 3]
    chunks, test_words, ref_words = x[..., 20], x[..., 21], x[..., 22]
    test_w_len = _DELTA * (test_len - test_func) + (1.0 - _DELTA) * test_func
    ref_w_len = _DELTA * (ref_len - ref_func) + (1.0 - _DELTA) * ref_func
    test_w = np.zeros_like(test_len)
    ref_w = np.zeros_like(test_len)
    for i, w in enumerate(_WEIGHTS):  # content matches first, then function words, as the jar
        test_w = test_w + x[..., 4 + 4 * i] * w * _DELTA
    for i, w in enumerate(_WEIGHTS):
        ref_w = ref_w + x[..., 5 + 4 * i] * w * _DELTA
    for i, w in enumerate(_WEIGHTS):
        test_w = test_w + x[..., 6 + 4 * i] * w * (1.0 - _DELTA)
    for i, w in enumerate(_WEIGHTS):
        ref_w = ref_w + x[..., 7 + 4 * i] * w * (1.0 - _DELTA)
    test_matches, ref_matches = _matches(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = test_w / test_w_len
        recall = ref_w / ref_w_len
        f_mean = 1.0 / (((1.0 - _ALPHA) / precision) + (_ALPHA / recall))
        perfect = (test_matches == test_len) & (ref_matches == ref_len) & (chunks == 1)
        frag = np.where(perfect, 0.0, chunks / ((test_words + ref_words) / 2))
        score = f_mean * (1.0 - _GAMMA * np.power(frag, _BETA))
    out: FloatArray = np.where(np.isnan(score), 0.0, np.maximum(score, 0.0))
    return out


def caption_corpus_aggregates(meteor: bool = True) -> list[Aggregate]:
    """ "BLEU-4" and (with `meteor`) "METEOR" over a run, from the statistics columns its scored
    rows hold, the corpus values pycocoevalcap reports."""
    out = [Aggregate("BLEU-4", BLEU_STATS, corpus_bleu)]
    if meteor:
        out.append(Aggregate("METEOR", METEOR_STATS, corpus_meteor))
    return out
