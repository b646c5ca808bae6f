"""Reasoning traces: `<think>…</think>` and the like, split off a reply before its answer is read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

TagPair = tuple[str, str]

DEFAULT_REASONING_TAGS: tuple[TagPair, ...] = (
    ("<think>", "</think>"),  # DeepSeek-R1 and its followers, QwQ, Qwen3, Skywork-R1V, GLM-4.1V
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("◁think▷", "◁/think▷"),  # Kimi-VL-Thinking
)
"""The tag pairs read as a reasoning trace unless a run names others (`reasoning_tags`)."""


@dataclass(frozen=True)
class Reasoning:
    """A reply split into its reasoning trace and the answer that follows it."""

    trace: str | None
    """The trace's text (several traces joined by a blank line); None when the reply has none."""
    answer: str
    """What follows the trace: the text the answer is read from ("" when `truncated`)."""
    truncated: bool
    """The reply ended inside a trace (an opening tag never closed, as when generation stops at
    `max_new_tokens`): there is no answer to read."""


@lru_cache(maxsize=64)
def _patterns(tags: tuple[TagPair, ...]) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    return tuple(
        (re.compile(re.escape(o), re.IGNORECASE), re.compile(re.escape(c), re.IGNORECASE))
        for o, c in tags
        if o and c
    )


def _one_trace(
    text: str, tags: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]
) -> tuple[str, str, bool] | None:
    """(trace, rest, cut off) for the trace that opens `text`, or None if none does."""
    head = len(text) - len(text.lstrip())
    for opening, closing in tags:
        if (o := opening.match(text, head)) is not None:
            c = closing.search(text, o.end())
            if c is None:
                return text[o.end() :], "", True
            return text[o.end() : c.start()], text[c.end() :], False
    # A chat template that opens the trace in the prompt leaves only its closing tag in the reply.
    for opening, closing in tags:
        c = closing.search(text)
        if c is not None and opening.search(text, 0, c.start()) is None:
            return text[: c.start()], text[c.end() :], False
    return None


def split_reasoning(text: str, tags: Sequence[TagPair] = DEFAULT_REASONING_TAGS) -> Reasoning:
    """Split the reasoning traces that open `text` (tags matched case-insensitively) from the
    answer after them.

    "<think>2 red, 3 blue</think> 5" → trace "2 red, 3 blue", answer " 5". A reply that holds only
    a closing tag ("…so 5.</think> 5", from a chat template that opened the trace in the prompt)
    has all before it as its trace. An opening tag that is never closed gives a `truncated` split
    with no answer. Traces that follow one another are all split off. Text without any tag is all
    answer.
    """
    patterns = _patterns(tuple((o, c) for o, c in tags))
    traces: list[str] = []
    rest = text
    while (found := _one_trace(rest, patterns)) is not None:
        trace, rest, cut = found
        traces.append(trace.strip())
        if cut:
            return Reasoning("\n\n".join(traces), "", True)
    return Reasoning("\n\n".join(traces) if traces else None, rest, False)


def answer_part(text: str) -> str | None:
    """What follows the reasoning traces (default tags), or None when the reply ends inside one."""
    split = split_reasoning(text)
    return None if split.truncated else split.answer


def check_tags(tags: object) -> tuple[TagPair, ...]:
    """`tags` as tag pairs, from a list of two-item lists (as a config gives them).

    Raises ValueError naming what is wrong: not a list of pairs, or an empty tag.
    """
    if not isinstance(tags, list | tuple):
        raise ValueError(f"reasoning_tags takes a list of [open, close] pairs, got {tags!r}")
    pairs = []
    for pair in tags:
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(t, str) and t.strip() for t in pair)
        ):
            raise ValueError(
                f"reasoning_tags: each item is an [open, close] pair of non-empty strings, "
                f"got {pair!r} (e.g. \"reasoning_tags=[['<think>','</think>']]\")"
            )
        pairs.append((str(pair[0]), str(pair[1])))
    return tuple(pairs)
