"""Helpers the model routes share: loading a checkpoint for the matching and captioning routes,
batches that halve on failure, option matching, stop strings and logging.

Everything here is public within `evalharness.models`; a route imports it from here, never from a
sibling route's private names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalharness.models._fingerprint import checkpoint_hash
from evalharness.models._hf_load import check_folder, is_local, resolve_device, resolve_dtype
from evalharness.models.base import ModelLoadError, ModelSpec
from evalharness.types import Prediction, Request

if TYPE_CHECKING:
    import torch


@dataclass
class Checkpoint:
    """A loaded model with its processor, where it runs and what it is."""

    model: Any
    processor: Any
    device: str
    dtype: Any
    model_type: str
    revision: str | None
    """The hub revision asked for or resolved (commit hash); for a local folder the hash of its
    files (`_fingerprint.checkpoint_hash`)."""


def load_checkpoint(spec: ModelSpec, auto_class: str) -> Checkpoint:
    """Load `spec.path` with the named transformers Auto class and its `AutoProcessor`."""
    if not spec.path:
        raise ModelLoadError(
            f"model {spec.name!r} needs a checkpoint: set model.path to a hub id or a folder."
        )
    path = spec.path
    local = is_local(path)
    if local:
        folder = Path(path).expanduser()
        check_folder(spec.name, folder, trust_remote_code=False)
        path = str(folder)

    import transformers

    device = resolve_device(spec.device)
    dtype = resolve_dtype(spec.dtype, device)
    hub: dict[str, Any] = {"revision": spec.revision} if spec.revision else {}
    try:
        processor = transformers.AutoProcessor.from_pretrained(path, **hub)  # type: ignore[no-untyped-call]
        model = getattr(transformers, auto_class).from_pretrained(path, dtype=dtype, **hub)
    except Exception as exc:  # hub, tokenizer and weight loaders raise many types
        raise ModelLoadError(f"model {spec.name!r}: cannot load {path}: {exc}") from exc
    model.to(device).eval()
    revision: str | None
    if local:
        revision = "local:" + checkpoint_hash(Path(path))
    else:
        revision = spec.revision or getattr(model.config, "_commit_hash", None)
    model_type = str(getattr(model.config, "model_type", ""))
    return Checkpoint(model, processor, device, model.dtype, model_type, revision)


def checkpoint_identity(ckpt: Checkpoint, path: str | None) -> dict[str, Any]:
    """Path, revision or weights hash, dtype and model type: what makes two runs the same model."""
    return {
        "path": path,
        "revision": ckpt.revision,
        "dtype": str(ckpt.dtype).removeprefix("torch."),
        "family": ckpt.model_type,
    }


def parameter_count(model: Any) -> int:
    """The number of parameters of a torch module."""
    return int(sum(p.numel() for p in model.parameters()))


def to_device(batch: Mapping[str, Any], device: str, dtype: Any) -> dict[str, Any]:
    """Move tensors to the device; only floating ones (pixels) take the model's dtype."""
    out: dict[str, Any] = {}
    for key, value in batch.items():
        if hasattr(value, "to"):
            value = value.to(device)
            if value.is_floating_point():
                value = value.to(dtype)
        out[key] = value
    return out


def run_split(
    requests: Sequence[Request],
    batch_size: int,
    fn: Callable[[Sequence[Request]], list[Prediction]],
) -> list[Prediction]:
    """Answer in batches of `batch_size`; a batch that fails is halved until the culprit is alone.

    This handles GPU out-of-memory (smaller batches fit) and one bad input (its error lands on its
    own prediction, not on the whole batch) with the same rule.
    """
    out: list[Prediction] = []
    for start in range(0, len(requests), max(1, batch_size)):
        out += run_or_halve(requests[start : start + max(1, batch_size)], fn)
    return out


def run_or_halve(
    batch: Sequence[Request],
    fn: Callable[[Sequence[Request]], list[Prediction]],
    first: Callable[[], list[Prediction]] | None = None,
) -> list[Prediction]:
    """`fn(batch)`, or `first()` for the first try (the batch's prepared inputs, say)."""
    try:
        return first() if first is not None else fn(batch)
    except Exception as exc:  # any failure: retry smaller, report at size one
        _free_gpu_memory()
        if len(batch) == 1:
            return [Prediction.from_exception(exc)]
        mid = len(batch) // 2
        return run_or_halve(batch[:mid], fn) + run_or_halve(batch[mid:], fn)


def _free_gpu_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_per_budget(
    requests: Sequence[Request],
    indices: Sequence[int],
    batch_size: int,
    fn: Callable[[Sequence[Request]], list[Prediction]],
) -> dict[int, Prediction]:
    """`run_split` over `requests[i]` for these indices, one pass per token budget, so a short
    budget never truncates a long one; answers by index."""
    out: dict[int, Prediction] = {}
    order = sorted(indices, key=lambda i: requests[i].generation.max_new_tokens)
    for _, group in groupby(order, key=lambda i: requests[i].generation.max_new_tokens):
        idx = list(group)
        out.update(zip(idx, run_split([requests[i] for i in idx], batch_size, fn), strict=True))
    return out


def distinct(requests: Sequence[Request], template: str) -> tuple[list[Any], list[str]]:
    """The batch's distinct images (by identity) and option texts, in first-seen order."""
    seen: dict[int, Any] = {}
    for r in requests:
        for img in r.images:
            seen.setdefault(id(img), img)
    texts = list(dict.fromkeys(template.format(c) for r in requests for c in r.choices))
    return list(seen.values()), texts


def match_scores(
    requests: Sequence[Request],
    template: str,
    embed_images: Callable[[list[Any]], torch.Tensor],
    embed_texts: Callable[[list[str]], torch.Tensor],
    scale: Any,
    bias: Any,
) -> list[list[float]]:
    """Each request's option logits, `scale * cos(image, option) + bias`, from normalised
    embeddings: all distinct images of the batch in one call, all distinct option texts in
    another. An item with several images stands for their mean direction (rare here)."""
    import torch

    images, texts = distinct(requests, template)
    image_slot = {id(img): i for i, img in enumerate(images)}
    text_slot = {t: j for j, t in enumerate(texts)}
    image_emb, text_emb = embed_images(images), embed_texts(texts)
    rows = []
    for r in requests:
        emb = image_emb[[image_slot[id(img)] for img in r.images]].mean(dim=0)
        emb = torch.nn.functional.normalize(emb, dim=-1)
        opts = text_emb[[text_slot[template.format(c)] for c in r.choices]]
        logits = scale * (opts @ emb) + bias
        rows.append([float(x) for x in logits.reshape(-1).tolist()])
    return rows


def unsupported(request: Request, reason: str) -> Prediction:
    return Prediction(unsupported=f"{reason} (mode {request.mode!r})")


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """`text` up to the first of the stop strings it contains (all of it if none)."""
    cuts = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


@contextlib.contextmanager
def quiet_root_logger(level: int) -> Iterator[None]:
    """Below `level`, nothing on the root logger, where open_clip logs every loading step."""
    root = logging.getLogger()
    old = root.level
    root.setLevel(max(old, level))
    try:
        yield
    finally:
        root.setLevel(old)


def tiny_spec(family: str, spec: ModelSpec) -> ModelSpec:
    """The spec pointed at a tiny checkpoint, built first if missing (see `models.tiny`)."""
    from evalharness.models import tiny

    return dataclasses.replace(spec, path=str(tiny.build(family)))
