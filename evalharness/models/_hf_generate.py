"""Generation for `HFModel`: greedy (or sampled) answers for a batch, with thinking budgets."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalharness.extract import DEFAULT_REASONING_TAGS
from evalharness.models import _thinking as thinking
from evalharness.models._first_tokens import FirstStep, first_token_ids
from evalharness.models._hf_choice import Item
from evalharness.models._hf_inputs import to_model
from evalharness.models._hf_load import Loaded
from evalharness.models._hf_settings import HFSettings
from evalharness.models._shared import cut_at_stop
from evalharness.models.base import ModelSpec
from evalharness.types import Prediction, Request


class Generating:
    """The generation half of `HFModel` (a mixin: the model class supplies loading and inputs)."""

    spec: ModelSpec
    _loaded: Loaded
    _batch_size: int
    _tokenizer_lock: threading.Lock
    settings: HFSettings
    _eos: set[int]
    _tag_ids: dict[tuple[tuple[str, str], ...], list[tuple[Any, Any]]]
    _word_ids: dict[str, int | None]

    if TYPE_CHECKING:  # defined by the model class

        def _inputs(self, batch: list[Item]) -> dict[str, Any]: ...

    def _generate(
        self, batch: list[Item], processed: dict[str, Any] | None = None
    ) -> list[Prediction]:
        """Greedy (or sampled) answers for one batch; `processed`: its inputs from `_process`."""
        import torch

        start = time.perf_counter()
        loaded = self._loaded
        if processed is None:
            processed = self._inputs(batch)
        inputs = to_model(loaded, processed)
        limits = [self._max_new_tokens(it.request) for it in batch]
        settings = batch[0].request.generation
        sample = settings.temperature > 0
        kwargs: dict[str, Any] = dict(
            max_new_tokens=max(limits),
            do_sample=sample,
            num_beams=1,
            pad_token_id=loaded.tokenizer.pad_token_id,
        )
        if self.settings.cache_implementation:
            kwargs["cache_implementation"] = self.settings.cache_implementation
        opened, tags = self._traces(processed, settings.reasoning_tags or DEFAULT_REASONING_TAGS)
        if settings.thinking_tokens is not None:
            budget = self._budget(inputs, settings.thinking_tokens, max(limits), opened, tags)
            kwargs.update(max_new_tokens=budget.max_new_tokens, logits_processor=budget.as_list())
            limits = [budget.max_new_tokens] * len(batch)
        words = [it.request.first_token_words for it in batch]
        first = self._first_step(words)
        if first is not None:  # after the budget's processor: it sees the scores picked from
            from transformers import LogitsProcessorList

            kwargs["logits_processor"] = LogitsProcessorList(
                [*kwargs.get("logits_processor", []), first]
            )
        if sample:
            torch.manual_seed(self.spec.seed)
            kwargs.update(temperature=settings.temperature)
        else:
            # Checkpoints often ship sampling defaults; greedy decoding ignores them.
            kwargs.update(temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            generated = self._call_generate(inputs, kwargs)
        new = generated[:, inputs["input_ids"].shape[1] :].tolist()
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        answers = [
            self._until_eos(tokens[:limit]) for tokens, limit in zip(new, limits, strict=True)
        ]
        with self._tokenizer_lock:
            texts = loaded.tokenizer.batch_decode(answers, skip_special_tokens=True)
        steps = first.rows() if first is not None else None
        per_item = (time.perf_counter() - start) / len(batch)
        out = []
        rows = zip(batch, answers, texts, prompt_tokens, opened, words, strict=True)
        for i, (it, tokens, text, n_in, opens, asked) in enumerate(rows):
            out.append(
                Prediction(
                    text=cut_at_stop(text, it.request.generation.stop).strip(),
                    latency_s=per_item,
                    input_tokens=int(n_in),
                    output_tokens=len(tokens),
                    reasoning_tokens=thinking.trace_length(tokens, tags, opens),
                    first_tokens=(
                        first.answer(steps[i] if steps else None, asked)
                        if first is not None and asked
                        else None
                    ),
                )
            )
        return out

    def _first_step(self, words: Sequence[Sequence[str]]) -> FirstStep | None:
        """The processor that keeps the first step's probabilities of the batch's asked words'
        first tokens (ids looked up once per model); None when no request asks."""
        asked = sorted({w for ws in words for w in ws})
        if not asked:
            return None
        with self._tokenizer_lock:
            missing = [w for w in asked if w not in self._word_ids]
            self._word_ids.update(first_token_ids(self._loaded.tokenizer, missing))
        return FirstStep({w: self._word_ids[w] for w in asked})

    def _traces(
        self, inputs: dict[str, Any], pairs: Sequence[tuple[str, str]]
    ) -> tuple[list[int], list[tuple[Any, Any]]]:
        """Per row, the reasoning tag pair its prompt opens (-1: none), and the pairs as token ids
        (spelt once per model). `inputs` is the host copy: no wait on the device."""
        tokenizer = self._loaded.tokenizer
        key = tuple(pairs)
        with self._tokenizer_lock:
            if key not in self._tag_ids:
                self._tag_ids[key] = thinking.tag_ids(tokenizer, key)
            prompts = inputs["input_ids"].tolist()
            opened = [thinking.opened_by_prompt(tokenizer, p, key) for p in prompts]
        return opened, self._tag_ids[key]

    def _budget(
        self,
        inputs: dict[str, Any],
        think: int,
        answer: int,
        opened: list[int],
        tags: list[tuple[Any, Any]],
    ) -> thinking.ThinkingBudget:
        """The logits processor that holds a batch to its thinking and answer budgets."""
        tokenizer = self._loaded.tokenizer
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id in self._eos else min(self._eos)
        prompt = inputs["input_ids"].shape[1]
        return thinking.ThinkingBudget(prompt, think, answer, tags, eos, opened)

    def _call_generate(self, inputs: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        # A seam for tests: they make it raise out-of-memory to check the back-off.
        return self._loaded.model.generate(**inputs, **kwargs)

    def _max_new_tokens(self, request: Request) -> int:
        override = self.settings.max_new_tokens
        return override if override is not None else request.generation.max_new_tokens

    def _until_eos(self, tokens: list[int]) -> list[int]:
        for i, t in enumerate(tokens):
            if t in self._eos:
                return tokens[:i]
        return tokens
