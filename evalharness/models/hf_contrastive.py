"""Image-text matching models (CLIP, SigLIP/SigLIP 2, FLAVA, …) that answer option items.

A matching model cannot write an answer; it scores how well each option text fits the image. Each
option gets `exp(logit_scale) · cos(image, text) + logit_bias` (the model's own logit, so SigLIP
scores are its sigmoid logits and CLIP's its softmax logits); the highest wins.

Checkpoints load through `AutoModel` + `AutoProcessor`, so any model with `get_image_features` and
`get_text_features` works; loading and batching come from `_shared`, as for the captioners.
Settings (`model.args`): `ContrastiveSettings`.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from evalharness.models._shared import (
    checkpoint_identity,
    distinct,
    load_checkpoint,
    match_scores,
    parameter_count,
    run_or_halve,
    tiny_spec,
    to_device,
    unsupported,
)
from evalharness.models.base import FamilyGroup, ModelInfo, ModelLoadError, ModelSpec
from evalharness.models.settings import WithProcessAhead, parse, takes
from evalharness.types import Capability, Prediction, Request

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ContrastiveSettings(WithProcessAhead):
    """What `model=hf_contrastive` takes in `model.args`."""

    template: str = "{}"
    """Wraps each option text before matching, e.g. "a photo of {}"; CLIP-style models match
    captions best."""


def _features(output: Any) -> torch.Tensor:
    """The pooled, projected embedding from a `get_*_features` result.

    transformers 5 returns an output object whose `pooler_output` holds the projection; FLAVA
    projects every position, and its embedding is the first ([CLS]) one.
    """
    tensor: torch.Tensor = output if hasattr(output, "dim") else output.pooler_output
    if tensor.dim() == 3:
        tensor = tensor[:, 0]
    return tensor


def _call(method: Any, inputs: Mapping[str, Any]) -> torch.Tensor:
    # Processors return keys that some towers do not take (FLAVA's token_type_ids go to BERT,
    # CLIP's would be rejected), so pass only what the method names.
    names = set(inspect.signature(method).parameters)
    return _features(method(**{k: v for k, v in inputs.items() if k in names}))


class ContrastiveModel:
    """Image-text matching (CLIP, SigLIP, FLAVA): scores each option by similarity."""

    description = "Image-text matching (CLIP, SigLIP, FLAVA): scores each option by similarity."
    capabilities: frozenset[Capability] = frozenset({"choice"})
    reference = False
    settings_type: ClassVar[type[ContrastiveSettings]] = ContrastiveSettings

    def __init__(self, spec: ModelSpec, *, identity_path: str | None = None) -> None:
        self.settings = parse(ContrastiveSettings, spec)
        self.spec = spec
        self.template = self.settings.template
        self.ckpt = load_checkpoint(spec, "AutoModel")
        self._identity_path = identity_path or spec.path
        model = self.ckpt.model
        if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
            raise ModelLoadError(
                f"model {spec.name!r}: {type(model).__name__} has no image and text embeddings "
                "to match; generative models and captioners have their own model names."
            )
        model_type = self.ckpt.model_type
        self.family_group: FamilyGroup = "masking" if model_type == "flava" else "contrastive"
        # SigLIP pools the last position and was trained on text padded to full length, so its
        # text must be padded the same way; the others pool a marked token and take any padding.
        text_config = getattr(model.config, "text_config", model.config)
        self.max_text = int(getattr(text_config, "max_position_embeddings", 64))
        self.pad_full = model_type.startswith("siglip")
        self._identity: dict[str, Any] | None = None
        self._process_ahead = self.settings.runs_ahead(self.ckpt.device)
        # `prepare` (worker thread) and the scoring call (runner's thread) share the tokenizer,
        # whose Rust core refuses a settings change while another call uses it.
        self._processor_lock = threading.Lock()

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            path = self._identity_path
            self._identity = checkpoint_identity(self.ckpt, path)
            if self.template != "{}":
                self._identity["template"] = self.template
        return dict(self._identity)

    def info(self) -> ModelInfo:
        return ModelInfo(self.family_group, parameter_count(self.ckpt.model))

    @property
    def process_ahead(self) -> bool:
        """Whether `prepare` runs the processor (`args.process_ahead`; auto: not on a CPU)."""
        return self._process_ahead

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return self.prepare(requests)()

    def prepare(self, requests: Sequence[Request]) -> Callable[[], list[Prediction]]:
        """Split `requests` into batches and, with `process_ahead`, process their images and
        option texts now; the returned call embeds and scores (see `run_split` for failures)."""
        size = max(1, self.spec.batch_size)
        batches = [requests[i : i + size] for i in range(0, len(requests), size)]
        ready = [(b, self._process(b) if self._process_ahead else None) for b in batches]

        def run() -> list[Prediction]:
            out: list[Prediction] = []
            for batch, inputs in ready:
                first = None if inputs is None else functools.partial(self._answer, batch, inputs)
                out += run_or_halve(batch, self._answer, first)
            return out

        return run

    def _todo(self, requests: Sequence[Request]) -> tuple[list[Prediction | None], list[int]]:
        """Answers for the requests this model cannot take, and the indices of the others."""
        out: list[Prediction | None] = [None] * len(requests)
        todo: list[int] = []
        for i, r in enumerate(requests):
            if r.mode != "choice":
                out[i] = unsupported(r, "matching models only score options")
            elif not r.choices:
                out[i] = Prediction(error="ValueError: choice request without options")
            elif not r.images:
                out[i] = Prediction(error="ValueError: matching models need an image")
            else:
                todo.append(i)
        return out, todo

    def _process(self, requests: Sequence[Request]) -> _Processed | None:
        """The processor's output for the batch's distinct images and option texts (CPU); None
        if it fails: the batch then goes the unprepared way, which finds the bad request."""
        _, todo = self._todo(requests)
        images, texts = distinct([requests[i] for i in todo], self.template)
        try:
            return _Processed(self._process_images(images), self._process_texts(texts))
        except Exception:
            return None

    def _answer(
        self, requests: Sequence[Request], inputs: _Processed | None = None
    ) -> list[Prediction]:
        import torch

        start = time.perf_counter()
        out, todo = self._todo(requests)
        if todo:
            with torch.inference_mode():
                scores = self._score([requests[i] for i in todo], inputs)
            each = (time.perf_counter() - start) / len(todo)
            for i, s in zip(todo, scores, strict=True):
                out[i] = Prediction(choice_scores=s, latency_s=each)
        return [p if p is not None else Prediction(error="internal: no answer") for p in out]

    def _score(self, requests: Sequence[Request], inputs: _Processed | None) -> list[list[float]]:
        model = self.ckpt.model
        scale = model.logit_scale.exp().float() if hasattr(model, "logit_scale") else 1.0
        bias = model.logit_bias.float() if hasattr(model, "logit_bias") else 0.0

        # Processed ahead, `inputs` come from the same distinct images and texts, in the same
        # order, that match_scores finds again.
        def images(found: list[Any]) -> torch.Tensor:
            return self._embed("image", inputs.images if inputs else self._process_images(found))

        def texts(found: list[str]) -> torch.Tensor:
            return self._embed("text", inputs.texts if inputs else self._process_texts(found))

        return match_scores(requests, self.template, images, texts, scale, bias)

    def _process_images(self, images: list[Any]) -> Any:
        images = [img.convert("RGB") if img.mode != "RGB" else img for img in images]
        with self._processor_lock:
            return self.ckpt.processor(images=images, return_tensors="pt")

    def _process_texts(self, texts: list[str]) -> Any:
        with self._processor_lock:
            return self.ckpt.processor(
                text=texts,
                padding="max_length" if self.pad_full else True,
                truncation=True,
                max_length=self.max_text,
                return_tensors="pt",
            )

    def _embed(self, tower: str, inputs: Mapping[str, Any]) -> torch.Tensor:
        """Normalised embeddings from the image or text tower."""
        import torch

        ckpt = self.ckpt
        method = ckpt.model.get_image_features if tower == "image" else ckpt.model.get_text_features
        emb = _call(method, to_device(inputs, ckpt.device, ckpt.dtype)).float()
        return torch.nn.functional.normalize(emb, dim=-1)


@dataclass
class _Processed:
    """A batch's processor outputs: its distinct images, its distinct option texts."""

    images: Any
    texts: Any


# One registered name per tiny family. As for the generative tiny models, the identity names the
# family rather than the cache folder, so results do not depend on where the cache lives (the
# weights hash in `revision` still pins the exact weights).


@takes(ContrastiveSettings)
def tiny_clip(spec: ModelSpec) -> ContrastiveModel:
    """Tiny random-weight CLIP, built offline (tests and smoke runs)."""
    return ContrastiveModel(tiny_spec("clip", spec), identity_path="tiny:clip")


@takes(ContrastiveSettings)
def tiny_siglip(spec: ModelSpec) -> ContrastiveModel:
    """Tiny random-weight SigLIP, built offline (tests and smoke runs)."""
    return ContrastiveModel(tiny_spec("siglip", spec), identity_path="tiny:siglip")


@takes(ContrastiveSettings)
def tiny_siglip2(spec: ModelSpec) -> ContrastiveModel:
    """Tiny random-weight SigLIP 2 (aspect-preserving patches), built offline."""
    return ContrastiveModel(tiny_spec("siglip2", spec), identity_path="tiny:siglip2")


@takes(ContrastiveSettings)
def tiny_flava(spec: ModelSpec) -> ContrastiveModel:
    """Tiny random-weight FLAVA, built offline (tests and smoke runs)."""
    return ContrastiveModel(tiny_spec("flava", spec), identity_path="tiny:flava")
