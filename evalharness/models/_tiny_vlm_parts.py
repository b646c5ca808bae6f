"""The parts every tiny generative VLM builder shares: sizes, chat templates, tower configs, saving.

The builders themselves, one per family, are in `_tiny_vlm`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HIDDEN = 32
LAYERS = 2
HEADS = 2
FFN = 64
IMAGE = 28
PATCH = 14
# Larger than the usual 0.02 so that random logits are clearly peaked: greedy answers then do not
# hinge on the last bits of float rounding (which differ with batch shape and padding).
INIT_RANGE = 0.2


def chat_template(
    roles: dict[str, str], *, image: str, end: str, prefix: str = "", assistant: str | None = None
) -> str:
    """A Jinja chat template: `prefix`, then per message `roles[role]` + content + `end`.

    Images render as `image` (the family's marker, or "" where the processor places images itself);
    the generation prompt is `assistant` (default `roles["assistant"]`).
    """
    gen = roles["assistant"] if assistant is None else assistant
    lit = json.dumps  # a JSON string is also a valid Jinja string literal
    return (
        f"{{% set roles = {json.dumps(roles)} %}}{{{{ {lit(prefix)} }}}}"
        "{% for m in messages %}{{ roles[m['role']] }}"
        "{% if m['content'] is string %}{{ m['content'] }}{% else %}"
        "{% for c in m['content'] %}"
        f"{{% if c['type'] == 'image' %}}{{{{ {lit(image)} }}}}"
        "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
        "{% endfor %}{% endif %}"
        f"{{{{ {lit(end)} }}}}{{% endfor %}}"
        f"{{% if add_generation_prompt %}}{{{{ {lit(gen)} }}}}{{% endif %}}"
    )


IM_ROLES = {
    "system": "<|im_start|>system\n",
    "user": "<|im_start|>user\n",
    "assistant": "<|im_start|>assistant\n",
}
PLAIN_ROLES = {"system": "", "user": "USER: ", "assistant": "ASSISTANT: "}


EOU = "<end_of_utterance>"


def idefics_chat(prefix: str) -> str:
    """The chat template of the Idefics family (Idefics 2/3, SmolVLM): `User:…<end_of_utterance>`."""
    roles = {"system": "System: ", "user": "User:", "assistant": "Assistant:"}
    return chat_template(roles, image="<image>", end=EOU + "\n", prefix=prefix)


def transformers_lib() -> Any:
    """The transformers package, untyped: its config and processor classes are loosely typed."""
    import transformers

    return transformers


TOWER: dict[str, Any] = dict(
    hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS, num_attention_heads=HEADS
)
"""The sizes every transformer stack here shares (vision towers, Q-Former, language models)."""


def vision(**extra: Any) -> dict[str, Any]:
    """A vision tower config: `TOWER` on 28 px images cut into 14 px patches."""
    return {**TOWER, "image_size": IMAGE, "patch_size": PATCH, **extra}


def decoder(tok: Any, **extra: Any) -> dict[str, Any]:
    """A language model config: `TOWER`, the tokenizer's vocabulary and special ids."""
    base = dict(
        TOWER,
        num_key_value_heads=HEADS,
        vocab_size=len(tok),
        max_position_embeddings=512,
        initializer_range=INIT_RANGE,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return {**base, **extra}


def save(out: Path, model: Any, processor: Any, tok: Any, eos: list[int] | None = None) -> None:
    """Save weights, processor and tokenizer; generation stops at EOS and pads with the pad id."""
    gen = model.generation_config
    gen.pad_token_id = tok.pad_token_id
    gen.eos_token_id = eos or tok.eos_token_id
    gen.bos_token_id = tok.bos_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)
