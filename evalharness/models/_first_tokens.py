"""First-token probabilities for `HFModel`: the reply's first step, read as it is generated.

A benchmark may ask, beside the reply, how likely the model was to begin it with each of some
words (VSR's official reading: "True" and "False"). A word's first token is the first of the ids
the tokenizer gives the word alone (`encode(word, add_special_tokens=False)`, as the official
evaluations look it up); its probability is the softmax over the whole vocabulary of the scores
generation picks the first token from. `FirstStep` keeps those scores' log-probabilities for the
asked tokens while `generate` runs, in the same call: no second pass over the prompt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from evalharness.types import FirstTokens


def first_token_ids(tokenizer: Any, words: Sequence[str]) -> dict[str, int | None]:
    """Each word's first token id as the tokenizer encodes the word alone; None for a word it
    encodes to nothing."""
    out: dict[str, int | None] = {}
    for word in words:
        ids = tokenizer.encode(word, add_special_tokens=False)
        out[word] = int(ids[0]) if ids else None
    return out


class FirstStep:
    """A logits processor that changes nothing: at the first step it is called, it keeps the
    log-probabilities of `ids` in every row (log-softmax in float32 over the whole vocabulary).

    Given to `generate` after its own processors, it sees the scores the first token is picked
    from, with the checkpoint's processors applied (before a sampling temperature)."""

    def __init__(self, ids: Mapping[str, int | None]) -> None:
        self.ids = dict(ids)
        self.columns = sorted({i for i in self.ids.values() if i is not None})
        self.logprobs: Any = None
        """(batch, len(columns)) on the model's device, once the first step ran."""

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.logprobs is None and self.columns:
            import torch

            index = torch.tensor(self.columns, device=scores.device)
            self.logprobs = torch.log_softmax(scores.float(), dim=-1).index_select(-1, index)
        return scores

    def rows(self) -> list[list[float]] | None:
        """The kept log-probabilities per row (None before a first step)."""
        return None if self.logprobs is None else self.logprobs.tolist()

    def answer(self, row: Sequence[float] | None, words: Sequence[str]) -> FirstTokens:
        """One row's probabilities of `words`. A word without a token, or whose first token is
        another asked word's too (the tokenizer splits both alike), gets None and a note."""
        probs: dict[str, float | None] = {}
        notes = []
        for word in words:
            token = self.ids.get(word)
            twins = [w for w in words if w != word and self.ids.get(w) == token]
            if token is None:
                probs[word] = None
                notes.append(f"the tokenizer encodes {word!r} to no token")
            elif twins:
                probs[word] = None
                notes.append(f"{word!r} begins with the same token as {twins[0]!r}")
            elif row is None:
                probs[word] = None
                notes.append("no token was generated")
            else:
                probs[word] = math.exp(row[self.columns.index(token)])
        return FirstTokens(probs, "; ".join(dict.fromkeys(notes)))


TOP_LOGPROBS = 20
"""How many most likely first tokens an API server is asked for (OpenAI's and vLLM's limit)."""


def from_top_logprobs(
    choice: Mapping[str, Any], words: Sequence[str], why: str = ""
) -> FirstTokens:
    """The words' first-token probabilities from a chat-completions choice's `logprobs`: the
    first step's token and its `top_logprobs`. The server's tokenizer is unknown here, so a
    listed token counts as a word's first token when its text, leading spaces (and the `▁`/`Ġ`
    space marks) removed, is the word; of several such (" True" and "True"), the likelier. A
    word not listed, or a reply without log-probabilities, gives None and a note (`why`, where
    the caller knows why there are none)."""
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    first = content[0] if isinstance(content, list) and content else None
    if not isinstance(first, Mapping):
        return FirstTokens({w: None for w in words}, why or "the server gave no log-probabilities")
    top = first.get("top_logprobs")
    listed = [first, *(top if isinstance(top, list) else [])]
    found: dict[str, float] = {}
    for entry in listed:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("logprob"), int | float):
            continue
        word = str(entry.get("token", "")).lstrip(" \t\n\u2581\u0120")
        found[word] = max(found.get(word, -math.inf), float(entry["logprob"]))
    probs: dict[str, float | None] = {w: math.exp(found[w]) if w in found else None for w in words}
    absent = [w for w in words if probs[w] is None]
    note = ""
    if absent:
        names = " and ".join(repr(w) for w in absent)
        note = f"{names} not among the first tokens the server listed ({len(listed) - 1} likeliest)"
    return FirstTokens(probs, note)
