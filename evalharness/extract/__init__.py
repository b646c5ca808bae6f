"""Answer extraction: read a yes/no, a number, an option or a short answer out of free model text.

Every function here is pure and total: it never raises on any string, and it returns None when the
text does not clearly answer. A wrong guess would score as luck; None scores as wrong, and the
share of None answers is itself worth reporting.

All readers work the same way (`_conclusion`): a reasoning trace (`<think>…</think>` and the
other `DEFAULT_REASONING_TAGS`) is split off first, and a reply that ends inside one holds no
answer; then a stated conclusion is read before anything else (an answer tag, `\\boxed{…}`,
"Final answer:", "the answer is", "…, so 5 in total", the last line after steps); otherwise the
leading answer of the reply. Step labels, list numbers and counting aloud ("1, 2, 3, 4") are never
the answer, and two different answers given as alternatives ("2 or 3", "B and C") give None.
"""

from __future__ import annotations

from evalharness.extract._choice import choice
from evalharness.extract._number import number
from evalharness.extract._reasoning import (
    DEFAULT_REASONING_TAGS,
    Reasoning,
    TagPair,
    check_tags,
    split_reasoning,
)
from evalharness.extract._text import json_answer, normalize, open_answer
from evalharness.extract._yes_no import yes_no

VERSION = "4"
"""Bumped whenever a function here reads some reply differently. It is part of every benchmark
version built with `version_string`, so results extracted differently are never ranked together;
`evalharness rescore` brings stored runs up to date from their raw outputs."""

__all__ = [
    "DEFAULT_REASONING_TAGS",
    "VERSION",
    "Reasoning",
    "TagPair",
    "check_tags",
    "choice",
    "json_answer",
    "normalize",
    "number",
    "open_answer",
    "split_reasoning",
    "yes_no",
]
