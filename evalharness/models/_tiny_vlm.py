"""Builders for tiny generative VLM checkpoints (one function per family).

Sizes are the smallest the architectures accept: 2 layers, hidden 32, images of 28 px cut into
14 px patches, so an image becomes a handful of tokens. Each builder writes a chat template that
renders `{"type": "image"}` entries into the family's own image marker, as the real checkpoints do.
The parts they share (sizes, templates, tower configs) are in `_tiny_vlm_parts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalharness.models._tiny_vlm_parts import (
    EOU,
    FFN,
    HEADS,
    HIDDEN,
    IM_ROLES,
    IMAGE,
    INIT_RANGE,
    LAYERS,
    PATCH,
    PLAIN_ROLES,
    TOWER,
    chat_template,
    decoder,
    idefics_chat,
    save,
    transformers_lib,
    vision,
)
from evalharness.models.tiny import BUILDERS, builder, train_tokenizer


@builder("llava")
def build_llava(out: Path) -> None:
    tf = transformers_lib()

    tok: Any = train_tokenizer(["<image>"])
    proc = tf.LlavaProcessor(
        image_processor=tf.CLIPImageProcessor(
            size={"shortest_edge": IMAGE}, crop_size={"height": IMAGE, "width": IMAGE}
        ),
        tokenizer=tok,
        patch_size=PATCH,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # the CLS token, dropped by the "default" strategy
        chat_template=chat_template(
            PLAIN_ROLES, image="<image>\n", end="\n", assistant="ASSISTANT:"
        ),
    )
    cfg = tf.LlavaConfig(
        vision_config=vision(model_type="clip_vision_model", projection_dim=HIDDEN),
        text_config=decoder(tok, model_type="llama"),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        image_seq_length=(IMAGE // PATCH) ** 2,
        vision_feature_layer=-1,
    )
    save(out, tf.LlavaForConditionalGeneration(cfg), proc, tok)


QWEN_TOKENS = [
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]


def _qwen(out: Path, version: str) -> None:
    tf = transformers_lib()

    tok: Any = train_tokenizer(QWEN_TOKENS, bos=None, eos="<|endoftext|>", pad="<|pad|>")
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_TOKENS}
    # Every image is resized to 28x28 (one 2x2 group of 14 px patches, merged into one token).
    size = {"shortest_edge": IMAGE * IMAGE, "longest_edge": IMAGE * IMAGE}
    image_proc = tf.Qwen2VLImageProcessor(size=size, patch_size=PATCH)
    video_proc = tf.Qwen2VLVideoProcessor(size=size, patch_size=PATCH)
    proc_cls = tf.Qwen2VLProcessor if version == "2" else tf.Qwen2_5_VLProcessor
    proc = proc_cls(
        image_processor=image_proc,
        video_processor=video_proc,
        tokenizer=tok,
        chat_template=chat_template(
            IM_ROLES, image="<|vision_start|><|image_pad|><|vision_end|>", end="<|im_end|>\n"
        ),
    )
    # 3D rotary positions (time, height, width): the sections sum to head_dim / 2.
    mrope = [2, 3, 3]
    assert sum(mrope) * 2 == HIDDEN // HEADS
    text = decoder(
        tok,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": mrope},
        bos_token_id=tok.eos_token_id,
        eos_token_id=ids["<|im_end|>"],
    )
    vision: dict[str, Any] = dict(depth=LAYERS, num_heads=HEADS, patch_size=PATCH)
    if version == "2":
        vision.update(embed_dim=HIDDEN, hidden_size=HIDDEN, mlp_ratio=2)
        cfg_cls, model_cls = tf.Qwen2VLConfig, tf.Qwen2VLForConditionalGeneration
    else:
        vision.update(
            hidden_size=HIDDEN,
            intermediate_size=FFN,
            out_hidden_size=HIDDEN,
            window_size=IMAGE * 2,
            fullatt_block_indexes=[LAYERS - 1],
        )
        cfg_cls, model_cls = tf.Qwen2_5_VLConfig, tf.Qwen2_5_VLForConditionalGeneration
    cfg = cfg_cls(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    save(out, model_cls(cfg), proc, tok, eos=[ids["<|im_end|>"], tok.eos_token_id])


@builder("qwen2_vl")
def build_qwen2_vl(out: Path) -> None:
    _qwen(out, "2")


@builder("qwen2_5_vl")
def build_qwen2_5_vl(out: Path) -> None:
    _qwen(out, "2.5")


@builder("paligemma")
def build_paligemma(out: Path) -> None:
    tf = transformers_lib()

    tok: Any = train_tokenizer(["<image>"], bos="<bos>", eos="<eos>")
    # The processor adds PaliGemma's location and segmentation tokens; the vocabulary follows.
    proc = tf.PaliGemmaProcessor(
        image_processor=tf.SiglipImageProcessor(size={"height": IMAGE, "width": IMAGE}),
        tokenizer=tok,
        # PaliGemma takes no roles: the processor puts images first, then BOS, prompt and "\n".
        chat_template=chat_template(
            {"system": "", "user": "", "assistant": ""}, image="<image>", end=""
        ),
    )
    proc.image_processor.image_seq_length = (IMAGE // PATCH) ** 2
    cfg = tf.PaliGemmaConfig(
        vision_config=vision(model_type="siglip_vision_model", projection_dim=HIDDEN),
        text_config=decoder(
            tok, model_type="gemma", num_key_value_heads=1, head_dim=HIDDEN // HEADS
        ),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vocab_size=len(tok),
        projection_dim=HIDDEN,
        hidden_size=HIDDEN,
    )
    save(out, tf.PaliGemmaForConditionalGeneration(cfg), proc, tok)


@builder("idefics3")
def build_idefics3(out: Path) -> None:
    """Idefics3, the architecture of SmolVLM (v1) checkpoints."""
    tok: Any = train_tokenizer(
        ["<fake_token_around_image>", "<image>", "<global-img>", EOU],
        bos="<|begin_of_text|>",
        eos="<|end_of_text|>",
    )
    _build_idefics3_like(out, "Idefics3", tok, prefix="<|begin_of_text|>")


def _build_idefics3_like(out: Path, kind: str, tok: Any, prefix: str) -> None:
    """Idefics3 or SmolVLM (`kind`, the classes' prefix): a vision tower whose patches are merged
    `scale`² to one token, and a Llama; SmolVLM's processor also takes video."""
    tf = transformers_lib()
    scale = 2
    size = {"longest_edge": IMAGE}
    extra = {}
    if kind == "SmolVLM":
        extra["video_processor"] = tf.SmolVLMVideoProcessor(size=size, max_image_size=size)
    proc = getattr(tf, f"{kind}Processor")(
        image_processor=getattr(tf, f"{kind}ImageProcessor")(
            do_image_splitting=False, size=size, max_image_size=size
        ),
        tokenizer=tok,
        image_seq_len=(IMAGE // PATCH) ** 2 // scale**2,
        chat_template=idefics_chat(prefix=prefix),
        **extra,
    )
    cfg = getattr(tf, f"{kind}Config")(
        vision_config=vision(),
        text_config=decoder(tok, model_type="llama"),
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        scale_factor=scale,
        pad_token_id=tok.pad_token_id,  # the default is a real checkpoint's id, out of range here
    )
    eos = [tok.convert_tokens_to_ids(EOU), tok.eos_token_id]
    save(out, getattr(tf, f"{kind}ForConditionalGeneration")(cfg), proc, tok, eos=eos)


@builder("idefics2")
def build_idefics2(out: Path) -> None:
    """Idefics2: a perceiver resampler turns each image into a fixed number of latent tokens."""
    tf = transformers_lib()

    tok: Any = train_tokenizer(["<fake_token_around_image>", "<image>", EOU])
    latents = 4
    proc = tf.Idefics2Processor(
        image_processor=tf.Idefics2ImageProcessor(
            do_image_splitting=False, size={"height": IMAGE, "width": IMAGE}
        ),
        tokenizer=tok,
        image_seq_len=latents,
        chat_template=idefics_chat(prefix="<s>"),
    )
    cfg = tf.Idefics2Config(
        vision_config=vision(),
        perceiver_config=dict(
            hidden_size=HIDDEN,  # the text model's; a mismatch is overridden with a warning
            resampler_n_latents=latents,
            resampler_depth=LAYERS,
            resampler_n_heads=HEADS,
            resampler_head_dim=HIDDEN // HEADS,
            num_key_value_heads=HEADS,
        ),
        text_config=decoder(tok, model_type="mistral"),
        image_token_id=tok.convert_tokens_to_ids("<image>"),
    )
    eos = [tok.convert_tokens_to_ids(EOU), tok.eos_token_id]
    save(out, tf.Idefics2ForConditionalGeneration(cfg), proc, tok, eos=eos)


@builder("smolvlm")
def build_smolvlm(out: Path) -> None:
    """SmolVLM (model_type smolvlm, the SmolVLM2 checkpoints): Idefics3 with a video processor."""
    tok: Any = train_tokenizer(
        ["<|im_start|>", "<fake_token_around_image>", "<image>", "<global-img>", "<video>", EOU],
        bos="<|im_start|>",
        eos="<|im_end|>",
    )
    _build_idefics3_like(out, "SmolVLM", tok, prefix="<|im_start|>")


@builder("blip2")
def build_blip2(out: Path) -> None:
    tf = transformers_lib()

    tok: Any = train_tokenizer(["<image>"], bos="</s>", eos="</s>")
    queries = 4
    proc = tf.Blip2Processor(
        image_processor=tf.BlipImageProcessor(size={"height": IMAGE, "width": IMAGE}),
        tokenizer=tok,
        num_query_tokens=queries,
    )
    # The processor puts the query tokens before the text itself. It neither takes nor loads a
    # chat template, so the template goes with the tokenizer (where loaders look next).
    tok.chat_template = chat_template(
        {"system": "", "user": "Question: ", "assistant": "Answer:"}, image="", end=" "
    )
    cfg = tf.Blip2Config(
        vision_config=vision(),
        qformer_config=dict(TOWER, encoder_hidden_size=HIDDEN, vocab_size=len(tok)),
        text_config=dict(
            model_type="opt",
            hidden_size=HIDDEN,
            ffn_dim=FFN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            word_embed_proj_dim=HIDDEN,
            vocab_size=len(tok),
            max_position_embeddings=512,
            init_std=INIT_RANGE,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        ),
        num_query_tokens=queries,
        image_token_index=tok.convert_tokens_to_ids("<image>"),
    )
    save(out, tf.Blip2ForConditionalGeneration(cfg), proc, tok)


@builder("idefics")
def build_idefics(out: Path) -> None:
    """IDEFICS (v1), the open reproduction of Flamingo: gated cross-attention to image features."""
    tf = transformers_lib()

    tok: Any = train_tokenizer(["<fake_token_around_image>", "<image>", EOU])
    # Like BLIP-2, the processor places the images itself and keeps no template of its own.
    tok.chat_template = chat_template(
        {"system": "", "user": "User: ", "assistant": "Assistant:"}, image="", end=EOU + "\n"
    )
    proc = tf.IdeficsProcessor(
        image_processor=tf.IdeficsImageProcessor(image_size=IMAGE), tokenizer=tok, image_size=IMAGE
    )
    text = decoder(tok)
    del text["num_key_value_heads"]  # IDEFICS has no grouped-query attention
    cfg = tf.IdeficsConfig(
        **text,
        cross_layer_interval=1,
        # The gates on the image cross-attention start closed (zeros) for training, which would
        # leave a random model blind; open gates let the image change the answer. ("normal"
        # fails to build in transformers 5.24.)
        alpha_initializer="ones",
        vision_config=vision(embed_dim=HIDDEN),
    )
    eos = [tok.convert_tokens_to_ids(EOU), tok.eos_token_id]
    save(out, tf.IdeficsForVisionText2Text(cfg), proc, tok, eos=eos)


@builder("internvl")
def build_internvl(out: Path) -> None:
    tf = transformers_lib()

    markers = {
        "start_image_token": "<img>",
        "end_image_token": "</img>",
        "context_image_token": "<IMG_CONTEXT>",
        "video_token": "<video>",
    }
    eot = "<|im_end|>"
    tok: Any = train_tokenizer(
        ["<|im_start|>", eot, *markers.values()],
        bos=None,
        eos="<|endoftext|>",
        pad="<|pad|>",
        extra_special_tokens=markers,
    )
    size = {"height": IMAGE, "width": IMAGE}
    proc = tf.InternVLProcessor(
        image_processor=tf.GotOcr2ImageProcessor(size=size, max_patches=1),
        video_processor=tf.InternVLVideoProcessor(size=size),
        tokenizer=tok,
        # A 2x2 patch grid, pixel-shuffled by 0.5, becomes one token per image.
        image_seq_length=1,
        chat_template=chat_template(IM_ROLES, image="<IMG_CONTEXT>\n", end=eot + "\n"),
    )
    cfg = tf.InternVLConfig(
        vision_config=vision(image_size=[IMAGE, IMAGE], patch_size=[PATCH, PATCH]),
        text_config=decoder(
            tok,
            model_type="qwen2",
            bos_token_id=tok.eos_token_id,
            eos_token_id=tok.convert_tokens_to_ids(eot),
        ),
        image_token_id=tok.convert_tokens_to_ids("<IMG_CONTEXT>"),
        image_seq_length=1,
        downsample_ratio=0.5,
    )
    eos = [tok.convert_tokens_to_ids(eot), tok.eos_token_id]
    save(out, tf.InternVLForConditionalGeneration(cfg), proc, tok, eos=eos)


def _image_code_token(code: int) -> str:
    """Chameleon's token name for VQ code `code`: digits spelled as letters, 12 → IMGIMGBCZ."""
    return "IMGIMG" + "".join(chr(ord("A") + int(d)) for d in str(code)) + "Z"


@builder("chameleon")
def build_chameleon(out: Path) -> None:
    """Chameleon: images become discrete VQ codes that the language model reads as tokens."""
    tf = transformers_lib()

    codes, side, downsample = 16, 16, 4
    tok: Any = train_tokenizer(
        ["<image>", "<racm3:break>", "<eoss>", *(_image_code_token(c) for c in range(codes))]
    )
    # The processor neither takes nor loads a template: it goes with the tokenizer.
    tok.chat_template = chat_template(
        PLAIN_ROLES, image="<image>", end="\n", assistant="ASSISTANT:"
    )
    proc = tf.ChameleonProcessor(
        image_processor=tf.ChameleonImageProcessor(
            size={"shortest_edge": side}, crop_size={"height": side, "width": side}
        ),
        tokenizer=tok,
        image_seq_length=(side // downsample) ** 2,
    )
    cfg = tf.ChameleonConfig(
        **decoder(tok),
        vq_config=dict(
            embed_dim=HIDDEN,
            num_embeddings=codes,
            latent_channels=HIDDEN,
            resolution=side,
            base_channels=32,  # the VQ encoder's group norms use 32 groups
            channel_multiplier=[1, 1, 1],  # two downsampling steps: 16 px → 4x4 codes
            num_res_blocks=1,
        ),
        vocabulary_map=tok.get_vocab(),
    )
    save(out, tf.ChameleonForConditionalGeneration(cfg), proc, tok)


GENERATIVE: tuple[str, ...] = tuple(
    name for name, fn in BUILDERS.items() if fn.__module__ == __name__
)
"""The families built here, all loadable with AutoModelForImageTextToText.

SmolVLM v1 checkpoints are Idefics3 models; `smolvlm` is the SmolVLM2 architecture.
"""
