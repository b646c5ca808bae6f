"""Turning requests into model inputs: chat messages, image limits, processor calls, option scoring.

Images always go to the processor as images; the chat template decides where their markers sit in
the text, exactly as the checkpoint's authors set it up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from evalharness.models._hf_load import Loaded
from evalharness.types import Request

if TYPE_CHECKING:
    from PIL import Image as PILImage


class InputError(ValueError):
    """A request the processor cannot turn into model inputs (an image it rejects, say)."""


# Token-type inputs that mark parts of the sequence. Appended option tokens are answer text:
# PaliGemma marks its answer ("suffix") with 1, every other model marks text with 0.
SUFFIX_TOKEN_TYPE = {"paligemma": 1}

# Processors that take one image per request as a flat list (IDEFICS orders a nested list after
# the text). Others get one list per request: SmolVLM's would read a flat list as one request's.
FLAT_IMAGES = {"idefics"}

# Models whose prompt holds one image: BLIP-2's query tokens summarise a single image. An item
# with several images is declined (`unsupported`) rather than answered from one of them.
ONE_IMAGE = {"blip-2"}


def messages(request: Request, system_prompt: str | None) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = [{"type": "image"} for _ in request.images]
    content.append({"type": "text", "text": request.text})
    out: list[dict[str, Any]] = []
    if system_prompt:
        out.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    out.append({"role": "user", "content": content})
    return out


def render(loaded: Loaded, request: Request, system_prompt: str | None) -> str:
    """The prompt text with the generation prompt (`ASSISTANT:`, `<|im_start|>assistant`, …)."""
    text = loaded.processor.apply_chat_template(
        messages(request, system_prompt),
        chat_template=loaded.template,
        add_generation_prompt=True,
        tokenize=False,
    )
    return str(text)


def limit_images(images: Sequence[PILImage.Image], max_side: int | None) -> list[PILImage.Image]:
    """RGB copies no larger than `max_side` on their longest side (aspect ratio kept)."""
    from PIL import Image

    out = []
    for img in images:
        if img.mode != "RGB":
            img = img.convert("RGB")
        if max_side and max(img.size) > max_side:
            scale = max_side / max(img.size)
            size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            img = img.resize(size, Image.Resampling.BICUBIC)
        out.append(img)
    return out


def process(loaded: Loaded, texts: list[str], images: list[list[PILImage.Image]]) -> dict[str, Any]:
    """The processor's output for a batch (left-padded), floats in the model's dtype.

    All requests of a batch have the same number of images (the caller groups them so). Casting
    here keeps the work off the device's thread and halves a bf16 model's host-to-device copy;
    float32 to bf16 rounds the same on either side. The image work runs on the CPU, or with
    `loaded.image_device` there, on a CUDA stream of its own that is finished on return (the
    caller may be the runner's worker thread while the model runs on the main stream).
    """
    import torch

    counts = {len(x) for x in images}
    kwargs: dict[str, Any] = {"text": texts, "return_tensors": "pt", "padding": True}
    on_device = loaded.image_device is not None and counts != {0}
    if counts != {0}:
        flat = counts == {1} and loaded.model_type in FLAT_IMAGES
        kwargs["images"] = [x[0] for x in images] if flat else images
        if on_device:
            kwargs["device"] = loaded.image_device
    bos = loaded.tokenizer.bos_token
    if bos and all(t.startswith(bos) for t in texts):
        # The template already wrote BOS; do not let the tokenizer add a second one.
        kwargs["add_special_tokens"] = False
    with side_stream(loaded.image_device if on_device else None):
        try:
            batch = loaded.processor(**kwargs)
        except Exception as exc:  # image processors raise many types for inputs they cannot take
            why = f"{type(exc).__name__}: {exc}"
            raise InputError(
                f"the processor of model {loaded.name!r} rejected the input: {why}"
            ) from exc
        batch.pop("labels", None)  # PaliGemma's processor adds training labels
        return {
            k: v.to(loaded.dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
            for k, v in batch.items()
        }


PIXELS = ("pixel_values", "pixel_values_videos")
"""Processor outputs that position ids never depend on (and that may be on the device)."""


def with_positions(loaded: Loaded, inputs: dict[str, Any]) -> dict[str, Any]:
    """A generation batch's inputs with the `position_ids` that `generate` would compute.

    For the models `Loaded.positions_ahead` marks (Qwen2-VL, Qwen2.5-VL), the model's own
    method runs here, on host tensors, so that with `process_ahead` it runs on the worker
    thread beside the device's work rather than inside `generate`, where every sample's small
    steps (dozens of device operations and synchronisations on CUDA) keep the device waiting.
    The same method on the same integers gives the same ids, and `generate` takes ids it is
    given as its own. For other models, or if the method fails, `generate` computes them as
    usual.
    """
    if not loaded.positions_ahead:
        return inputs
    import torch

    ids = inputs["input_ids"].cpu()
    kwargs = {
        k: v.cpu() if isinstance(v, torch.Tensor) else v
        for k, v in inputs.items()
        if k not in ("input_ids", *PIXELS)
    }
    try:
        # It also stores the batch's RoPE offsets on the model (`rope_deltas`), which the
        # model reads only when it is given no position ids.
        positions = loaded.model._prepare_position_ids_for_generation(ids, kwargs)
    except Exception:
        return inputs
    return {**inputs, "position_ids": positions}


@contextlib.contextmanager
def side_stream(device: Any) -> Iterator[None]:
    """Work on a CUDA `device` goes to a stream of its own, finished when the block ends, so it
    overlaps the model's work rather than queueing behind it; elsewhere nothing changes."""
    import torch

    if device is None or torch.device(device).type != "cuda":
        yield
        return
    cuda: Any = torch.cuda  # its Stream class is untyped
    stream = cuda.Stream(device)
    with cuda.stream(stream):
        yield
    stream.synchronize()


def to_model(loaded: Loaded, inputs: dict[str, Any]) -> dict[str, Any]:
    """Processed inputs moved to the model's device and dtype."""
    return {k: to_device(v, loaded) for k, v in inputs.items()}


def to_device(value: Any, loaded: Loaded) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        return value
    if value.is_cuda:
        # Made on another stream (`side_stream`): its memory must outlive this stream's use.
        value.record_stream(torch.cuda.current_stream(value.device))
    if value.is_floating_point():
        return value.to(loaded.device, loaded.dtype)
    return value.to(loaded.device)


def option_ids(loaded: Loaded, prompt: str, options: Sequence[str]) -> list[list[int]]:
    """Token ids of each option as the answer after `prompt`.

    Options are tokenized on their own (not together with the prompt), so the prompt's tokens are
    the same for every option. A space separates them unless the prompt already ends in
    whitespace (`ASSISTANT:` → ` red`; `assistant\\n` → `red`).
    """
    sep = "" if not prompt or prompt[-1].isspace() else " "
    ids = [
        loaded.tokenizer(sep + o.strip(), add_special_tokens=False)["input_ids"] for o in options
    ]
    empty = [i for i, x in enumerate(ids) if not x]
    if empty:
        raise ValueError(f"option(s) {empty} are empty: there is nothing to score")
    return [list(x) for x in ids]


def extend(
    inputs: dict[str, Any], options: list[list[int]], loaded: Loaded
) -> tuple[dict[str, Any], Any]:
    """Append one option per row (right-padded) to identical prompt rows.

    Returns the new inputs and a (rows, M) tensor of option ids with -1 at padding. Per-token
    inputs besides ids and mask are extended as generation would extend them.
    """
    import torch

    ids = inputs["input_ids"]
    rows, width = ids.shape[0], max(len(o) for o in options)
    opt = torch.full((rows, width), -1, dtype=ids.dtype, device=ids.device)
    for r, o in enumerate(options):
        opt[r, : len(o)] = torch.tensor(o, dtype=ids.dtype)
    real = opt >= 0
    pad_id = loaded.tokenizer.pad_token_id
    out = dict(inputs)
    out["input_ids"] = torch.cat([ids, torch.where(real, opt, pad_id)], dim=1)
    mask = inputs["attention_mask"]
    out["attention_mask"] = torch.cat([mask, real.to(mask.dtype)], dim=1)
    for key in ("token_type_ids", "mm_token_type_ids"):
        if key in inputs:
            fill = SUFFIX_TOKEN_TYPE.get(loaded.model_type, 0) if key == "token_type_ids" else 0
            v = inputs[key]
            out[key] = torch.cat(
                [v, torch.full((rows, width), fill, dtype=v.dtype, device=v.device)], 1
            )
    if (
        "image_attention_mask" in inputs
    ):  # IDEFICS: (rows, tokens, images); new tokens copy the last
        v = inputs["image_attention_mask"]
        out["image_attention_mask"] = torch.cat([v, v[:, -1:].expand(-1, width, -1)], dim=1)
    return out, opt


def option_logprobs(model: Any, inputs: dict[str, Any], opt: Any, keep_arg: bool) -> Any:
    """Summed log-probability and token count of each row's option: a (rows, 2) float tensor."""
    import torch

    width = opt.shape[1]
    kwargs = {"logits_to_keep": width + 1} if keep_arg else {}
    logits = model(**inputs, use_cache=False, **kwargs).logits
    # The logit at position t predicts token t + 1: the option's tokens are predicted by the
    # positions from the last prompt token up to the second-to-last option token.
    logits = logits[:, -(width + 1) : -1].float()
    logp = torch.log_softmax(logits, dim=-1)
    real = opt >= 0
    picked = logp.gather(-1, opt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    total = torch.where(real, picked, 0.0).sum(dim=1)
    return torch.stack([total, real.sum(dim=1).float()], dim=1)
