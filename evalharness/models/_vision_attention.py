"""`model.args.vision_attention=batched`: one attention call per layer for a batch's images.

The Qwen2-VL family's vision towers pack every image of a batch into one long sequence and mark
where each image starts (`cu_seqlens`). With flash-attn, one variable-length kernel attends
within each image; with SDPA, transformers splits the sequence and makes one attention call per
image and layer: at batch 256 on a 32-layer tower that is 8,192 small calls per batch, which
the host issues more slowly than the GPU runs them.

Here the tower is handed an attention function that takes the packed form (transformers gives
a vision tower the image boundaries when its attention implementation's name contains "flash")
and, when the images have the same number of patches, reshapes the packed sequence into a batch
and makes one SDPA call; images of different sizes are attended one at a time, as before. Each
image's attention is computed by the same SDPA on the same numbers, so the answers do not
change. A call that gets no image boundaries (any other caller) is plain SDPA.
"""

from __future__ import annotations

from typing import Any

NAME = "flash_evalharness_batched_sdpa"
"""The registered name: "flash" makes the vision tower pass the packed form (`cu_seqlens`)."""

SUPPORTED = frozenset({"qwen2_vl", "qwen2_5_vl"})
"""Model types whose vision tower packs images and is reached as `model.model.visual`."""


def check(mode: str, attn_implementation: str) -> str | None:
    """Why `args.vision_attention=mode` cannot be used with this attention kernel, or None."""
    if mode == "batched" and attn_implementation != "sdpa":
        return (
            "args.vision_attention=batched works with attn_implementation=sdpa, not "
            f"{attn_implementation!r} (flash-attn already attends over all images in one call)"
        )
    return None


def check_model(mode: str, model_type: str) -> str | None:
    """Why `args.vision_attention=mode` cannot be used for `model_type` with this transformers,
    or None."""
    if mode != "batched":
        return None
    if model_type not in SUPPORTED:
        known = ", ".join(sorted(SUPPORTED))
        return (
            f"args.vision_attention=batched is for vision towers that pack images ({known}); "
            f"this is a {model_type!r} model. Leave vision_attention at per_image."
        )
    if not routes_by_name(model_type):
        import transformers

        return (
            "args.vision_attention=batched needs a transformers whose vision towers hand any "
            f"flash-named attention the packed images (5.0 or later); this is "
            f"{transformers.__version__}. Upgrade transformers or leave vision_attention at "
            "per_image."
        )
    return None


def routes_by_name(model_type: str) -> bool:
    """Whether this transformers' `model_type` modeling code sends the packed form to any
    attention implementation named "flash…" (older versions: to flash_attention_2 only)."""
    import importlib

    module = importlib.import_module(f"transformers.models.{model_type}.modeling_{model_type}")
    return hasattr(module, "is_flash_attention_requested")


def use_batched(model: Any) -> None:
    """Give `model`'s vision tower the batched attention (after loading: transformers checks a
    "flash" name for a flash-attn kernel at load time)."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, batched_sdpa)
    tower = model.model.visual
    tower.config._attn_implementation = NAME
    model.config.vision_config._attn_implementation = NAME  # the same object, or its source


def batched_sdpa(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    dropout: float = 0.0,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """Attention within each packed image; returns (batch, sequence, heads, dim) like
    transformers' attention functions.

    `query`, `key`, `value`: (1, heads, total patches, dim), images one after another, with
    `cu_seq_lens_q` their boundaries. Without boundaries, transformers' SDPA function.
    """
    bounds = kwargs.get("cu_seq_lens_q")
    if bounds is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(  # type: ignore[no-any-return]
            module,
            query,
            key,
            value,
            attention_mask,
            scaling=scaling,
            dropout=dropout,
            is_causal=is_causal,
            **kwargs,
        )
    import torch
    import torch.nn.functional as F

    lengths = (bounds[1:] - bounds[:-1]).tolist()
    causal = bool(is_causal)
    heads, total, dim = query.shape[1:]
    if len(set(lengths)) == 1:
        n, length = len(lengths), lengths[0]
        q, k, v = (x[0].unflatten(1, (n, length)).transpose(0, 1) for x in (query, key, value))
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=dropout, is_causal=causal, scale=scaling
        )
        return out.permute(0, 2, 1, 3).reshape(1, total, heads, dim), None
    parts = zip(*(x.split(lengths, dim=2) for x in (query, key, value)), strict=True)
    outs = [
        F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=causal, scale=scaling)
        for q, k, v in parts
    ]
    return torch.cat(outs, dim=2).transpose(1, 2).contiguous(), None
