"""Tiny random-weight matching models (CLIP, SigLIP, SigLIP 2, FLAVA) and captioners (BLIP), built offline.

Registered with `evalharness.models.tiny.builder`, so `tiny.build("clip")` writes a complete
checkpoint folder that `AutoModel`/`AutoProcessor` load like a real one. Sizes are the smallest
that keep every code path real: 2 layers, hidden 32, 28-pixel images in 14-pixel patches.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalharness.models.tiny import builder, train_tokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

IMAGE = 28
PATCH = 14
MAX_TEXT = 32
"""Text positions: long enough for a synthetic benchmark's option statements."""

_TOWER: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
}

# Real CLIP and SigLIP checkpoints use these image statistics; keeping them makes the processors'
# normalisation code run as it does for a downloaded model.
_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def _with_template(tok: PreTrainedTokenizerFast, single: str) -> PreTrainedTokenizerFast:
    """Add the start/end markers that the text towers pool on (CLIP: end, BERT-style: start)."""
    from tokenizers import processors

    names = [t for t in single.split() if t != "$A"]
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=single,
        special_tokens=[(t, tok.convert_tokens_to_ids(t)) for t in names],
    )
    tok.model_max_length = MAX_TEXT
    return tok


@builder("clip")
def build_clip(dest: Path) -> None:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tok = train_tokenizer(
        (), bos="<|startoftext|>", eos="<|endoftext|>", pad="<|endoftext|>", vocab_size=300
    )
    tok = _with_template(tok, "<|startoftext|> $A <|endoftext|>")
    bos, eos = tok.bos_token_id, tok.eos_token_id
    config = CLIPConfig(
        # CLIP pools the text at the first end token, found by its id (see CLIPTextTransformer).
        text_config=dict(
            _TOWER,
            vocab_size=len(tok),
            max_position_embeddings=MAX_TEXT,
            bos_token_id=bos,
            eos_token_id=eos,
            pad_token_id=tok.pad_token_id,
        ),
        vision_config=dict(_TOWER, image_size=IMAGE, patch_size=PATCH),
        projection_dim=16,
    )
    images = CLIPImageProcessor(
        size={"shortest_edge": IMAGE},
        crop_size={"height": IMAGE, "width": IMAGE},
        image_mean=_CLIP_MEAN,
        image_std=_CLIP_STD,
    )
    CLIPModel(config).save_pretrained(dest)
    CLIPProcessor(image_processor=images, tokenizer=tok).save_pretrained(dest)  # type: ignore[no-untyped-call]


def _siglip_text(tok: PreTrainedTokenizerFast) -> dict[str, Any]:
    """The text tower of SigLIP and SigLIP 2: pooled at the last position, no start token."""
    return dict(
        _TOWER,
        vocab_size=len(tok),
        max_position_embeddings=MAX_TEXT,
        bos_token_id=None,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        projection_size=32,
    )


@builder("siglip")
def build_siglip(dest: Path) -> None:
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    # SigLIP pools the text at the last position and is trained on max-length padded text, so
    # the tokenizer only appends the end token and the wrapper pads to MAX_TEXT.
    tok = _with_template(train_tokenizer((), bos=None, vocab_size=300), "$A </s>")
    config = SiglipConfig(
        text_config=_siglip_text(tok),
        vision_config=dict(_TOWER, image_size=IMAGE, patch_size=PATCH),
    )
    images = SiglipImageProcessor(size={"height": IMAGE, "width": IMAGE})
    SiglipModel(config).save_pretrained(dest)
    SiglipProcessor(image_processor=images, tokenizer=tok).save_pretrained(dest)  # type: ignore[no-untyped-call]


@builder("siglip2")
def build_siglip2(dest: Path) -> None:
    from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model, Siglip2Processor

    # SigLIP 2 keeps each image's aspect ratio: it is cut into at most `max_num_patches` patches
    # of 16 px, padded, with a mask. Its processor brings these values (16, 256) in any case, so
    # the tiny model uses them too. Its Gemma tokenizer needs an unknown token.
    tok = _with_template(train_tokenizer((), bos=None, unk="<unk>", vocab_size=300), "$A </s>")
    config = Siglip2Config(
        text_config=_siglip_text(tok),
        vision_config=dict(_TOWER, num_patches=256, patch_size=16),
    )
    images = Siglip2ImageProcessor(patch_size=16, max_num_patches=256)
    Siglip2Model(config).save_pretrained(dest)
    Siglip2Processor(image_processor=images, tokenizer=tok).save_pretrained(dest)  # type: ignore[no-untyped-call]


def _bert_style_tokenizer(bos: str | None = None) -> PreTrainedTokenizerFast:
    tok = train_tokenizer(
        ("[CLS]", "[MASK]"),
        bos=bos,
        eos="[SEP]",
        pad="[PAD]",
        unk="[UNK]",
        vocab_size=300,
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    return _with_template(tok, "[CLS] $A [SEP]")


@builder("flava")
def build_flava(dest: Path) -> None:
    from transformers import FlavaConfig, FlavaImageProcessor, FlavaModel, FlavaProcessor

    tok = _bert_style_tokenizer()
    config = FlavaConfig(
        text_config=dict(
            _TOWER,
            vocab_size=len(tok),
            max_position_embeddings=MAX_TEXT,
            pad_token_id=tok.pad_token_id,
        ),
        image_config=dict(_TOWER, image_size=IMAGE, patch_size=PATCH),
        multimodal_config=dict(_TOWER),
        image_codebook_config={"hidden_size": 16, "num_groups": 1, "num_blocks_per_group": 1},
        hidden_size=32,
        projection_dim=16,
    )
    images = FlavaImageProcessor(
        size={"height": IMAGE, "width": IMAGE},
        crop_size={"height": IMAGE, "width": IMAGE},
        input_size_patches=IMAGE // PATCH,
        total_mask_patches=1,
        mask_group_min_patches=1,
        codebook_size={"height": IMAGE, "width": IMAGE},
        codebook_crop_size={"height": IMAGE, "width": IMAGE},
    )
    FlavaModel(config).save_pretrained(dest)
    FlavaProcessor(image_processor=images, tokenizer=tok).save_pretrained(dest)  # type: ignore[no-untyped-call]


@builder("blip")
def build_blip(dest: Path) -> None:
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    # BLIP's decoder starts from a separate "[DEC]" token and stops at "[SEP]"; a prompt is
    # tokenized as "[CLS] prompt [SEP]" and BLIP itself swaps the first and drops the last.
    tok = _bert_style_tokenizer(bos="[DEC]")
    config = BlipConfig(
        text_config=dict(
            _TOWER,
            vocab_size=len(tok),
            max_position_embeddings=128,  # room for a benchmark's longest caption budget
            encoder_hidden_size=32,
            bos_token_id=tok.convert_tokens_to_ids("[DEC]"),
            eos_token_id=tok.sep_token_id,
            sep_token_id=tok.sep_token_id,
            pad_token_id=tok.pad_token_id,
        ),
        vision_config=dict(_TOWER, image_size=IMAGE, patch_size=PATCH),
        projection_dim=16,
    )
    images = BlipImageProcessor(size={"height": IMAGE, "width": IMAGE})
    BlipForConditionalGeneration(config).save_pretrained(dest)
    BlipProcessor(image_processor=images, tokenizer=tok).save_pretrained(dest)  # type: ignore[no-untyped-call]
