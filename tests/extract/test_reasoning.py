"""Reasoning traces are split off before an answer is read, conclusions are read first, and
replies that give two different answers are never read as either: worked examples and
properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalharness import extract

from .test_examples import _CHOICES, _REPLIES

_ALL_TAGS = [t for pair in extract.DEFAULT_REASONING_TAGS for t in pair]
# A trace: any text holding no tag, often with the words and numbers answers are made of.
_TRACE_PIECES = st.sampled_from(
    ["Yes", "no", "2", "3", "B", "(C)", "the answer is", "so", "red circle", "\n", ".", "or",
     "Final answer: 4", "\\boxed{A}", "Step 1:", "1, 2, 3", "<answer>D</answer>", "maybe"]
)  # fmt: skip
_TRACES = st.one_of(st.text(), st.lists(_TRACE_PIECES, max_size=10).map(" ".join)).filter(
    lambda t: not any(tag.lower() in t.lower() for tag in _ALL_TAGS)
)


def _readings(text: str) -> tuple[Any, ...]:
    return (
        extract.yes_no(text),
        extract.number(text),
        extract.choice(text, _CHOICES),
        extract.open_answer(text),
        extract.json_answer(text),
    )


@given(_TRACES, _REPLIES, st.sampled_from(extract.DEFAULT_REASONING_TAGS))
def test_a_reasoning_trace_before_an_answer_does_not_change_what_is_read(
    trace: str, reply: str, tags: tuple[str, str]
) -> None:
    opening, closing = tags
    assert _readings(f"{opening}{trace}{closing}{reply}") == _readings(reply)
    assert _readings(f"{opening.upper()}{trace}{closing.upper()}\n\n{reply}") == _readings(
        "\n\n" + reply
    )


@given(_TRACES, _REPLIES)
def test_a_trace_opened_by_the_chat_template_is_split_off_too(trace: str, reply: str) -> None:
    assert _readings(f"{trace}</think>{reply}") == _readings(reply)


@given(_TRACES, st.sampled_from(extract.DEFAULT_REASONING_TAGS))
def test_a_reply_that_ends_inside_its_trace_has_no_answer(
    trace: str, tags: tuple[str, str]
) -> None:
    text = f"{tags[0]}{trace}"
    assert _readings(text) == (None, None, None, "", None)
    split = extract.split_reasoning(text)
    assert split.truncated and split.answer == "" and split.trace == trace.strip()


_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_NUMBER_FORMS = ["{} or {}", "between {} and {}", "{} to {}", "either {} or {}", "maybe {} or {}"]


@given(
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.sampled_from([*_NUMBER_FORMS, "{}-{}", "{}–{}", "{}/{}"]),
    st.booleans(),
    st.sampled_from(["", "There are ", "I count ", "The answer is ", "Final answer: "]),
    st.sampled_from(["", ".", " circles.", " of them"]),
    st.sampled_from(["", "<think>I see 4, so 4.</think>"]),
)
def test_two_numbers_given_as_alternatives_are_never_read(
    a: int, b: int, form: str, words: bool, before: str, after: str, trace: str
) -> None:
    if a == b:
        b += 1
    if words and form in _NUMBER_FORMS:  # words for small numbers: "two or three"
        a, b = a % 11, b % 11 if b % 11 != a % 11 else (a + 1) % 11
        pair = form.format(_WORDS[a], _WORDS[b])
    else:
        pair = form.format(a, b)
    assert extract.number(f"{trace}{before}{pair}{after}") is None


@given(
    st.permutations(range(4)),
    st.sampled_from(
        ["{} or {}", "either {} or {}", "{} and {}", "both {} and {}", "({}) or ({})", "{}/{}",
         "option {} or option {}", "{}, or {}"]
    ),
    st.sampled_from(["", "The answer is ", "I think it's ", "Answer: ", "\\boxed{"]),
    st.sampled_from(["", ".", "}", ", it's hard to tell."]),
    st.sampled_from(["", "<think>Surely D.</think>\n"]),
)  # fmt: skip
def test_two_letters_given_as_alternatives_are_never_read(
    order: list[int], form: str, before: str, after: str, trace: str
) -> None:
    pair = form.format("ABCD"[order[0]], "ABCD"[order[1]])
    pair = pair[0].upper() + pair[1:] if not before else pair
    assert extract.choice(f"{trace}{before}{pair}{after}", _CHOICES) is None


@given(
    st.sampled_from(["yes or no", "Yes and no", "yes, or no", "No or yes"]),
    st.sampled_from(["", "The answer is ", "It could be "]),
    st.sampled_from(["", "<think>Yes.</think>"]),
)
def test_yes_and_no_together_are_never_read(pair: str, before: str, trace: str) -> None:
    assert extract.yes_no(f"{trace}{before}{pair}.") is None


@pytest.mark.parametrize(
    ("text", "trace", "answer", "truncated"),
    [
        ("<think>2 red, 3 blue</think> 5", "2 red, 3 blue", " 5", False),
        ("  <THINK>x</THINK>B", "x", "B", False),
        ("so 5.</think>\n5", "so 5.", "\n5", False),
        ("<think>a</think><think>b</think>c", "a\n\nb", "c", False),
        ("◁think▷round, red◁/think▷A", "round, red", "A", False),
        ("<think>Let me count: 1, 2, 3", "Let me count: 1, 2, 3", "", True),
        ("The answer is 5.", None, "The answer is 5.", False),
        ("", None, "", False),
    ],
)
def test_split_reasoning(text: str, trace: str | None, answer: str, truncated: bool) -> None:
    assert extract.split_reasoning(text) == extract.Reasoning(trace, answer, truncated)


def test_split_reasoning_with_other_tags() -> None:
    tags = [("<reflect>", "</reflect>")]
    assert extract.split_reasoning("<reflect>hm</reflect>C", tags) == extract.Reasoning(
        "hm", "C", False
    )
    assert extract.split_reasoning("<think>hm</think>C", tags).trace is None
    assert extract.split_reasoning("<reflect>hm", tags).truncated


@pytest.mark.parametrize(
    "tags",
    ["<think>", [["<think>"]], [["<think>", ""]], [[1, 2]], [["<think>", "</think>", "x"]]],
)
def test_bad_reasoning_tags_are_refused_with_the_reason(tags: object) -> None:
    with pytest.raises(ValueError, match="reasoning_tags"):
        extract.check_tags(tags)


def test_check_tags_accepts_pairs() -> None:
    assert extract.check_tags([["<a>", "</a>"], ("<b>", "</b>")]) == (
        ("<a>", "</a>"),
        ("<b>", "</b>"),
    )
    assert extract.check_tags([]) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the replies the new rules exist for (misread before)
        ("Step 1: Identify the circles. Step 2: Count them. There are 6 circles.", 6),
        ("Let me count: 1, 2, 3, 4. There are 4 apples.", 4),
        ("There are 3 red circles and 2 blue squares, so 5 shapes in total.", 5),
        ("<think>I see 2 red and 3 blue circles, so 5 in total.</think> 5", 5),
        ("2 or 3", None),
        ("between 4 and 6", None),
        ("The answer is $\\boxed{12}$", 12),
        ("<answer>3</answer>", 3),
        ("1. red\n2. blue\n3. green\n\nThat makes 3 colours... wait, 2 + 2 = 4", 4),
        ("<think>counting", None),
    ],
)
def test_number_conclusions_and_ambiguity(text: str, expected: int | None) -> None:
    assert extract.number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is $\\boxed{A}$", 0),
        ("Either A or B", None),
        ("B and C", None),
        ("I think it's C", 2),
        ("The answer is B, not A.", 1),
        ("<think>It is A.</think>\nD", 3),
        ("<answer>(B)</answer>", 1),
    ],
)
def test_choice_conclusions_and_ambiguity(text: str, expected: int | None) -> None:
    assert extract.choice(text, _CHOICES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Looking at the image, the dog is on the sofa. So the answer is yes.", True),
        ("Yes, the cat is on the mat, so it is not on the sofa.", True),
        ("The light is on, so no.", False),
        ("<think>Is it? Yes... no.</think>No", False),
        ("\\boxed{\\text{Yes}}", True),
    ],
)
def test_yes_no_conclusions(text: str, expected: bool | None) -> None:
    assert extract.yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>blue? no, red</think>Red.", "Red"),
        ("<answer>dark blue</answer>", "dark blue"),
        ("Reasoning here.\n\n**Final Answer**\n\n\\[ \\boxed{\\text{circle}} \\]", "circle"),
        ("<think>never closed", ""),
    ],
)
def test_open_answer_after_a_trace_or_in_a_box(text: str, expected: str) -> None:
    assert extract.open_answer(text) == expected
