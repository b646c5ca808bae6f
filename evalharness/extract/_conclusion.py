"""Where a reply states its answer: the places a reader looks, strongest first.

A reply that states a final answer ("Final answer: B", "the answer is 5", `\\boxed{C}`,
`<answer>no</answer>`, "…, so 5 shapes in total") is read there; a derivation (steps, a list)
is read at its last line; otherwise the reply is read from its start. Each reader (yes/no,
number, option) looks at these spans in order: the first that gives an answer decides, and one
that gives two different answers ("B or C") makes the whole reply unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, TypeVar

from evalharness.extract._reasoning import answer_part

_T = TypeVar("_T")

SpanKind = Literal["marked", "clause", "last", "question", "whole"]


@dataclass(frozen=True)
class Span:
    """A piece of a reply where its answer may be stated.

    `kind`: "marked" (an answer tag, a box, the text after "the answer is"), "clause" (after
    "so", "therefore", "in total", "=": only an explicit answer counts there), "last" (the last
    line after a derivation), "question" (after the last question the reply restates), "whole"
    (the whole reply, read from its start).
    """

    text: str
    kind: SpanKind


class Ambiguous:
    """A span that gives two or more different answers ("2 or 3", "B and C")."""

    def __repr__(self) -> str:
        return "AMBIGUOUS"


AMBIGUOUS = Ambiguous()

MARKUP = re.compile(r"[*`]+|__+")
_TAGGED = re.compile(
    r"<(answer|conclusion)>(.*?)</\1>|<\|begin_of_box\|>(.*?)<\|end_of_box\|>",
    re.IGNORECASE | re.DOTALL,
)
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textrm)\s*\{([^{}]*)\}")
_MARKER = re.compile(
    r"\b(?:final\s+answer\b(?:\s+is\b)?|answer\s+(?:is|would\s+be|should\s+be|will\s+be)\b"
    r"|answer(?=\s*[:\-–]))\s*[:\-–]?",
    re.IGNORECASE,
)
_CONCLUDES = re.compile(
    r"(?:^|[.,;:!?\n]|\band\b)\s*"
    r"(?:so|therefore|thus|hence|consequently|in conclusion|in summary|overall|that gives|"
    r"that makes|which gives|which makes|which is|giving|for a total of)\b[,:]?"
    r"|=",
    re.IGNORECASE,
)
_TOTAL = re.compile(r"\b(?:in total|in all|altogether|total)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
_CLAUSE_START = re.compile(r"[.;,!?\n]")
_ITEM = re.compile(r"^\s*(?:[-*•]\s|\(?\d{1,2}[.)]\s|step\s*\d+\b)", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def _boxed(text: str) -> str | None:
    """The content of the last `\\boxed{…}` (braces balanced), text commands unwrapped."""
    found = None
    for m in _BOX.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            found = text[m.end() : i - 1]
    if found is None:
        return None
    for _ in range(5):  # \text{\textbf{B}}
        found = _TEXT_CMD.sub(r"\1", found)
    return found.strip()


def marked_answer(text: str) -> str:
    """The content of the last answer tag (`<answer>`, `<CONCLUSION>`, GLM's box tokens) or of
    the last `\\boxed{…}`, where the reply has one; else the text unchanged."""
    tagged = [m.group(2) if m.group(2) is not None else m.group(3) for m in _TAGGED.finditer(text)]
    if tagged:
        return _SPECIAL.sub("", tagged[-1]).strip()
    boxed = _boxed(text)
    return boxed if boxed is not None else text


def _to_sentence_end(text: str, start: int) -> str:
    rest = text[start:].lstrip(" \t\n:")
    end = _SENTENCE_END.search(rest)
    return rest[: end.start() if end else len(rest)]


def _concluding_clause(text: str) -> str | None:
    """The last clause that concludes ("so 5 in total", "therefore, no", "2 + 3 = 5")."""
    best: tuple[int, str] | None = None
    for m in _CONCLUDES.finditer(text):
        best = (m.start(), _to_sentence_end(text, m.end()))
    for m in _TOTAL.finditer(text):
        if best is None or m.start() >= best[0]:
            starts = [c.end() for c in _CLAUSE_START.finditer(text, 0, m.start())]
            best = (m.start(), _to_sentence_end(text, starts[-1] if starts else 0))
    return best[1] if best is not None else None


def _after_derivation(text: str) -> str | None:
    """The last line (or sentence) of a reply whose earlier lines are steps or list items."""
    units = [line for line in text.splitlines() if line.strip()]
    if len(units) < 2:
        units = [s for s in _SENTENCES.split(text) if s.strip()]
    if len(units) < 2 or _ITEM.match(units[-1]):
        return None
    return units[-1] if any(_ITEM.match(u) for u in units[:-1]) else None


def spans(answer: str) -> Iterator[Span]:
    """The places of a reply (its reasoning trace already removed) where its answer may be
    stated, strongest first."""
    marked = marked_answer(answer)
    if marked != answer:
        yield Span(marked, "marked")
    plain = MARKUP.sub("", answer)
    markers = list(_MARKER.finditer(plain))
    if markers:
        yield Span(_to_sentence_end(plain, markers[-1].end()), "marked")
    clause = _concluding_clause(plain)
    if clause is not None:
        yield Span(clause, "clause")
    last = _after_derivation(plain)
    if last is not None:
        yield Span(last, "last")
    trimmed = plain.rstrip("? \n")
    if "?" in trimmed:
        yield Span(trimmed[trimmed.rindex("?") + 1 :], "question")
    yield Span(answer, "whole")


def read(text: str, reader: Callable[[Span], _T | Ambiguous | None]) -> _T | None:
    """The answer the first span that gives one holds, or None: when the reply ends inside a
    reasoning trace, when no span gives an answer, or when the first that gives any gives two
    different ones. This None is where rules stop: a reply they leave unreadable."""
    answer = answer_part(text)
    if answer is None:
        return None
    for span in spans(answer):
        got = reader(span)
        if isinstance(got, Ambiguous):
            return None
        if got is not None:
            return got
    return None
