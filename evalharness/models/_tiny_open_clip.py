"""A tiny random-weight CoCa for the open_clip route, built offline.

Registered with `evalharness.models.tiny.builder`, so `tiny.build("coca")` writes the folder layout
of an open_clip checkpoint on the hub: `open_clip_config.json` (architecture and preprocessing)
next to `open_clip_model.safetensors`. The model is created by open_clip's own factory from that
config, and the config is written by open_clip's own hub writer, so the folder loads through
exactly the code a downloaded checkpoint does.

The text side keeps open_clip's bundled BPE tokenizer (49,408 tokens, offline), so the embedding
and the caption head dominate the ~3.3 M parameters; everything else is 2 layers of width 32 on
28-pixel images in 14-pixel patches.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from evalharness.models._shared import quiet_root_logger
from evalharness.models.tiny import builder

CONTEXT = 32
"""Text positions, for option statements and captions alike (captions are capped to it)."""

VOCAB = 49408
"""The size of open_clip's bundled BPE vocabulary, which the tokenizer of this config uses."""

_TOWER: dict[str, Any] = {"width": 32, "layers": 2}

CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {
        **_TOWER,
        "image_size": 28,
        "patch_size": 14,
        "head_width": 16,
        # CoCa's attentional pooler: one query for the contrastive embedding, the rest for the
        # caption decoder's cross-attention
        "attentional_pool": True,
        "attn_pooler_queries": 8,
        "attn_pooler_heads": 2,
        "output_tokens": True,
    },
    "text_cfg": {
        **_TOWER,
        "context_length": CONTEXT,
        "vocab_size": VOCAB,
        "heads": 2,
        "embed_cls": True,
        "output_tokens": True,
    },
    "multimodal_cfg": {
        **_TOWER,
        "context_length": CONTEXT,
        "vocab_size": VOCAB,
        "heads": 2,
        "dim_head": 16,
        "attn_pooler_heads": 2,
    },
    "custom_text": True,
}
"""The architecture, in the schema of open_clip's model configs (`model_configs/coca_*.json`)."""


@builder("coca")
def build_coca(dest: Path) -> None:
    import open_clip
    import torch
    from open_clip.push_to_hf_hub import save_config_for_hf
    from safetensors.torch import save_file

    config_file = dest / "open_clip_config.json"
    # The factory reads the architecture from the folder; with no weights there yet it starts
    # from random ones (seeded by the tiny builder) and says so in a log line.
    config_file.write_text(json.dumps({"model_cfg": CONFIG}))
    with quiet_root_logger(logging.ERROR):  # "no weights found": expected here
        model = open_clip.create_model(f"local-dir:{dest}")
    # CoCa never initialises its caption head's output projection (open_clip's initialiser for
    # the decoder fails before reaching it), so it is uninitialised memory: often all zeros, which
    # makes every caption token 0, and never reproducible. Draw it as that initialiser means to.
    head = model.text_decoder.text_projection
    torch.nn.init.normal_(head, std=head.shape[0] ** -0.5)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, dest / "open_clip_model.safetensors")
    save_config_for_hf(model, config_file, model_config=CONFIG)
