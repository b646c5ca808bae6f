"""Captioning models (BLIP, BLIP-2 without a question): they describe the image, whatever is asked.

A captioner takes no question, so it ignores the request text and returns a caption, optionally
continuing a fixed prefix (`args.prompt`, e.g. "a photo of"; the prefix is not part of the answer,
as in BLIP's own evaluation). On captioning suites this is the task; on question suites the
caption is recorded and scored like any other answer. Decoding is greedy.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from evalharness.models._shared import (
    checkpoint_identity,
    cut_at_stop,
    load_checkpoint,
    parameter_count,
    run_per_budget,
    tiny_spec,
    to_device,
    unsupported,
)
from evalharness.models.base import ModelInfo, ModelSpec
from evalharness.models.settings import parse, takes
from evalharness.types import Capability, Prediction, Request


@dataclass(frozen=True)
class CaptionerSettings:
    """What `model=captioner` takes in `model.args`."""

    prompt: str = ""
    """A fixed caption prefix, e.g. "a photo of" (not part of the answer)."""


class CaptionerModel:
    """Image captioner (BLIP, BLIP-2): ignores the question and describes the image."""

    description = "Image captioner (BLIP, BLIP-2): ignores the question and describes the image."
    capabilities: frozenset[Capability] = frozenset({"generate"})
    reference = False
    settings_type: ClassVar[type[CaptionerSettings]] = CaptionerSettings

    def __init__(self, spec: ModelSpec, *, identity_path: str | None = None) -> None:
        self.settings = parse(CaptionerSettings, spec)
        self.spec = spec
        self.prompt = self.settings.prompt
        self.ckpt = load_checkpoint(spec, "AutoModelForImageTextToText")
        self._identity_path = identity_path or spec.path
        self._stop_ids = self._end_ids()
        config = self.ckpt.model.config
        text = getattr(config, "text_config", config)
        self._positions: int | None = getattr(text, "max_position_embeddings", None)
        self._queries = int(getattr(config, "num_query_tokens", 0) or 0)
        self._identity: dict[str, Any] | None = None

    def _end_ids(self) -> set[int]:
        """Token ids that end a caption: BLIP stops at [SEP], BLIP-2 at its LM's end token."""
        config = self.ckpt.model.config
        text = getattr(config, "text_config", config)
        ids: set[int] = set()
        candidates = [
            getattr(text, "sep_token_id", None),
            getattr(text, "eos_token_id", None),
            getattr(self.ckpt.model.generation_config, "eos_token_id", None),
        ]
        for value in candidates:
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, list):
                ids.update(v for v in value if isinstance(v, int))
        return ids

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            path = self._identity_path
            self._identity = checkpoint_identity(self.ckpt, path)
            self._identity["prompt"] = self.prompt
        return dict(self._identity)

    def info(self) -> ModelInfo:
        return ModelInfo("captioner", parameter_count(self.ckpt.model))

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out: list[Prediction | None] = [None] * len(requests)
        todo: list[int] = []
        for i, r in enumerate(requests):
            if r.mode != "generate":
                out[i] = unsupported(r, "captioners only generate text")
            elif not r.images:
                out[i] = Prediction(error="ValueError: a captioner needs an image")
            elif len(r.images) > 1:
                out[i] = unsupported(
                    r, f"a captioner sees one image; this item has {len(r.images)}"
                )
            else:
                todo.append(i)
        for i, p in run_per_budget(requests, todo, self.spec.batch_size, self._caption).items():
            out[i] = p
        return [p if p is not None else Prediction(error="internal: no answer") for p in out]

    def _caption(self, requests: Sequence[Request]) -> list[Prediction]:
        import torch

        start = time.perf_counter()
        ckpt = self.ckpt
        # a captioner sees one image (items with several are declined in `predict`)
        images = [r.images[0].convert("RGB") for r in requests]
        kwargs: dict[str, Any] = {"images": images, "return_tensors": "pt"}
        if self.prompt:
            # the same prefix for every row: no padding, so batching cannot change a caption
            kwargs["text"] = [self.prompt] * len(images)
        inputs = to_device(ckpt.processor(**kwargs), ckpt.device, ckpt.dtype)
        prompt_len = int(inputs["input_ids"].shape[1]) if "input_ids" in inputs else None
        with torch.inference_mode():
            result = ckpt.model.generate(
                **inputs,
                max_new_tokens=self._budget(requests[0].generation.max_new_tokens, prompt_len),
                do_sample=False,
                num_beams=1,
                return_dict_in_generate=True,
                output_scores=True,
            )
        steps = len(result.scores)
        tails = result.sequences[:, result.sequences.shape[1] - steps :].tolist()
        each = (time.perf_counter() - start) / len(requests)
        preds = []
        for r, tail in zip(requests, tails, strict=True):
            n = self._length(tail)
            text = ckpt.processor.decode(tail[:n], skip_special_tokens=True).strip()
            preds.append(
                Prediction(
                    text=cut_at_stop(text, r.generation.stop),
                    latency_s=each,
                    input_tokens=prompt_len,
                    output_tokens=n,
                )
            )
        return preds

    def _budget(self, wanted: int, prompt_len: int | None) -> int:
        """New tokens that fit the text model's positions: BLIP's decoder has 512, and asking for
        more fails with an index error instead of a shorter caption."""
        if not self._positions:
            return wanted
        used = prompt_len if prompt_len is not None else 1 + self._queries
        return max(1, min(wanted, self._positions - used))

    def _length(self, tail: list[int]) -> int:
        """Generated tokens up to and including the first end token (the rest is padding)."""
        for n, token in enumerate(tail, start=1):
            if token in self._stop_ids:
                return n
        return len(tail)


@takes(CaptionerSettings)
def tiny_blip(spec: ModelSpec) -> CaptionerModel:
    """Tiny random-weight BLIP captioner, built offline (tests and smoke runs)."""
    return CaptionerModel(tiny_spec("blip", spec), identity_path="tiny:blip")
