"""Generative VLMs from Hugging Face transformers (`model=hf`), and the tiny offline checkpoints.

`HFModel` loads any image-text-to-text checkpoint with `AutoModelForImageTextToText` and
`AutoProcessor`, formats each question with the processor's chat template (images as real image
inputs), and answers in two modes:

- generate: greedy decoding in left-padded batches sorted by prompt length; the answer of a
  request does not depend on the batch it lands in.
- choice: the log-probability of each option's tokens after the prompt. `args.choice_score`
  picks the score: `mean` (per-token, the default: it does not favour short options) or `sum`.

A temperature above 0 samples instead (seeded with `spec.seed`); sampled answers do depend on
the batch.

`prepare` does the input work of a call (templates and, with `process_ahead`, image processing
and tokenizing) and returns the call that generates; the runner prepares the next batch on a
worker thread while this one runs on the device. `predict` is the two in a row.

On CUDA out-of-memory a batch is halved and retried (and later batches stay at the smaller size);
at batch size 1 the request gets an error. Any other failure of a batch (an image the processor
rejects, say) is retried request by request, so only the bad request gets an error.

Settings (`model.args`): `HFSettings` (in `_hf_settings`), parsed once when the model is built.
Generation lives in `_hf_generate`, choice scoring in `_hf_choice`; this module batches and
retries.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from evalharness.models._hf_choice import ChoiceScoring, Item
from evalharness.models._hf_generate import Generating
from evalharness.models._hf_inputs import (
    ONE_IMAGE,
    limit_images,
    process,
    render,
    with_positions,
)
from evalharness.models._hf_load import load
from evalharness.models._hf_settings import HFSettings
from evalharness.models._shared import cut_at_stop
from evalharness.models.base import ModelInfo, ModelLoadError, ModelSpec
from evalharness.models.settings import parse, takes
from evalharness.types import Capability, Prediction, Request

__all__ = ["HFModel", "ModelLoadError", "TinyHFModel"]

# Registered names: `hf` → HFModel, `tiny_<family>` → the functions at the end of this module.


class HFModel(Generating, ChoiceScoring):
    """A generative VLM loaded with transformers (hub id or local folder)."""

    description = "Hugging Face image-text-to-text model (LLaVA, Qwen2-VL, Idefics3, PaliGemma, …)"
    capabilities: frozenset[Capability] = frozenset({"generate", "choice"})
    reference = False
    settings_type: ClassVar[type[HFSettings]] = HFSettings

    def __init__(self, spec: ModelSpec, *, identity_path: str | None = None) -> None:
        self.spec = spec
        self.settings = parse(HFSettings, spec)
        s = self.settings
        self._loaded = load(spec.name, spec.path, spec.revision, spec.dtype, spec.device, s)
        self._identity_path = identity_path or spec.path
        self._batch_size = max(1, spec.batch_size)
        model = self._loaded.model
        self._params = sum(p.numel() for p in model.parameters())
        self._keep_arg = "logits_to_keep" in inspect.signature(model.forward).parameters
        eos = model.generation_config.eos_token_id
        eos_ids = eos if isinstance(eos, list) else [eos]
        self._eos = {i for i in [*eos_ids, self._loaded.tokenizer.eos_token_id] if i is not None}
        # `prepare` (worker thread) and the generating call (runner's thread) share the
        # tokenizer, whose Rust core refuses a settings change while another call uses it.
        self._tokenizer_lock = threading.Lock()
        self._tag_ids: dict[tuple[tuple[str, str], ...], list[tuple[Any, Any]]] = {}
        self._word_ids: dict[str, int | None] = {}  # first token of each word asked about
        self._process_ahead = s.runs_ahead(self._loaded.device.type)

    @property
    def batch_size(self) -> int:
        """The current batch size: `spec.batch_size`, lowered after an out-of-memory error."""
        return self._batch_size

    @property
    def process_ahead(self) -> bool:
        """Whether `prepare` runs the processor (`args.process_ahead`; auto: not on a CPU)."""
        return self._process_ahead

    def identity(self) -> dict[str, Any]:
        loaded, s = self._loaded, self.settings
        # settings that change answers only when set; unset, they keep the key they always had
        optional = {
            "max_image_size": s.max_image_size,
            "system_prompt": s.system_prompt,
            "max_new_tokens": s.max_new_tokens,
            "allow_missing_weights": s.allow_missing_weights or None,
            "cache_implementation": s.cache_implementation,
            # compiled code may round differently
            "compile": s.compile if s.compile != "none" else None,
        }
        # The template shapes every prompt but lives beside the weights (or in args): hash it.
        template = hashlib.sha256(loaded.template.encode()).hexdigest()[:16]
        return {
            "path": self._identity_path,
            "revision": loaded.revision,
            "dtype": str(loaded.dtype).removeprefix("torch."),
            "attn_implementation": getattr(loaded.model.config, "_attn_implementation", None),
            "trust_remote_code": s.trust_remote_code,
            "family": loaded.model_type,
            "choice_score": s.choice_score,
            "chat_template": template,
            **{k: v for k, v in optional.items() if v is not None},
        }

    def info(self) -> ModelInfo:
        return ModelInfo("generative", self._params)

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return self.prepare(requests)()

    def prepare(self, requests: Sequence[Request]) -> Callable[[], list[Prediction]]:
        """Render and batch `requests` now, and with `process_ahead` run the processor; the
        returned call generates and scores."""
        out: list[Prediction | None] = [None] * len(requests)
        ready: dict[str, list[Item]] = {"generate": [], "choice": []}
        for i, r in enumerate(requests):
            if r.mode not in ready:
                out[i] = Prediction(
                    unsupported=f"mode {r.mode!r} is not supported by {self.spec.name}"
                )
                continue
            if len(r.images) > 1 and self._loaded.model_type in ONE_IMAGE:
                out[i] = Prediction(
                    unsupported=f"{self._loaded.model_type} takes one image per prompt; "
                    f"this item has {len(r.images)}"
                )
                continue
            try:
                ready[r.mode].append(self._prepare(i, r))
            except Exception as exc:  # a broken template or image hits one request only
                out[i] = Prediction.from_exception(exc)
        batches = [
            (batch, self._process(batch) if self._process_ahead else None)
            for batch in self._batches(ready["generate"])
        ]
        choices = [
            (item, self._process_choice(item) if self._process_ahead else None)
            for item in ready["choice"]
        ]

        def run() -> list[Prediction | None]:
            for batch, inputs in batches:
                for item, pred in self._run_batch(batch, inputs):
                    out[item.index] = pred
            for item, ahead in choices:
                out[item.index] = self._choose(item, ahead)
            assert all(p is not None for p in out)
            return out

        return lambda: [p for p in run() if p is not None]

    # -- batching --------------------------------------------------------------------------------

    def _prepare(self, index: int, request: Request) -> Item:
        prompt = render(self._loaded, request, self.settings.system_prompt)
        images = limit_images(request.images, self.settings.max_image_size)
        # Only the batch order uses the length, and answers do not depend on the batch (left
        # padding): a rough count stands in for the tokens, saving a tokenizer pass — the
        # prompt's characters plus one per 28×28 pixels of image (Qwen2-VL's patch merge).
        pixels = sum(img.width * img.height for img in images if hasattr(img, "width"))
        return Item(index, request, prompt, images, len(prompt) + pixels // 784)

    def _batches(self, items: list[Item]) -> list[list[Item]]:
        """Length-sorted batches of the current batch size.

        A batch never mixes image counts (processors want the same number of images per row) or
        temperatures (one generate call, one setting).
        """
        order = sorted(items, key=lambda it: (_group(it), -it.length, it.index))
        batches = []
        while order:
            group = _group(order[0])
            size = 1
            while size < min(self._batch_size, len(order)) and _group(order[size]) == group:
                size += 1
            batches.append(order[:size])
            order = order[size:]
        return batches

    def _run_processor(self, prompts: list[str], images: list[list[Any]]) -> dict[str, Any]:
        """`process` under the tokenizer lock: the worker thread and the generating call may
        both use the processor."""
        with self._tokenizer_lock:
            return process(self._loaded, prompts, images)

    def _process(self, batch: list[Item]) -> dict[str, Any] | None:
        """`_inputs` ahead; None if the processor fails: the batch then goes through
        `_generate`'s own processing, which isolates the bad request."""
        try:
            return self._inputs(batch)
        except Exception:
            return None

    def _inputs(self, batch: list[Item]) -> dict[str, Any]:
        """A generation batch's processed inputs, with its position ids where the model
        computes them on the host (`with_positions`)."""
        processed = self._run_processor([it.prompt for it in batch], [it.images for it in batch])
        return with_positions(self._loaded, processed)

    def _run_batch(
        self, batch: list[Item], inputs: dict[str, Any] | None
    ) -> list[tuple[Item, Prediction]]:
        """Generate for one prepared batch, with out-of-memory back-off.

        A batch prepared before an out-of-memory error lowered the batch size is split again
        (and processed anew) rather than run at the size that failed.
        """
        if len(batch) > self._batch_size:
            return [pair for part in self._batches(batch) for pair in self._run_batch(part, None)]

        def run(part: list[Item]) -> list[Prediction]:
            return self._generate(part, inputs if part is batch else None)

        return list(zip(batch, self._with_backoff(batch, run), strict=True))

    def _with_backoff(
        self, batch: list[Any], run: Callable[[list[Any]], list[Any]], isolate: bool = True
    ) -> list[Any]:
        """Run a batch; halve it on out-of-memory.

        With `isolate`, a batch that fails for another reason is rerun entry by entry, so only
        the bad entries get an error; without it the error is raised.
        """
        import torch

        try:
            return run(batch)
        except torch.cuda.OutOfMemoryError as exc:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if len(batch) == 1:
                return [_oom_error(exc)]
            self._batch_size = min(self._batch_size, (len(batch) + 1) // 2)
            out: list[Any] = []
            while len(out) < len(batch):
                # the size is read again each time: a retry below may have lowered it further
                part = batch[len(out) : len(out) + self._batch_size]
                out += self._with_backoff(part, run, isolate)
            return out
        except Exception as exc:
            if not isolate:
                raise
            if len(batch) == 1:
                return [Prediction.from_exception(exc)]
            return [p for item in batch for p in self._with_backoff([item], run)]


def _group(item: Item) -> tuple[int, float]:
    return len(item.images), item.request.generation.temperature


def _oom_error(exc: BaseException) -> Prediction:
    return Prediction(error=f"OutOfMemoryError: out of GPU memory at batch size 1: {exc}")


_cut_at_stop = cut_at_stop  # the name this module has long offered


class TinyHFModel(HFModel):
    """A tiny random-weight checkpoint of one family, built offline on first use.

    `spec.path` is ignored. The identity names the family rather than the cache folder, so results
    do not depend on where the cache lives (the weights hash still pins the exact weights).
    """

    def __init__(self, spec: ModelSpec, family: str) -> None:
        from evalharness.models import tiny

        folder = tiny.build(family)
        super().__init__(replace(spec, path=str(folder)), identity_path=f"tiny:{family}")


# One registered name per family (`tiny_llava`, …): tests and smoke runs without downloads.


@takes(HFSettings)
def tiny_llava(spec: ModelSpec) -> HFModel:
    """Tiny random-weight LLaVA (CLIP vision + Llama), built offline."""
    return TinyHFModel(spec, "llava")


@takes(HFSettings)
def tiny_qwen2_vl(spec: ModelSpec) -> HFModel:
    """Tiny random-weight Qwen2-VL, built offline."""
    return TinyHFModel(spec, "qwen2_vl")


@takes(HFSettings)
def tiny_qwen2_5_vl(spec: ModelSpec) -> HFModel:
    """Tiny random-weight Qwen2.5-VL, built offline."""
    return TinyHFModel(spec, "qwen2_5_vl")


@takes(HFSettings)
def tiny_idefics3(spec: ModelSpec) -> HFModel:
    """Tiny random-weight Idefics3 (the SmolVLM architecture), built offline."""
    return TinyHFModel(spec, "idefics3")


@takes(HFSettings)
def tiny_paligemma(spec: ModelSpec) -> HFModel:
    """Tiny random-weight PaliGemma (SigLIP + Gemma), built offline."""
    return TinyHFModel(spec, "paligemma")


@takes(HFSettings)
def tiny_blip2(spec: ModelSpec) -> HFModel:
    """Tiny random-weight BLIP-2 (Q-Former + OPT), built offline."""
    return TinyHFModel(spec, "blip2")


@takes(HFSettings)
def tiny_idefics(spec: ModelSpec) -> HFModel:
    """Tiny random-weight IDEFICS (open Flamingo: gated cross-attention), built offline."""
    return TinyHFModel(spec, "idefics")


@takes(HFSettings)
def tiny_internvl(spec: ModelSpec) -> HFModel:
    """Tiny random-weight InternVL (InternViT + Qwen2), built offline."""
    return TinyHFModel(spec, "internvl")


@takes(HFSettings)
def tiny_chameleon(spec: ModelSpec) -> HFModel:
    """Tiny random-weight Chameleon (images as VQ tokens), built offline."""
    return TinyHFModel(spec, "chameleon")


@takes(HFSettings)
def tiny_idefics2(spec: ModelSpec) -> HFModel:
    """Tiny random-weight Idefics2 (perceiver resampler + Mistral), built offline."""
    return TinyHFModel(spec, "idefics2")


@takes(HFSettings)
def tiny_smolvlm(spec: ModelSpec) -> HFModel:
    """Tiny random-weight SmolVLM (model_type smolvlm, as SmolVLM2), built offline."""
    return TinyHFModel(spec, "smolvlm")
