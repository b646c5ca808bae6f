"""The settings (`model.args`) of `model=hf` and the tiny generative models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from evalharness.models import _vision_attention as vision_attention
from evalharness.models.settings import WithProcessAhead, least


@dataclass(frozen=True)
class HFSettings(WithProcessAhead):
    """What `model=hf` takes in `model.args`."""

    attn_implementation: str = "sdpa"
    """Attention kernel: sdpa, eager, flash_attention_2, …"""
    max_image_size: int | None = field(default=None, metadata=least(1))
    """Longest image side in pixels; larger images are downscaled first."""
    trust_remote_code: bool = False
    """Allow code shipped with the checkpoint to run."""
    device_map: Any = None
    """Passed to from_pretrained (e.g. auto) to spread a model over devices."""
    max_new_tokens: int | None = field(default=None, metadata=least(1))
    """Overrides the benchmark's max_new_tokens."""
    system_prompt: str | None = None
    """A system message put before every question."""
    choice_score: Literal["mean", "sum"] = "mean"
    """Option score in choice mode: mean (per-token log-prob; it does not favour short options)
    or sum."""
    chat_template: str | None = None
    """A Jinja chat template to use instead of the checkpoint's (or a file holding one)."""
    cache_implementation: str | None = None
    """Generate's KV cache: dynamic (the default) or static (fixed-size; on CUDA transformers
    then compiles the decoding step)."""
    process_on: Literal["cpu", "device"] = "cpu"
    """Where the processor's image work (resizing, normalising, patching) runs: cpu or device
    (the model's: uint8 pixels are copied rather than float patches; needs a torchvision image
    processor)."""
    allow_missing_weights: bool = False
    """Load even if the checkpoint lacks some weights of the model class (they stay randomly
    initialised; false: an error)."""
    vision_attention: Literal["per_image", "batched"] = "per_image"
    """Attention in the vision tower of packed-image models (Qwen2-VL, Qwen2.5-VL): per_image (one
    SDPA call per image and layer) or batched (one call per layer for images of one size; same
    answers)."""
    compile: Literal["none", "vision"] = "none"
    """torch.compile part of the model: none or vision (the vision tower's blocks, for Qwen2-VL
    and Qwen2.5-VL: a slow first batch, then the element-wise work fused; answers can differ in
    the last bits, so the setting is part of the run's key)."""

    def __post_init__(self) -> None:
        reason = vision_attention.check(self.vision_attention, self.attn_implementation)
        if reason:
            raise ValueError(reason)
