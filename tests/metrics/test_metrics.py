"""VQA accuracy, ANLS, POPE and CHAIR: hand-computed cases, properties, bootstrap agreement."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalharness import extract
from evalharness.metrics import (
    POPE_COLUMNS,
    anls,
    chair,
    chair_aggregates,
    colour_shape_vocabulary,
    levenshtein,
    mentioned_objects,
    object_vocabulary,
    pope,
    pope_aggregates,
    pope_row,
    vqa_accuracy,
    vqa_normalize,
)
from evalharness.stats import estimate

_ANSWERISH = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.sampled_from(
            ["a", "the", "Two", "dont", "1,000", "3.5", "t-shirt", ",", ".", "!", "-", " "]
        ),
        max_size=8,
    ).map("".join),
)


def _in_unit_interval_or_nan(x: float) -> bool:
    return math.isnan(x) or 0.0 <= x <= 1.0


# --- VQA accuracy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matching", "expected"),
    # k of 10 annotators agree: left-out matches see k-1 others, the rest see k.
    [(0, 0.0), (1, 0.3), (2, 0.6), (3, 0.9), (4, 1.0), (10, 1.0)],
)
def test_vqa_accuracy_leave_one_out_over_ten(matching: int, expected: float) -> None:
    answers = ["two"] * matching + ["three"] * (10 - matching)
    assert vqa_accuracy("2", answers) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["red"], 1.0),
        (["blue"], 0.0),
        (["red", "red"], 1.0),
        (["red", "blue"], 0.5),  # each annotator needs the one other: (0 + 1) / 2
        (["red", "blue", "blue"], 1 / 3),  # needs 2 others: (0 + 1/2 + 1/2) / 3
        (["red", "red", "blue", "blue"], 0.5),  # n = 4 is the official formula: (1/3·2 + 2/3·2) / 4
    ],
)
def test_vqa_accuracy_with_fewer_answers(answers: list[str], expected: float) -> None:
    assert vqa_accuracy("Red.", answers) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("prediction", "answer"),
    [
        ("Yes.", "yes"),
        ("two", "2"),
        ("None", "0"),
        ("the dog", "dog"),
        ("A red car", "red car"),
        ("dont know", "don't know"),
        ("t-shirt", "t shirt"),
        ("1,000", "1000"),
        ("red, white", "red white"),
        ("Hello!", "hello"),
        ("on the\ttable\n", "on table"),
    ],
)
def test_vqa_normalization_matches(prediction: str, answer: str) -> None:
    assert vqa_accuracy(prediction, [answer] * 10) == 1.0


@pytest.mark.parametrize(
    ("prediction", "answer"),
    [("3.5", "35"), ("its", "it's"), ("red", "reds"), ("eleven", "11")],
)
def test_vqa_normalization_keeps_apart(prediction: str, answer: str) -> None:
    assert vqa_accuracy(prediction, [answer] * 10) == 0.0


def test_vqa_normalize_examples() -> None:
    assert vqa_normalize("The cat's toy!") == "cat's toy"
    assert vqa_normalize("A t-shirt, 1,000 dogs.") == "tshirt 1000 dogs"  # digit,digit: all go
    assert vqa_normalize("3.5 m.") == "3.5 m"
    assert vqa_normalize("couldnt've") == "couldn't've"


def test_vqa_accuracy_needs_answers() -> None:
    with pytest.raises(ValueError, match="at least one"):
        vqa_accuracy("yes", [])


@given(_ANSWERISH)
def test_vqa_normalize_is_idempotent(text: str) -> None:
    once = vqa_normalize(text)
    assert vqa_normalize(once) == once


@given(_ANSWERISH, st.lists(_ANSWERISH, min_size=1, max_size=10))
def test_vqa_accuracy_is_bounded(prediction: str, answers: list[str]) -> None:
    assert 0.0 <= vqa_accuracy(prediction, answers) <= 1.0


@given(_ANSWERISH, st.integers(min_value=1, max_value=10))
def test_vqa_accuracy_of_the_unanimous_answer_is_one(answer: str, n: int) -> None:
    assert vqa_accuracy(answer, [answer] * n) == 1.0


# --- ANLS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("flaw", "lawn", 2), ("same", "same", 0)],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


@pytest.mark.parametrize(
    ("prediction", "answers", "expected"),
    [
        ("helo", ["hello"], 0.8),  # 1 edit over 5 characters
        ("abcd", ["abce"], 0.75),
        ("ab", ["ac"], 0.0),  # NL = 0.5 is not below the threshold
        ("abc", ["xyz"], 0.0),
        ("helo", ["xyz", "hello"], 0.8),  # the closest answer counts
        ("  Hello   World ", ["hello world"], 1.0),
        ("", [""], 1.0),
    ],
)
def test_anls(prediction: str, answers: list[str], expected: float) -> None:
    assert anls(prediction, answers) == pytest.approx(expected)


def test_anls_threshold_and_empty_answers() -> None:
    assert anls("ab", ["ac"], threshold=0.6) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least one"):
        anls("x", [])


@given(st.text(max_size=20), st.lists(st.text(max_size=20), min_size=1, max_size=4))
def test_anls_is_bounded_and_perfect_answer_is_one(prediction: str, answers: list[str]) -> None:
    assert 0.0 <= anls(prediction, answers) <= 1.0
    assert anls(answers[0], answers) == 1.0


# --- POPE ------------------------------------------------------------------------------------


def test_pope_by_hand() -> None:
    predictions = [True, True, False, None, True, False]
    labels = [True, False, False, True, True, True]
    # tp = 2 (0, 4), fp = 1 (1), fn = 2 (3 unreadable, 5), tn = 1 (2), said yes = 3
    result = pope(predictions, labels)
    assert result == pytest.approx(
        {"accuracy": 3 / 6, "precision": 2 / 3, "recall": 2 / 4, "f1": 4 / 7, "yes_ratio": 3 / 6}
    )


def test_pope_unreadable_is_wrong_and_not_yes() -> None:
    result = pope([None, None], [False, True])
    assert result["accuracy"] == 0.0
    assert result["yes_ratio"] == 0.0
    assert result["recall"] == 0.0
    assert math.isnan(result["precision"])  # no yes answers: precision is undefined


def test_pope_reads_replies_through_yes_no() -> None:
    replies = ["Yes.", "no", "**Yes**", "I can't tell", "There is no green star."]
    labels = [True, False, False, True, False]
    result = pope([extract.yes_no(r) for r in replies], labels)
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["yes_ratio"] == pytest.approx(2 / 5)
    assert result["precision"] == pytest.approx(1 / 2)


def test_pope_rows() -> None:
    assert pope_row(True, True) == {
        **dict.fromkeys(POPE_COLUMNS, 0.0),
        "tp": 1.0,
        "pred_yes": 1.0,
        "correct": 1.0,
    }
    assert pope_row(None, False) == dict.fromkeys(POPE_COLUMNS, 0.0)
    assert pope_row(False, True)["fn"] == 1.0
    with pytest.raises(ValueError):
        pope([True], [True, False])


_POPE_DATA = st.lists(st.tuples(st.sampled_from([True, False, None]), st.booleans()), max_size=30)


@given(_POPE_DATA)
def test_pope_is_bounded_and_perfect_answers_score_one(
    pairs: list[tuple[bool | None, bool]],
) -> None:
    labels = [label for _, label in pairs]
    result = pope([p for p, _ in pairs], labels)
    assert all(_in_unit_interval_or_nan(v) for v in result.values())
    perfect = pope(list(labels), labels)
    if labels:
        assert perfect["accuracy"] == 1.0
        assert perfect["yes_ratio"] == pytest.approx(sum(labels) / len(labels))
    if any(labels):
        assert perfect["precision"] == perfect["recall"] == perfect["f1"] == 1.0


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


@given(_POPE_DATA.filter(bool))
def test_pope_equals_the_bootstrap_point_estimates(pairs: list[tuple[bool | None, bool]]) -> None:
    rows = pd.DataFrame([pope_row(p, label) for p, label in pairs])
    estimates = estimate(rows, pope_aggregates(), cluster=None, resamples=20)
    expected = pope([p for p, _ in pairs], [label for _, label in pairs])
    assert set(estimates) == set(expected)
    assert all(_same(estimates[name].value, value) for name, value in expected.items())


def test_pope_aggregates_with_prefixes_and_a_subset() -> None:
    data = [(True, True, "random"), (False, True, "adversarial"), (True, False, "adversarial")]
    rows = pd.DataFrame(
        [
            {"category": c, **{f"metric_{k}": v for k, v in pope_row(p, y).items()}}
            for p, y, c in data
        ]
    )
    aggs = pope_aggregates("adv/", column_prefix="metric_", where=("category", "adversarial"))
    got = estimate(rows, aggs, cluster=None, resamples=20)
    expected = pope([False, True], [True, False])
    assert {name: e.value for name, e in got.items()} == {
        f"adv/{k}": v for k, v in expected.items()
    }
    assert got["adv/accuracy"].n == 2


# --- CHAIR -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "mentioned"),
    [
        ("Two boxes and a disc.", ["square", "circle"]),
        ("A STAR, a star and more stars", ["star"]),
        ("There is no star.", []),
        ("A circle, not a square.", ["circle"]),
        ("No squares, but a circle.", ["circle"]),
        ("There are no red or blue squares", []),
        ("There is no circle and a square", ["square"]),
        ("A circle without the star", ["circle"]),
        ("There isn't a hexagon here; a triangle is.", ["triangle"]),
        ("No other shapes except an oval", ["ellipse"]),
        ("A starfish in a squared frame", []),
    ],
)
def test_mentioned_objects(caption: str, mentioned: list[str]) -> None:
    assert mentioned_objects(caption) == mentioned


def test_mentions_without_negation_handling() -> None:
    assert mentioned_objects("There is no star.", negation=False) == ["star"]


def test_longest_phrase_wins() -> None:
    vocabulary = {**object_vocabulary({"circle": []}), "red circle": "red circle"}
    assert mentioned_objects("a red circle and a circle", vocabulary) == ["red circle", "circle"]


def test_vocabulary_helpers() -> None:
    vocabulary = object_vocabulary({"square": ["box"], "cross": [], "party": []})
    assert vocabulary == {
        "square": "square", "squares": "square", "box": "square", "boxes": "square",
        "cross": "cross", "crosses": "cross", "party": "party", "parties": "party",
    }  # fmt: skip
    colours = colour_shape_vocabulary(["red"], {"square": ["box"]})
    assert colours["red boxes"] == "red square"
    assert "square" not in colours


def test_chair_counts() -> None:
    result = chair("A circle and a star, and another star.", {"Circle", "square"})
    assert result == {
        "mentioned": 2.0,
        "hallucinated": 1.0,
        "present": 2.0,
        "covered": 1.0,
        "chair_i": 0.5,
        "chair_s": 1.0,
        "recall": 0.5,
    }


def test_chair_with_colour_binding() -> None:
    vocabulary = colour_shape_vocabulary(["red", "blue"])
    result = chair("A red circle next to blue boxes.", {"red circle", "red square"}, vocabulary)
    assert (result["mentioned"], result["hallucinated"], result["covered"]) == (2.0, 1.0, 1.0)


def test_chair_of_a_caption_without_objects() -> None:
    result = chair("A nice picture.", {"circle"})
    assert math.isnan(result["chair_i"])
    assert result["chair_s"] == 0.0
    assert result["recall"] == 0.0


def test_chair_aggregates_are_ratios_of_sums() -> None:
    captions = [("a circle and a star", {"circle"}), ("a square", {"square"}), ("nothing", set())]
    rows = pd.DataFrame([chair(c, present) for c, present in captions])
    got = estimate(rows, chair_aggregates(), cluster=None, resamples=20)
    assert got["chair_i"].value == pytest.approx(1 / 3)  # 1 hallucinated of 3 mentioned
    assert got["chair_s"].value == pytest.approx(1 / 3)
    assert got["object_recall"].value == pytest.approx(1.0)


@given(st.text(max_size=60), st.sets(st.sampled_from(["circle", "square", "star"])))
def test_chair_is_bounded(caption: str, present: set[str]) -> None:
    result = chair(caption, present)
    assert all(_in_unit_interval_or_nan(result[k]) for k in ("chair_i", "chair_s", "recall"))
    assert result["hallucinated"] <= result["mentioned"]
    assert chair(caption, set(mentioned_objects(caption)))["hallucinated"] == 0.0


# --- packaging -------------------------------------------------------------------------------


def test_importing_metrics_does_not_load_pycocoevalcap() -> None:
    code = "import sys, evalharness.metrics; print(any('pycocoevalcap' in m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
