"""Reading a number (a count, mostly) from digits or words."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

from evalharness.extract._conclusion import AMBIGUOUS, Ambiguous, Span, read
from evalharness.extract._text import clean
from evalharness.extract._yes_no import WORD

_UNIT_WORDS = (  # noqa: SIM905 (a word list reads best as words)
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS)}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), 2
    )
}
_ZERO_WORDS = frozenset({"none", "nothing", "zero"})
# "no" starts a zero count ("no triangles") unless it starts a reply ("No there are 3")
# or compares ("no more than 3", "no other shape")
_NOT_COUNTED = frozenset(
    {"there", "it", "i", "they", "that", "this", "the", "but", "and", "i'm"}
    | {"more", "fewer", "less", "other"}
)
_NUM_TOKEN = re.compile(
    r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|[a-z]+(?:'[a-z]+)?|\S",
    re.ASCII,
)
# Numbers that label rather than count: list items ("1. Top left", "2) …"), steps ("Step 2:")
# and enumerations that count aloud ("1, 2, 3, 4").
_LIST_ITEM = re.compile(r"(?m)^\s*(?:\(?\d{1,2}[.)]|[-*•])[ \t]+")
_STEP = re.compile(r"\bstep\s*#?\s*\d+\s*[:.)\-–]?", re.IGNORECASE)
_RUN = re.compile(r"(?<![\d.,])\d+(?:\s*,\s*(?:and\s+)?\d+)+(?![\d,]*\.\d)")
# Between two different numbers, these make them alternatives or a list: "2 or 3", "4-6",
# "between 4 and 6", "3 red circles and 2 blue squares".
_ALTERNATIVE = frozenset({"or", "and", "to", "-", "–", "/", "&"})
_CLAUSE_BREAK = frozenset(",;:.!?()[]")
_MAX_GAP = 4


def _word_number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """(value, index after it) for a number written in words at `tokens[i]`, up to 999."""
    tok, n = tokens[i], len(tokens)
    if tok in _TENS:
        value, j = _TENS[tok], i + 1
        k = j + 1 if j < n and tokens[j] == "-" else j
        if k < n and 0 < _UNITS.get(tokens[k], 0) < 10:
            value, j = value + _UNITS[tokens[k]], k + 1
    elif tok in _UNITS:
        value, j = _UNITS[tok], i + 1
    else:
        return None
    if j < n and tokens[j] == "hundred" and 0 < value < 10:
        value, j = value * 100, j + 1
        k = j + 1 if j < n and tokens[j] == "and" else j
        rest = _word_number(tokens, k) if k < n else None
        if rest is not None and rest[0] < 100:
            value, j = value + rest[0], rest[1]
    return value, j


def _is_zero(tokens: Sequence[str], i: int) -> bool:
    """ "none", "zero", "nothing", "no triangles", "not any", "aren't any", "I don't see any"."""
    tok, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok == "no":
        return WORD.fullmatch(nxt) is not None and nxt not in _NOT_COUNTED
    if tok == "any":  # a negation at most two words before, words only between
        for j in range(i - 1, max(i - 4, -1), -1):
            if WORD.fullmatch(tokens[j]) is None:
                return False
            if tokens[j] in ("not", "cannot", "never") or tokens[j].endswith("n't"):
                return True
        return False
    return tok in _ZERO_WORDS


def _negated(tokens: Sequence[str], i: int) -> bool:
    """Does a "not" come before `tokens[i]` ("not one", "not even one", "isn't a single")?"""
    j = i - 1
    while j >= 0 and tokens[j] in ("a", "even"):
        j -= 1
    return j >= 0 and (tokens[j] == "not" or tokens[j].endswith("n't"))


def _numbers(tokens: Sequence[str]) -> Iterator[tuple[int | float, int, int]]:
    """(value, first token, token after it) of every number the tokens hold."""
    for i, tok in enumerate(tokens):
        if "0" <= tok[0] <= "9":
            digits = tok.replace(",", "")
            yield (float(digits) if "." in digits else int(digits)), i, i + 1
        elif (found := _word_number(tokens, i)) is not None:
            if not (i > 0 and (tokens[i - 1] in _TENS or tokens[i - 1] == "-")):
                # "twenty-one" is one number, not 20 then 1; "not one" is none
                value = 0 if found[0] == 1 and _negated(tokens, i) else found[0]
                yield value, i, found[1]
        elif tok == "single":  # "a single circle"; "not a single one"
            yield (0 if _negated(tokens, i) else 1), i, i + 1
        elif _is_zero(tokens, i):
            yield 0, i, i + 1


def _counting_aloud(m: re.Match[str]) -> str:
    """An enumeration "1, 2, 3, 4" (each one more than the last) is dropped; other lists stay."""
    values = [int(v) for v in re.findall(r"\d+", m.group(0))]
    steps = {b - a for a, b in itertools.pairwise(values)}
    return " " if len(values) >= 3 and steps == {1} else m.group(0)


def _read(span: Span) -> int | float | Ambiguous | None:
    text = _RUN.sub(_counting_aloud, _STEP.sub(" ", _LIST_ITEM.sub("", span.text)))
    tokens = _NUM_TOKEN.findall(clean(text))
    found = list(_numbers(tokens))
    if not found:
        return None
    value, _, end = found[0]
    if len({v for v, _, _ in found}) > 1 and "between" in tokens[: found[0][1]][-3:]:
        return AMBIGUOUS
    for other, start, after in found[1:]:
        gap = tokens[end:start]
        if any(t in _CLAUSE_BREAK for t in gap) or len(gap) > _MAX_GAP:
            break
        if other != value:  # "2 or 3", "4-6", "3 red circles and 2 blue squares"
            return AMBIGUOUS if _ALTERNATIVE.intersection(gap) else value
        end = after
    return value


def number(text: str) -> int | float | None:
    """The number a reply gives, from digits or words, or None.

    "I count 7" → 7, "There are three circles." → 3, "twenty-one" → 21, "3.5" → 3.5, "1,000" →
    1000, "a single circle" → 1; "none", "zero", "no triangles", "there aren't any", "I don't see
    any", "not one", "not a single one" → 0. Integers come back as int; numbers are read as
    non-negative (a dash is a separator).

    A reasoning trace is skipped (a reply that ends inside one gives None). A stated conclusion
    is read first: an answer tag or box, "the answer is 12", "…, so 5 shapes in total", "2 + 3 =
    5", the last line after steps or a list; then what follows a restated question; then the
    reply from its start. In the place read, the first number wins, but never a step label, a
    list number or an enumeration ("Let me count: 1, 2, 3, 4. There are 4 apples." → 4), and two
    different numbers given as alternatives or side by side ("2 or 3", "between 4 and 6", "4-6",
    "3 red circles and 2 blue squares") give None.
    """
    return read(text, _read)
