"""MMMU's answer parsing and matching, as its official evaluation reads replies.

Multiple choice: a bracketed letter "(B)", else a letter standing alone between spaces ("B",
"the answer is B"; "B." only once the reply's edge punctuation is stripped); failing those, in a reply of more than five words, an option's text.
Several candidates: the one that occurs last. No candidate: the official code picks a random
letter; `mmmu_choice` returns None there, and the benchmark scores the guess by its expected
value. Open answers: the tails of the reply after "so", "is", "therefore", "answer", … (and
"=" in its last line), plus every number in them, each normalised (numbers rounded to two
decimals, text lower-cased); right if a normalised answer occurs in one of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_EDGE_PUNCTUATION = (",", ".", "!", "?", ";", ":", "'")
_KEY_MARKERS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
_TRIVIAL = {":", ",", ".", "!", "?", ";", "'"}

_NUMBER_WITH_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_NUMBER_SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+")
_NUMBER_PLAIN = re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])")

Normalised = str | float


def mmmu_choice(reply: str, options: Sequence[str]) -> str | None:
    """The option letter MMMU's parser reads in `reply`, or None where it would guess."""
    for char in _EDGE_PUNCTUATION:  # one character at a time, in this order, as the official
        reply = reply.strip(char)
    text = f" {reply} "
    letters = [chr(ord("A") + i) for i in range(len(options))]

    found = [x for x in letters if f"({x})" in text]
    bracketed = bool(found)
    if not found:
        found = [x for x in letters if f" {x} " in text]
    by_text = False
    if not found and len(text.split()) > 5:
        found = [
            x for x, option in zip(letters, options, strict=True) if option.lower() in text.lower()
        ]
        by_text = bool(found)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    if by_text:
        where = [text.lower().rfind(options[letters.index(x)].lower()) for x in found]
    elif bracketed:
        where = [text.rfind(f"({x})") for x in found]
    else:
        where = [text.rfind(f" {x} ") for x in found]
    return found[where.index(max(where))]  # the first of equals, as numpy's argmax


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def mmmu_normalise(text: str) -> list[Normalised]:
    """A number as a float rounded to two decimals; text lower-cased (one letter padded with a
    space on either side, so it does not match inside words)."""
    text = text.strip()
    if _is_number(text):
        return [round(float(text.replace(",", "")), 2)]
    text = text.lower()
    return [" " + text, text + " "] if len(text) == 1 else [text]


def _numbers(text: str) -> list[str]:
    return [
        *_NUMBER_WITH_COMMAS.findall(text),
        *_NUMBER_SCIENTIFIC.findall(text),
        *_NUMBER_PLAIN.findall(text),
    ]


def _key_parts(reply: str) -> list[str]:
    """The parts of the reply that may hold the answer: per line, the shortest tail after a
    marker word; the whole reply where no line has one."""
    reply = reply.strip().strip(".").lower()
    # the official splits at ". " before a capital too, but only after lower-casing
    lines = re.split(r"\.\s(?=[A-Z])|\n", reply)
    parts: list[str] = []
    for i, line in enumerate(lines):
        markers = [*_KEY_MARKERS, "="] if i == len(lines) - 1 else list(_KEY_MARKERS)
        shortest: str | None = None
        for marker in markers:
            if marker not in line:
                continue
            tail = line.split(marker)[-1].strip()
            # an empty tail counts as none found yet, so the next marker's tail replaces it
            if not shortest or len(tail) < len(shortest):
                shortest = tail
        if shortest and shortest.strip() not in _TRIVIAL:
            parts.append(shortest)
    return parts or [reply]


def mmmu_open(reply: str) -> list[Normalised]:
    """What MMMU reads in an open reply: its key parts and the numbers in them, normalised."""
    parts = _key_parts(reply)
    candidates = parts + [n for part in parts for n in _numbers(part)]
    out: list[Normalised] = []
    for candidate in candidates:
        for value in mmmu_normalise(candidate):
            if value not in out:
                out.append(value)
    return out


def mmmu_open_correct(read: Sequence[Normalised], answers: Sequence[str]) -> bool:
    """Whether a normalised answer matches: text inside a read string, a number equal to a read
    number."""
    gold = [value for answer in answers for value in mmmu_normalise(answer)]
    for value in read:
        if isinstance(value, str):
            if any(isinstance(g, str) and g in value for g in gold):
                return True
        elif value in gold:
            return True
    return False
