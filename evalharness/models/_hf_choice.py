"""Choice scoring for `HFModel`: the log-probability of each option's tokens after the prompt."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalharness.models._hf_inputs import extend, option_ids, option_logprobs, to_model
from evalharness.models._hf_load import Loaded
from evalharness.models._hf_settings import HFSettings
from evalharness.types import Prediction, Request


@dataclass
class Item:
    """A request ready to run: its index in the call, prompt text and images."""

    index: int
    request: Request
    prompt: str
    images: list[Any]
    length: int


class ChoiceScoring:
    """The choice half of `HFModel` (a mixin: the model class supplies loading and batching)."""

    _loaded: Loaded
    _batch_size: int
    _tokenizer_lock: threading.Lock
    settings: HFSettings
    _keep_arg: bool

    if TYPE_CHECKING:  # defined by the model class

        def _run_processor(self, prompts: list[str], images: list[list[Any]]) -> dict[str, Any]: ...

        def _with_backoff(
            self, batch: list[Any], run: Callable[[list[Any]], list[Any]], isolate: bool = True
        ) -> list[Any]: ...

    def _option_ids(self, item: Item) -> list[list[int]]:
        with self._tokenizer_lock:
            return option_ids(self._loaded, item.prompt, item.request.choices)

    def _process_choice(self, item: Item) -> ChoiceInputs | None:
        """A choice item's option ids and its first rows' processed inputs; None if either
        fails: `_choose` then does the work itself and reports the error."""
        try:
            options = self._option_ids(item)
            n = min(len(options), self._batch_size)
            inputs = self._run_processor([item.prompt] * n, [item.images] * n)
        except Exception:
            return None
        return ChoiceInputs(options, n, inputs)

    def _choose(self, item: Item, ahead: ChoiceInputs | None = None) -> Prediction:
        """Score every option of one request; its options are batched together."""
        start = time.perf_counter()
        try:
            options = self._option_ids(item) if ahead is None else ahead.options
            scored: list[Any] = []
            rows = list(range(len(options)))
            while rows:
                chunk, rows = rows[: self._batch_size], rows[self._batch_size :]
                # the processed-ahead rows, unless out-of-memory has lowered the batch size since
                pre = ahead.inputs if ahead is not None and len(chunk) == ahead.rows else None
                ahead = None

                def run(part: list[int], chunk: list[int] = chunk, pre: Any = pre) -> Any:
                    return self._score_rows(item, options, part, pre if part is chunk else None)

                # The rows share prompt and image: an error other than out-of-memory would hit
                # every row alike, so it fails the request at once.
                scored += self._with_backoff(chunk, run, isolate=False)
        except Exception as exc:
            return Prediction.from_exception(exc)
        failed = [s for s in scored if isinstance(s, Prediction)]
        if failed:
            return failed[0]
        use_mean = self.settings.choice_score == "mean"
        scores = [total / count if use_mean else total for total, count, _ in scored]
        return Prediction(
            choice_scores=scores,
            latency_s=time.perf_counter() - start,
            input_tokens=int(scored[0][2]) + sum(len(o) for o in options),
            output_tokens=0,
        )

    def _score_rows(
        self,
        item: Item,
        options: list[list[int]],
        rows: list[int],
        processed: dict[str, Any] | None = None,
    ) -> list[tuple[float, int, int]]:
        """(summed log-prob, token count, prompt tokens) for the given option rows;
        `processed`: their prompt rows from `_process_choice`."""
        import torch

        loaded = self._loaded
        if processed is None:
            processed = self._run_processor([item.prompt] * len(rows), [item.images] * len(rows))
        inputs = to_model(loaded, processed)
        prompt_tokens = int(inputs["attention_mask"][0].sum())
        inputs, opt = extend(inputs, [options[r] for r in rows], loaded)
        with torch.inference_mode():
            res = self._call_scores(inputs, opt).tolist()
        return [(float(total), int(count), prompt_tokens) for total, count in res]

    def _call_scores(self, inputs: dict[str, Any], opt: Any) -> Any:
        return option_logprobs(self._loaded.model, inputs, opt, self._keep_arg)


@dataclass
class ChoiceInputs:
    """A choice item prepared ahead: its option ids, and the processor's output for its first
    `rows` prompt rows."""

    options: list[list[int]]
    rows: int
    inputs: dict[str, Any]
