"""MathVista's answer extraction by rule and its normalisation, as its official evaluation does.

The official extraction tries rules first: an empty reply is read as empty; a reply that is
exactly one of the options, or (for integer and float answers) a number and nothing else, is
taken as it is; with quick extraction on, `The answer is "X".` gives X. Everything else goes to
a GPT judge. `mathvista_rule` returns None there: the reply is unreadable by rule.

The extraction is then normalised to the answer's type: for options, a letter ("B" or "(B)")
names an option, anything else is taken as the option nearest by edit distance; integers and
floats (rounded to the item's precision) are compared as the strings Python prints for them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evalharness.metrics._anls import levenshtein

_QUICK = re.compile(r'The answer is "(.*)"\.')
_LETTER = re.compile(r"\(([a-zA-Z])\)")


def mathvista_rule(
    reply: str,
    question_type: str,
    answer_type: str,
    choices: Sequence[str],
    *,
    quick: bool = True,
) -> str | None:
    """The answer the official rules read in `reply`, or None where they would ask the judge."""
    if reply == "":
        return ""
    if question_type == "multi_choice" and reply in choices:
        return reply
    if answer_type == "integer":
        try:
            return str(int(reply))
        except ValueError:
            pass
    if answer_type == "float":
        try:
            return str(float(reply))
        except ValueError:
            pass
    if quick:
        found = _QUICK.search(reply)
        if found:
            return found.group(1)
    return None


def nearest(text: str, choices: Sequence[str]) -> str:
    """The choice nearest to `text` by edit distance; the first of equals."""
    distances = [levenshtein(text, c) for c in choices]
    return choices[distances.index(min(distances))]


def mathvista_normalise(
    extraction: str,
    question_type: str,
    answer_type: str,
    choices: Sequence[str],
    precision: float | None,
) -> str | None:
    """The extraction in the answer's form, or None where it cannot take that form."""
    if question_type == "multi_choice":
        extraction = extraction.strip()
        letters = _LETTER.findall(extraction)
        if letters:
            extraction = letters[0].upper()
        names = [chr(ord("A") + i) for i in range(len(choices))]
        if extraction in names:
            return choices[names.index(extraction)]
        return nearest(extraction, choices)
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            if precision is None:
                return None
            return str(round(float(extraction), int(precision)))
    except (ValueError, OverflowError):
        return None
    if answer_type == "list":
        return str(extraction)
    return None
