"""A thinking budget for the HF route: a trace still open after its budget is closed, the answer
gets its own budget, and the trace's token count is reported. On a scripted stand-in decoder
and on a tiny checkpoint end to end."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch

from evalharness import extract
from evalharness.models import _thinking as thinking
from evalharness.models import hf
from evalharness.models.base import ModelSpec
from evalharness.types import GenerationSettings, Request, Sample

OPEN, CLOSE, EOS, WORD, ANSWER = (1, 2), (3, 4), 0, 7, 9
VOCAB = 12


def decode(script: Sequence[int], budget: thinking.ThinkingBudget, prompt: int = 3) -> list[int]:
    """Greedy decoding of a stand-in model that wants to say `script` (then WORD forever)."""
    ids = torch.full((1, prompt), 5)
    for _ in range(budget.max_new_tokens):
        step = ids.shape[1] - prompt
        scores = torch.zeros((1, VOCAB))
        scores[0, script[step] if step < len(script) else WORD] = 1.0
        chosen = int(budget(ids, scores).argmax())
        ids = torch.cat([ids, torch.tensor([[chosen]])], dim=1)
        if chosen == EOS:
            break
    return ids[0, prompt:].tolist()


def budget(thinking_tokens: int, answer: int, opened: int = -1) -> thinking.ThinkingBudget:
    return thinking.ThinkingBudget(3, thinking_tokens, answer, [(OPEN, CLOSE)], EOS, [opened])


def test_a_trace_still_open_at_its_budget_is_closed_and_the_answer_gets_its_own() -> None:
    out = decode([*OPEN, *[WORD] * 50], budget(6, 4))
    assert out == [*OPEN, *[WORD] * 4, *CLOSE, *[WORD] * 4]  # generate's length limit: done
    assert thinking.trace_length(out, [(OPEN, CLOSE)], -1) == 6


def test_a_trace_closed_in_time_is_left_alone_and_its_answer_capped() -> None:
    out = decode([*OPEN, WORD, *CLOSE, *[ANSWER] * 20], budget(10, 3))
    assert out == [*OPEN, WORD, *CLOSE, ANSWER, ANSWER, ANSWER, EOS]
    assert thinking.trace_length(out, [(OPEN, CLOSE)], -1) == 3


def test_a_trace_opened_by_the_prompt_counts_from_the_first_token() -> None:
    out = decode([WORD] * 50, budget(5, 2, opened=0))
    assert out == [*[WORD] * 5, *CLOSE, WORD, WORD]
    assert thinking.trace_length(out, [(OPEN, CLOSE)], 0) == 5


def test_a_reply_without_a_trace_has_the_answer_budget() -> None:
    out = decode([ANSWER] * 50, budget(10, 3))
    assert out == [ANSWER, ANSWER, ANSWER, EOS]
    assert thinking.trace_length(out, [(OPEN, CLOSE)], -1) is None


def ask(settings: GenerationSettings) -> Request:
    sample = Sample(id="0", images=(), prompt="Count the stars.")
    return Request(sample, (), sample.prompt, "generate", settings)


def test_a_tiny_checkpoint_thinks_within_its_budget_then_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A template that opens the trace (as reasoning models' do) is stood in for by the check
    that finds it: the random-weight model never closes it itself."""
    monkeypatch.setattr(thinking, "opened_by_prompt", lambda *_: 0)
    model = hf.tiny_qwen2_vl(ModelSpec(name="tiny_qwen2_vl"))
    close = model._loaded.tokenizer.encode("</think>", add_special_tokens=False)

    [cut] = model.predict([ask(GenerationSettings(max_new_tokens=8))])
    assert cut.reasoning_tokens == cut.output_tokens == 8  # one budget: thinking all along
    assert extract.split_reasoning("<think>" + (cut.text or "")).truncated

    [done] = model.predict([ask(GenerationSettings(max_new_tokens=3, thinking_tokens=5))])
    assert done.reasoning_tokens == 5
    assert done.output_tokens is not None and done.output_tokens <= 5 + len(close) + 3
    split = extract.split_reasoning("<think>" + (done.text or ""))
    assert not split.truncated and split.trace


def test_without_a_trace_a_tiny_checkpoint_answers_within_the_answer_budget() -> None:
    model = hf.tiny_qwen2_vl(ModelSpec(name="tiny_qwen2_vl"))
    [p] = model.predict([ask(GenerationSettings(max_new_tokens=3, thinking_tokens=20))])
    assert p.output_tokens is not None and p.output_tokens <= 3
    assert p.reasoning_tokens is None


def test_the_run_s_reasoning_tags_are_the_ones_held_to_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(thinking, "opened_by_prompt", lambda *_: 0)
    model = hf.tiny_qwen2_vl(ModelSpec(name="tiny_qwen2_vl"))
    tags = (("<reflect>", "</reflect>"),)
    gen = GenerationSettings(max_new_tokens=2, thinking_tokens=4, reasoning_tags=tags)
    [p] = model.predict([ask(gen)])
    assert p.reasoning_tokens == 4 and "</reflect>" in (p.text or "")
    assert not extract.split_reasoning("<reflect>" + (p.text or ""), tags).truncated


def test_a_closing_tag_a_tokenizer_cannot_spell_ends_the_reply_at_the_budget() -> None:
    never = thinking.tag_ids(_NoTokens(), [("<x>", "</x>")])
    out = decode([WORD] * 50, thinking.ThinkingBudget(3, 4, 2, never, EOS, [0]))
    assert out == [WORD] * 4 + [EOS]


class _NoTokens:
    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return []
