"""Caption metrics through pycocoevalcap: hand-checked values, edge cases, Java process hygiene."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evalharness.metrics import (
    CAPTION_METRICS,
    METEOR_STATS,
    CaptionMetricsError,
    CaptionScores,
    _meteor,
    caption_scores,
    caption_scores_per_image,
    corpus_meteor,
    score_captions,
)
from evalharness.metrics._corpus import meteor_stats
from evalharness.metrics._meteor import MeteorError

_REFS_1 = {"1": ["a red circle above a blue square"]}
_FAST = ("CIDEr", "BLEU-4", "ROUGE-L")  # the pure-Python scorers
_REFS = {
    "1": ["a red circle above a blue square"],
    "2": ["two green stars beside one yellow hexagon"],
    "3": ["a small purple triangle in the corner"],
}


def test_identical_captions_score_the_maximum() -> None:
    scores = score_captions(
        {k: v[0] for k, v in _REFS.items()}, _REFS, metrics=_FAST, tokenize=False
    )
    assert scores.corpus == pytest.approx({"CIDEr": 10.0, "BLEU-4": 1.0, "ROUGE-L": 1.0})
    for per_image in scores.per_image.values():
        assert per_image == pytest.approx({"CIDEr": 10.0, "BLEU-4": 1.0, "ROUGE-L": 1.0})


def test_disjoint_and_empty_captions_score_zero() -> None:
    predictions = {"1": "zebra giraffe lion tiger", "2": "", "3": _REFS["3"][0]}
    scores = score_captions(predictions, _REFS, metrics=_FAST, tokenize=False).per_image
    for image in ("1", "2"):
        assert scores[image] == pytest.approx(
            {"CIDEr": 0.0, "BLEU-4": 0.0, "ROUGE-L": 0.0}, abs=1e-9
        )
    assert scores["3"]["ROUGE-L"] == 1.0


def test_bleu4_by_hand() -> None:
    # Clipped n-gram precisions 5/6, 3/5, 2/4, 1/3; equal lengths, so no brevity penalty.
    got = caption_scores(
        {"x": "the cat sat on the mat"},
        {"x": ["the cat sat on a mat"]},
        metrics=["BLEU-4"],
        tokenize=False,
    )
    assert got["BLEU-4"] == pytest.approx((5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, rel=1e-6)


def test_rouge_l_by_hand() -> None:
    # LCS "a c d" = 3: P = 3/4, R = 3/5, F = (1 + 1.2²) P R / (R + 1.2² P), best reference
    got = caption_scores_per_image(
        {"x": "a b c d"}, {"x": ["a c e d f", "q r s"]}, metrics=["ROUGE-L"], tokenize=False
    )
    precision, recall = 3 / 4, 3 / 5
    assert got["x"]["ROUGE-L"] == pytest.approx(
        2.44 * precision * recall / (recall + 1.44 * precision)
    )


def test_cider_needs_a_corpus() -> None:
    # n-gram weight = log(#images / #images with the n-gram): 0 everywhere for a single image
    alone = caption_scores(
        {"1": _REFS["1"][0]}, {"1": _REFS["1"]}, metrics=["CIDEr"], tokenize=False
    )
    assert alone["CIDEr"] == 0.0


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="same ids"):
        caption_scores({"1": "a"}, {"2": ["a"]}, tokenize=False)
    with pytest.raises(ValueError, match="at least one reference"):
        caption_scores({"1": "a"}, {"1": []}, tokenize=False)
    with pytest.raises(ValueError, match="unknown caption metrics"):
        caption_scores({"1": "a"}, {"1": ["a"]}, metrics=["SPICE"], tokenize=False)
    empty = score_captions({}, {})
    assert empty.per_image == {}
    assert set(empty.corpus) == set(CAPTION_METRICS)
    assert all(v != v for v in empty.corpus.values())  # NaN


def _java_children() -> list[str]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            children.append(stat.parent.name)
    return children


@pytest.fixture(scope="module")
def full_scores() -> CaptionScores:
    """One run with Java tokenisation and METEOR: the slow part, shared by the tests below."""
    predictions = {
        "same": "A red circle, above a BLUE square.",
        "other": "zebra giraffe lion",
        "empty": "",
        "broken": "two green stars |||\nbeside a hexagon",
    }
    references = {
        "same": ["a red circle above a blue square", "a square under a circle"],
        "other": ["a small purple triangle in the corner"],
        "empty": ["one yellow star"],
        "broken": ["two green stars beside one yellow hexagon"],
    }
    return score_captions(predictions, references)


@pytest.mark.slow
def test_java_tokenisation_and_meteor(full_scores: CaptionScores) -> None:
    same = full_scores.per_image["same"]
    assert same["ROUGE-L"] == 1.0  # case and punctuation went with PTB tokenisation
    assert same["BLEU-4"] == pytest.approx(1.0)
    assert 0.9 < same["METEOR"] <= 1.0
    for image in ("other", "empty"):
        assert full_scores.per_image[image]["METEOR"] == 0.0
        assert full_scores.per_image[image]["ROUGE-L"] == 0.0
    assert 0.0 < full_scores.per_image["broken"]["METEOR"] < 1.0
    assert 0.0 < full_scores.corpus["METEOR"] < 1.0
    assert set(full_scores.corpus) == set(CAPTION_METRICS)


# The tests below take the METEOR process that `full_scores` started, in this order, so that the
# file starts Java's METEOR (seconds each time) as few times as it can; alone, each starts its own.


@pytest.mark.slow
def test_meteor_agrees_with_pycocoevalcaps_own_wrapper(full_scores: CaptionScores) -> None:
    from pycocoevalcap.meteor.meteor import Meteor

    rng = random.Random(0)
    words = [
        "a",
        "the",
        "red",
        "blue",
        "circle",
        "square",
        "above",
        "below",
        "left",
        "of",
        "two",
        "and",
        "is",
        "near",
    ]

    def caption() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 10)))

    gts = {str(i): [caption() for _ in range(rng.randint(1, 4))] for i in range(60)}
    res = {i: [caption()] for i in gts}
    res["7"] = [""]
    res["8"] = [gts["8"][0]]  # a perfect match: one chunk, which the jar's sum leaves out
    res["9"] = ["a | b ||| c"]  # the hypothesis loses its "|||", as the wrapper drops it
    official = Meteor()
    try:
        expected = official.compute_score(gts, res)
    finally:
        official.meteor_p.kill()
        official.meteor_p.wait()
    corpus, per_image, lines = _meteor.score(gts, res)
    assert (corpus, per_image) == (expected[0], expected[1])
    # the corpus value again, from the statistics summed here as the jar sums them
    sums = np.array([[meteor_stats(line)[c] for c in METEOR_STATS] for line in lines]).sum(0)
    assert float(corpus_meteor(sums)) == pytest.approx(corpus, abs=1e-12)


@pytest.mark.slow
def test_a_meteor_process_that_dies_is_replaced(
    full_scores: CaptionScores, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = score_captions({"1": "a red circle"}, _REFS_1, metrics=["METEOR"], tokenize=False)
    pid = _meteor.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # while idle: the next scoring starts another, unseen
    process = _meteor._process
    assert process is not None
    _wait_for(lambda: process.proc.poll() is not None)
    again = score_captions({"1": "a red circle"}, _REFS_1, metrics=["METEOR"], tokenize=False)
    pid2 = _meteor.running_pid()
    assert again.corpus == first.corpus and pid2 not in (None, pid)

    send = _meteor._Process.send

    def dies_midway(self: Any, line: str) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        send(self, line)

    monkeypatch.setattr(_meteor._Process, "send", dies_midway)
    with pytest.raises(MeteorError, match=r"METEOR \(Java\) (ended|stopped)"):
        score_captions({"1": "a red circle"}, _REFS_1, metrics=["METEOR"], tokenize=False)
    assert _meteor.running_pid() is None  # a process in an unknown state is not reused


def _wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_share_the_meteor_process(full_scores: CaptionScores) -> None:
    score_captions({"1": "a red circle"}, _REFS_1, metrics=["METEOR"], tokenize=False)
    assert _meteor.running_pid() is not None
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(write, b"none" if _meteor.running_pid() is None else b"shared")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"none"
    os.close(read)
    os.close(write)
    assert _meteor.running_pid() is not None  # the parent's is untouched


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc")
def test_one_meteor_process_serves_every_scoring_and_ends_when_idle(
    full_scores: CaptionScores, monkeypatch: pytest.MonkeyPatch
) -> None:
    score_captions({"1": "a red circle"}, _REFS_1, metrics=["METEOR"], tokenize=False)
    pid = _meteor.running_pid()
    assert pid is not None and _java_children() == [str(pid)]  # the tokeniser has ended
    monkeypatch.setattr(_meteor, "IDLE_S", 0.2)
    again = score_captions({"1": "a red circle"}, _REFS_1, metrics=["METEOR"], tokenize=False)
    assert _meteor.running_pid() == pid and 0 < again.corpus["METEOR"] < 1
    _wait_for(lambda: _meteor.running_pid() is None)
    assert _meteor.running_pid() is None and _java_children() == []


def test_close_ends_the_meteor_process_and_is_safe_to_repeat() -> None:
    _meteor.close()
    _meteor.close()
    assert _meteor.running_pid() is None


_TRICKY = [
    'A man\u2019s "dog" -- (runs) fast!',
    "Café au lait, naïve; the end...",
    "\ufffd garbled \ufffd output \ufffd",  # Java warns about these
    "\ufffd",  # a line the tokeniser empties
    "It's 3:45 p.m. -- isn't it? {yes} [no]",
    "UPPER case, e.g. U.S.A. and `quotes'",
    "a man | riding || a horse",  # bars stay, as the COCO toolkit keeps them
]


def test_tokenisation_agrees_with_pycocoevalcaps_and_is_quiet(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    from evalharness.metrics._caption import _one_line, _ptb_tokenize

    ours = _ptb_tokenize(["", *_TRICKY])
    assert capfd.readouterr().err == ""  # Java's warnings stay out of the progress bars
    official = PTBTokenizer().tokenize({i: [{"caption": t}] for i, t in enumerate(_TRICKY)})
    assert ours == ["", *(_one_line(official[i][0]) for i in range(len(_TRICKY)))]
    # lower-cased, punctuation dropped; brackets stay, as "-lrb-": the official list has them
    # upper-case only, and COCO numbers are computed with that
    assert ours[1] == "a man 's dog -lrb- runs -rrb- fast"
    assert ours[4] == ""


def test_without_java_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    for metrics in (CAPTION_METRICS, ["METEOR"]):
        with pytest.raises(CaptionMetricsError, match=r"need Java .* Install a Java runtime"):
            score_captions({"1": "a red circle"}, _REFS_1, metrics=metrics, tokenize=False)
    with pytest.raises(CaptionMetricsError, match="need Java"):
        score_captions({"1": "a red circle"}, _REFS_1, metrics=_FAST)  # tokenising needs it
    scores = score_captions({"1": "a red circle"}, _REFS_1, metrics=_FAST, tokenize=False)
    assert 0 < scores.corpus["ROUGE-L"] < 1
