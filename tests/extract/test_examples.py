"""Answer extraction: worked examples of real model replies, and properties over arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalharness import extract

# Pieces real replies are made of, so generated text hits the interesting branches often.
_PIECES = st.sampled_from(
    [
        "Yes", "yes", "No", "no", "not", "n't", "The answer is", "Answer:", "answer is", "Option",
        "**", "__", "`", "```json", "```", "{", "}", '"answer"', ":", "(", ")", "[", "]", "A", "B",
        "a", "I", "the", "red circle", "blue square", "three", "twenty", "-", "one", "7", "3.5",
        "1,000", ",", ".", "?", "!", "\n", " ", "  ", "’", "'", "none", "can't tell", "maybe",
        "<think>", "</think>", "◁/think▷", "<answer>", "</answer>", "\\boxed{", "\\text{", "so",
        "therefore", "or", "and", "between", "Step 1:", "1.", "- ", "Final answer:", "=", "in total",
    ]
)  # fmt: skip
_REPLIES = st.one_of(st.text(), st.lists(_PIECES, max_size=12).map(" ".join))
_CHOICES = ["red circle", "blue square", "green triangle", "yellow star"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes.", True),
        ("yes, there is", True),
        ("No, I don't see one", False),
        (" \n Yes", True),
        ("**Yes**", True),
        ("Yes!", True),
        ("no.", False),
        ("There is no green star.", False),
        ("I can't tell", None),
        ("Yes and no", None),
        ("The answer is yes.", True),
        ("Answer: No", False),
        ("Nope", False),
        ("It is not red.", False),
        ("There is a green star.", True),
        ("The image shows a circle. Yes, it is red.", True),
        ("Yes. There is no other shape.", True),
        ("I’m not sure.", None),
        ("I don't know", None),
        ("maybe", None),
        ("Red", None),
        ("The circle is red.", None),
        ("It is red.", None),
        ("I see a star.", True),
        ("There appears to be a star.", True),
        ("There seems to be no star.", False),
        ("Certainly.", True),
        ("Of course!", True),
        ("Absolutely, there is one.", True),
        ("Certainly not.", False),
        ("Absolutely not.", False),
        ("Of course not.", False),
        ("Sure! There is no green star.", False),
        ("Certainly! Here is my answer: no.", False),
        ("Sure, here's the answer: No.", False),
        ("Indeed, yes.", True),
        ("Sure, yes and no.", None),
        ("That's correct.", True),
        ("That is right.", True),
        ("It is true.", True),
        ("That's wrong.", False),
        ("This is false.", False),
        ("That's not correct.", False),
        ("It is right of the square.", None),  # a place, not a verdict
        ("", None),
        ("   ", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert extract.yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("There are three circles.", 3),
        ("I count 7", 7),
        ("twenty-one", 21),
        ("Twenty one squares", 21),
        ("none", 0),
        ("zero", 0),
        ("no triangles", 0),
        ("There aren't any stars.", 0),
        ("I don't see any stars.", 0),
        ("I can't find any red circles, but there are 3 squares.", 0),
        ("I do not see any stars in the image.", 0),
        ("Are there any stars? There are 2.", 2),
        ("There are 3, not any more.", 3),
        ("3.5", 3.5),
        ("**7**", 7),
        ("Seven.", 7),
        ("1,000 dots", 1000),
        ("one hundred and five", 105),
        ("No, there are 4.", 4),
        ("How many circles are there in the 2 rows? There are 5.", 5),
        ("The picture has 3 rows; the answer is 12.", 12),
        ("There's a single red circle.", 1),
        ("Only one.", 1),
        ("Not one.", 0),
        ("There is not even one star.", 0),
        ("There is not a single triangle.", 0),
        ("There isn’t a single circle.", 0),
        ("There are no more than 3 squares.", 3),
        ("No other shape, just one circle.", 1),
        ("I can't tell", None),
        ("no", None),
        ("Lots of them", None),
        ("", None),
    ],
)
def test_number(text: str, expected: float | None) -> None:
    value = extract.number(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(B) the blue square", 1),
        ("**B**", 1),
        ("The answer is (B)", 1),
        ("The answer is (B).", 1),
        ("Answer: C", 2),
        ("I think it is the red circle", 0),
        ("B", 1),
        ("b", 1),
        ("B.", 1),
        ("B)", 1),
        ("[D]", 3),
        ("Option B", 1),
        ("The best option is c.", 2),
        ("**Answer:** D\nOption A is wrong.", 3),
        ("b) blue square", 1),
        ("The correct answer is option C.", 2),
        ("B because it is blue", 1),
        ("Looks like the yellow star (D)", 3),
        ("Option A is wrong; the answer is B", 1),
        ("A", 0),
        ("(A)", 0),
        ("A.", 0),
        ("A)", 0),
        ("Option A", 0),
        ("answer is A", 0),
        ("the blue square", 1),
        ("the answer is a green triangle", 2),
        ("A green triangle.", 2),
        ("I'm sure it is the blue square", 1),
        ("E", None),
        ("The answer is E", None),
        ("Either (A) or (B)", None),
        ("the red circle or the blue square", None),
        ("I'm not sure", None),
        ("There is a shape in the image.", None),
        ("", None),
    ],
)
def test_choice(text: str, expected: int | None) -> None:
    assert extract.choice(text, _CHOICES) == expected


def test_choice_never_reads_the_article_or_the_first_capital_as_a_letter() -> None:
    # Option A's text is not named, so only a misread article "A" could give 0.
    choices = ["blue square", "red circle"]
    assert extract.choice("A red circle is in the middle.", choices) == 1
    assert extract.choice("The answer is A red circle", choices) == 1
    assert extract.choice("The answer is (B)", [str(i) for i in range(20)]) == 1  # not "T"
    assert extract.choice("A", choices) == 0


def test_choice_prefers_the_longest_option_named() -> None:
    assert extract.choice("the blue square", ["square", "blue square"]) == 1
    assert extract.choice("a square", ["square", "blue square"]) == 0
    assert extract.choice("a square next to a blue square", ["square", "blue square"]) is None


def test_choice_ignores_letters_beyond_the_options() -> None:
    assert extract.choice("C", ["yes", "no"]) is None
    assert extract.choice("(C) maybe", ["yes", "no"]) is None
    assert extract.choice("(C) no", ["yes", "no"]) == 1  # the invalid letter gives way to the text
    assert extract.choice("anything", []) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"answer": "red"}', "red"),
        ('```json\n{"answer": "blue square"}\n```', "blue square"),
        ('Sure! Here it is: {"answer": 3, "why": "counted"} Hope that helps.', "3"),
        ('{"answer": true}', "true"),
        ('```\n{"reason": "x", "answer": "no"}\n```', "no"),
        ('{"Answer": "red"}', None),
        ('{"answer": null}', None),
        ('{"answer": ["red", "blue"]}', None),
        ('{"answer": "red"', None),
        ("red", None),
        ("", None),
    ],
)
def test_json_answer(text: str, expected: str | None) -> None:
    assert extract.json_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "open_form", "normal_form"),
    [
        ("**Red.**\nIt is red because of the light.", "Red", "red"),
        ("The answer is: Blue", "Blue", "blue"),
        ("Here is my answer:\n  Green!", "Green", "green"),
        ('"Circle"', "Circle", "circle"),
        ("  Hexagon  \n", "Hexagon", "hexagon"),
        ("Final answer: `STOP`", "STOP", "stop"),
        ("dark   blue.", "dark   blue", "dark blue"),
    ],
)
def test_open_answer_and_normalize(text: str, open_form: str, normal_form: str) -> None:
    assert extract.open_answer(text) == open_form
    assert extract.normalize(text) == normal_form


@given(_REPLIES)
def test_cleaners_are_idempotent(text: str) -> None:
    once = extract.open_answer(text)
    assert extract.open_answer(once) == once
    normal = extract.normalize(text)
    assert extract.normalize(normal) == normal


@given(_REPLIES, st.lists(st.text(max_size=12), max_size=6))
def test_extraction_never_raises(text: str, choices: list[str]) -> None:
    assert extract.yes_no(text) in (True, False, None)
    value = extract.number(text)
    assert value is None or value >= 0
    index = extract.choice(text, choices)
    assert index is None or 0 <= index < len(choices)
    answer = extract.json_answer(text)
    assert answer is None or isinstance(answer, str)


@given(st.sampled_from(range(len(_CHOICES))), st.sampled_from(["{}", "({})", "{}.", "Answer: {}"]))
def test_every_letter_form_reads_back(index: int, form: str) -> None:
    assert extract.choice(form.format("ABCD"[index]), _CHOICES) == index


@given(st.integers(min_value=0, max_value=10**6))
def test_numbers_read_back(value: int) -> None:
    assert extract.number(f"I count {value}.") == value
    assert extract.number(f"There are {value:,} dots") == value
