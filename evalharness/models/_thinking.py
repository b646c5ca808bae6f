"""A thinking budget for `generate`: a reasoning trace gets at most `thinking` tokens, and the
answer after it `answer` tokens of its own.

A logits processor follows each row of a batch as it decodes: once the row has opened a trace
(an opening tag, or a prompt that ends in one, as chat templates of reasoning models do) and
spent the budget without closing it, the closing tag is forced, token by token; once the trace
is closed (or when the row answers without one), the answer may run for `answer` tokens before
the end of text is forced. One generate call does it all, so batching and caching are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalharness.extract import TagPair

Ids = tuple[int, ...]


_NEVER = (-1,)
"""The ids of a tag a tokenizer spells with no token: no generated token matches them."""


def tag_ids(tokenizer: Any, tags: Sequence[TagPair]) -> list[tuple[Ids, Ids]]:
    """Each tag pair as token ids (without special tokens around them), in the same order."""
    out = []
    for opening, closing in tags:
        o = tuple(tokenizer.encode(opening, add_special_tokens=False)) or _NEVER
        c = tuple(tokenizer.encode(closing, add_special_tokens=False)) or _NEVER
        out.append((o, c))
    return out


def opened_by_prompt(tokenizer: Any, prompt_ids: Sequence[int], tags: Sequence[TagPair]) -> int:
    """The index of the tag pair whose opening tag ends the prompt (a chat template that opens
    the trace for the model), or -1."""
    tail = tokenizer.decode(list(prompt_ids[-8:]), skip_special_tokens=False).rstrip()
    for i, (opening, _) in enumerate(tags):
        if tail.endswith(opening):
            return i
    return -1


def _ends_with(tokens: Sequence[int], seq: Ids) -> bool:
    return len(tokens) >= len(seq) and tuple(tokens[-len(seq) :]) == seq


def trace_length(tokens: Sequence[int], ids: Sequence[tuple[Ids, Ids]], opened: int) -> int | None:
    """Tokens of the reasoning trace at the start of `tokens` (up to its closing tag, or all of
    them when it never closes); None when the reply opens no trace."""
    start = -1
    pair = opened
    if pair < 0:
        for i, (o, _) in enumerate(ids):
            for at in range(min(len(tokens), 4)):  # an opening tag after a space or two
                if tuple(tokens[at : at + len(o)]) == o:
                    start, pair = at, i
                    break
            if pair >= 0:
                break
        if pair < 0:
            return None
    close = ids[pair][1]
    for at in range(max(start, 0), len(tokens) - len(close) + 1):
        if tuple(tokens[at : at + len(close)]) == close:
            return at
    return len(tokens)


@dataclass
class _Row:
    pair: int = -1
    phase: str = "before"  # before, thinking, closing, answer
    forced: int = 0
    answer_from: int = 0
    tokens: list[int] = field(default_factory=list)


class ThinkingBudget:
    """A `transformers` logits processor that holds each row to the two budgets."""

    def __init__(
        self,
        prompt_length: int,
        thinking: int,
        answer: int,
        ids: Sequence[tuple[Ids, Ids]],
        eos_id: int,
        opened: Sequence[int],
    ) -> None:
        self.prompt_length, self.thinking, self.answer = prompt_length, thinking, answer
        self.ids, self.eos_id = list(ids), eos_id
        self.rows = [_Row(pair=p, phase="thinking" if p >= 0 else "before") for p in opened]

    @property
    def max_new_tokens(self) -> int:
        """What generate needs for both budgets and the longest forced closing tag."""
        return self.thinking + max((len(c) for _, c in self.ids), default=0) + self.answer

    def as_list(self) -> Any:
        """This processor as the `logits_processor` argument of `generate`."""
        from transformers import LogitsProcessorList

        return LogitsProcessorList([self])

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        steps = input_ids.shape[1] - self.prompt_length
        last = input_ids[:, -1].tolist() if steps > 0 else [None] * len(self.rows)
        for r, (row, token) in enumerate(zip(self.rows, last, strict=True)):
            if token is not None:
                row.tokens.append(int(token))
            force = self._next(row, steps)
            if force is not None:
                scores[r, :] = float("-inf")
                scores[r, force] = 0.0
        return scores

    def _next(self, row: _Row, steps: int) -> int | None:
        """The token to force on this row next, or None to let it choose."""
        if row.phase == "before":
            for i, (opening, _) in enumerate(self.ids):
                if _ends_with(row.tokens, opening):
                    row.pair, row.phase = i, "thinking"
                    break
            else:
                return self.eos_id if steps >= self.answer else None
        close = self.ids[row.pair][1]
        if row.phase == "thinking":
            if _ends_with(row.tokens, close):
                row.phase, row.answer_from = "answer", steps
            elif steps >= self.thinking:
                row.phase = "closing"
        if row.phase == "closing":
            if close == _NEVER:  # a closing tag this tokenizer cannot spell: stop instead
                return self.eos_id
            if row.forced < len(close):
                row.forced += 1
                return close[row.forced - 1]
            row.phase, row.answer_from = "answer", steps
        if row.phase == "answer" and steps - row.answer_from >= self.answer:
            return self.eos_id
        return None
