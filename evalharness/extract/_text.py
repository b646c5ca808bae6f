"""Cleaning a reply's text: markup, framing ("The answer is"), and the short open answer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from evalharness.extract._conclusion import marked_answer
from evalharness.extract._reasoning import answer_part

_MAX_PASSES = 20  # the cleaners only delete text, so they settle in a few passes

_MARKUP = re.compile(r"[*`]+|__+")
_PREFIX = re.compile(
    r"^\s*(?:(?:the|my)\s+)?(?:final\s+|correct\s+|short\s+)?answer"
    r"(?:\s*[:\-–]|\s+is\b\s*:?)\s*",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’«»"
_EDGE_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…–—"


def settle(fn: Callable[[str], str], text: str) -> str:
    """Apply `fn` until the text stops changing, which makes the cleaners idempotent."""
    for _ in range(_MAX_PASSES):
        new = fn(text)
        if new == text:
            break
        text = new
    return text


def strip_framing(text: str) -> str:
    """Markdown emphasis and a leading "The answer is" / "Answer:", without choosing a line."""
    return _PREFIX.sub("", _MARKUP.sub("", text), count=1).strip()


def clean(text: str) -> str:
    """Framing removed, lower-cased, typographic apostrophes made plain; all lines kept."""
    return settle(strip_framing, text).lower().replace("’", "'")


def _open_once(text: str) -> str:
    text = strip_framing(marked_answer(answer_part(text) or ""))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # "Here is my answer:\nred" -- a lead-in line that ends in a colon is not the answer
    line = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0]
    return line.strip(" \t" + _QUOTES).rstrip(".!?,;:").strip(" \t" + _QUOTES)


def _normalize_once(text: str) -> str:
    return " ".join(_open_once(text).lower().split()).strip(_EDGE_PUNCT + " ")


def open_answer(text: str) -> str:
    """The short answer in a free-text reply, with its case kept.

    Drops a reasoning trace (`<think>…</think>`; a reply that ends inside one gives ""), takes
    the content of an answer tag or box where the reply has one (`<answer>…</answer>`,
    `\\boxed{…}`), removes markdown emphasis (`**`, `__`, backticks), a leading "The answer is" /
    "Answer:" / "Final answer:", surrounding quotes and trailing `.!?,;:`, and keeps the first
    non-empty line (the second when the first is a lead-in ending in a colon).
    "**Red.**\\nIt is red because…" gives "Red". Idempotent.
    """
    return settle(_open_once, text)


def normalize(text: str) -> str:
    """`open_answer`, lower-cased, whitespace collapsed and punctuation stripped from both ends.

    For comparing short open answers (colours, shapes, words): "  **Blue.** " → "blue".
    Idempotent: `normalize(normalize(x)) == normalize(x)`.
    """
    return settle(_normalize_once, text)


_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)


def json_answer(text: str) -> str | None:
    """The "answer" field of the first JSON object in a reply that has one, as a string.

    Tolerates ```json fences, text around the object and a reasoning trace before it. Strings
    come back as they are, numbers and booleans in their JSON spelling ("3", "true"); null, lists
    and objects give None, as does a reply without such an object. The key must be exactly
    "answer".
    """
    answer = answer_part(text)
    if answer is None:
        return None
    decoder = json.JSONDecoder()
    for candidate in [m.group(1) for m in _FENCE.finditer(answer)] + [answer]:
        for start in (m.start() for m in re.finditer(r"\{", candidate)):
            try:
                obj, _ = decoder.raw_decode(candidate, start)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict) and "answer" in obj:
                value = obj["answer"]
                if isinstance(value, str):
                    return value
                if isinstance(value, bool | int | float):
                    return json.dumps(value)
                return None
    return None
