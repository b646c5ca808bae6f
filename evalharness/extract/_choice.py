"""Reading which option a reply picks: by its letter or by its text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from evalharness.extract._conclusion import AMBIGUOUS, Ambiguous, Span, read
from evalharness.extract._text import settle, strip_framing
from evalharness.types import LETTERS

_LETTER = r"(?:[(\[]\s*([A-Za-z])\s*[)\]]|(?<![\w'])([A-Za-z])(?![\w']))"
_WHOLE = re.compile(r"^\W*([A-Za-z])\W*$")
_ANSWER_LETTER = re.compile(
    r"\banswer\b(?:\s+(?:is|would be|should be|will be)\b)?\s*[:\-–]?\s*"
    r"(?:(?:option|choice|letter)\s*)?" + _LETTER,
    re.IGNORECASE,
)
_OPTION_LETTER = re.compile(
    r"\b(?:option|choice|letter)\b(?:\s+(?:is|would be|should be))?\s*[:\-–]?\s*" + _LETTER,
    re.IGNORECASE,
)
_OPENING_LETTER = re.compile(r"^[^\w(\[]*" + _LETTER)
_LEADING_LETTER = re.compile(r"^\s*(?:[(\[]([A-Za-z])[)\]]|([A-Za-z])[.:)]|([A-Z])\s+[-–])(?=\s|$)")
_BRACKETED = re.compile(r"[(\[]\s*([A-Za-z])\s*[)\]]")
_BARE_CAPITAL = re.compile(r"(?<![\w'])([A-Z])(?![\w'])")
_CLEAR_AFTER = re.compile(r"\s*(?:$|[.,;:!?)\]])")
# Two letters given as alternatives or together: "A or B", "B and C", "either (A) or (C)", "A/B".
_ONE = r"[(\[]?\s*([A-Z])\s*[)\]]?"
_PAIR = re.compile(
    r"(?<![\w'])" + _ONE + r"(?![\w'])\s*(?:,\s*)?(?:or|and|/|&)\s*(?:option\s+)?" + _ONE
    + r"(?![\w'])"
)  # fmt: skip


def _is_clear(text: str, m: re.Match[str]) -> bool:
    """Is an unbracketed single letter an option letter, not the article "a" or the pronoun "I"?"""
    letter = m.group(m.lastindex or 0)
    if letter.isupper() and letter not in "AI":
        return True
    return _CLEAR_AFTER.match(text, m.end()) is not None


def _letters(text: str, pattern: re.Pattern[str], n: int, bare_group: int = 0) -> set[int]:
    """Valid option indices of the letters `pattern` finds; one in `bare_group` must be clear."""
    found = set()
    for m in pattern.finditer(text):
        if m.lastindex is None or (m.lastindex == bare_group and not _is_clear(text, m)):
            continue
        index = LETTERS.find(m.group(m.lastindex).upper())
        if 0 <= index < n:
            found.add(index)
    return found


def _words_only(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _option_in_text(text: str, choices: Sequence[str]) -> set[int]:
    """The options whose own text the reply names; longer matches hide those inside them."""
    words = _words_only(text)
    spans = []
    for index, choice_text in enumerate(choices):
        option = re.sub(r"^(?:a|an|the) ", "", _words_only(choice_text))
        if option:
            pattern = r"(?<!\S)" + re.escape(option) + r"(?!\S)"
            spans += [(m.start(), m.end(), index) for m in re.finditer(pattern, words)]
    return {
        index
        for start, end, index in spans
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)
    }


def _paired(text: str, n: int) -> bool:
    """Does the text give two different valid letters as alternatives ("B or C")?"""
    for m in _PAIR.finditer(text):
        first, second = (LETTERS.find(g) for g in m.groups())
        if first != second and first < n and second < n:
            return True
    return False


def _read(span: Span, choices: Sequence[str]) -> int | Ambiguous | None:
    n = min(len(choices), len(LETTERS))
    cleaned = settle(strip_framing, span.text).replace("’", "'")
    if _paired(cleaned, n):
        return AMBIGUOUS
    tiers = [
        _letters(cleaned, _WHOLE, n),
        _letters(cleaned, _ANSWER_LETTER, n, bare_group=2),
        _letters(cleaned, _OPTION_LETTER, n, bare_group=2),
    ]
    if span.kind == "marked":  # "the answer is B, not A": the letter it opens with
        tiers.append(_letters(cleaned, _OPENING_LETTER, n, bare_group=2))
    tiers += [_letters(cleaned, _LEADING_LETTER, n), _letters(cleaned, _BRACKETED, n)]
    for found in tiers:
        if found:
            return found.pop() if len(found) == 1 else AMBIGUOUS
    if span.kind == "clause":  # "…, so the red one is wrong": only a letter says it there
        return None
    named = _option_in_text(cleaned, choices)
    if named:
        return named.pop() if len(named) == 1 else AMBIGUOUS
    bare = _letters(cleaned, _BARE_CAPITAL, n, bare_group=1)
    if bare:
        return bare.pop() if len(bare) == 1 else AMBIGUOUS
    return None


def choice(text: str, choices: list[str]) -> int | None:
    """The index of the option a reply picks, or None if it picks none or is ambiguous.

    A reasoning trace is skipped (a reply that ends inside one gives None), and a stated
    conclusion is read first: an answer tag or box (`\\boxed{B}`), "the answer is B", "…,
    therefore the correct option is C", the last line after a list; then the reply from its
    start. Letters are read in every usual form: "B", "(B)", "B.", "B)", "**B**", "Answer: C",
    "The answer is (B)", "Option B", "(B) the blue square". The rules are tried in order, and the
    first that finds a valid letter decides (two different letters there give None): the whole
    reply is one letter; a letter after "answer"; after "option"/"choice"; at the start of the
    reply followed by ".", ")" or ":"; in brackets anywhere. Then the options' own texts: "I think
    it is the red circle" picks "red circle"; a match inside a longer matching option does not
    count ("blue square" hides "square"); two options named give None. Last, a lone capital letter
    anywhere ("B because…"). Two letters given as alternatives ("B or C", "either A or B", "B and
    C") give None. The article "A" and the pronoun "I" count as letters only when they stand
    alone or before punctuation ("A.", "answer is A"), never in "A red circle…". Letters beyond
    `len(choices)` are ignored.
    """
    if min(len(choices), len(LETTERS)) == 0:
        return None
    return read(text, lambda span: _read(span, choices))
