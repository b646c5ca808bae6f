"""Loading a Hugging Face image-text-to-text checkpoint, with errors that say what to do.

Every load problem (missing folder, no chat template, remote code not allowed, unknown settings)
becomes a `ModelLoadError` naming the model and the fix, raised before any weights are read where
possible.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalharness.errors import quoted
from evalharness.models import _vision_attention as vision_attention
from evalharness.models._fingerprint import checkpoint_hash
from evalharness.models._hf_settings import HFSettings
from evalharness.models.base import ModelLoadError

COMPILE_BACKEND = "inductor"
"""torch.compile's backend for `args.compile` (the tests use one that needs no C++ compiler)."""

DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


@dataclass
class Loaded:
    name: str
    model: Any
    processor: Any
    tokenizer: Any
    template: str
    device: Any
    """torch.device of the inputs (the first device when a device map spreads the model)."""
    dtype: Any
    """torch.dtype of the weights; floating inputs (pixels) are cast to it."""
    model_type: str
    revision: str | None
    """The hub revision asked for or resolved (commit hash); for a local folder the hash of its
    files (`_fingerprint.checkpoint_hash`)."""
    image_device: Any = None
    """Where the processor's image work runs: None for the CPU, else the model's device
    (`args.process_on=device`)."""
    positions_ahead: bool = False
    """Whether generation batches get their position ids with their inputs
    (`_hf_inputs.with_positions`); see `computes_positions`."""


def check_process_on(name: str, settings: HFSettings, processor: Any) -> None:
    """Refuse `args.process_on=device` for an image processor that cannot run there (a
    PIL/NumPy one), before any weights are read."""
    if settings.process_on != "device":
        return
    images = getattr(processor, "image_processor", None)
    # transformers 5 names the backend; in 4.x the torchvision processors are the *Fast classes
    backend = getattr(images, "backend", None)
    if images is None or not (backend == "torchvision" or type(images).__name__.endswith("Fast")):
        kind = type(images).__name__ if images is not None else "none"
        raise ModelLoadError(
            f"model {name!r}: args.process_on=device needs a torchvision image processor; this "
            f"checkpoint's is {kind} ({backend or 'PIL/NumPy'}). Leave process_on at cpu."
        )


def resolve_device(device: str) -> str:
    """`auto`: the GPU when torch sees one, else the CPU. A device that is not there is refused
    before any weights load."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ModelLoadError(
            f"model.device={device!r} is not a device: use auto (the GPU when there is one), "
            "cpu, cuda or cuda:N."
        ) from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ModelLoadError(
                f"model.device={device!r}, but torch sees no CUDA device here: use "
                "model.device=auto (the GPU when there is one) or cpu."
            )
        if parsed.index is not None and parsed.index >= count:
            raise ModelLoadError(
                f"model.device={device!r}, but torch sees {count} CUDA device(s): "
                f"use cuda:0 to cuda:{count - 1}."
            )
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    """`auto` is bfloat16 on GPUs and float32 on CPUs (where bfloat16 is slow and less exact)."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if dtype not in DTYPES:
        raise ModelLoadError(f"unknown dtype {dtype!r}; use auto or one of {sorted(DTYPES)}")
    return getattr(torch, DTYPES[dtype])


def is_local(path: str) -> bool:
    """A folder on disk (existing or meant to be) rather than a hub id like `org/name`."""
    return Path(path).expanduser().exists() or path.startswith(("/", ".", "~")) or "\\" in path


def read_config(name: str, folder: Path, filename: str, if_missing: str) -> dict[str, Any]:
    """A checkpoint folder's JSON config; a missing one is an error that goes on `if_missing`
    (why the folder is then not what the model wants, and what to do)."""
    path = folder / filename
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"model {name!r}: {folder} has no {filename}, {if_missing}") from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"model {name!r}: cannot read {path}: {exc}") from exc
    return config


def check_folder(name: str, folder: Path, trust_remote_code: bool) -> dict[str, Any]:
    """Read and check a local checkpoint's config before handing it to transformers."""
    if not folder.is_dir():
        raise ModelLoadError(
            f"model {name!r}: folder {folder} does not exist. Set model.path to a checkpoint "
            "folder (with config.json and weights) or to a hub id like org/name."
        )
    config = read_config(
        name,
        folder,
        "config.json",
        "so it is not a checkpoint folder. Point model.path at the folder that save_pretrained "
        "wrote.",
    )
    check_remote_code(name, str(folder), config, trust_remote_code)
    return config


def remote_code_error(name: str, path: str) -> ModelLoadError:
    return ModelLoadError(
        f"model {name!r}: {path} needs code shipped with the checkpoint, which is not run by "
        "default. If you trust it, set model.args.trust_remote_code=true."
    )


def check_remote_code(name: str, path: str, config: Mapping[str, Any], trust: bool) -> None:
    from transformers import CONFIG_MAPPING

    model_type = config.get("model_type")
    if trust or model_type in CONFIG_MAPPING:
        return
    if "auto_map" in config:
        raise remote_code_error(name, path)
    raise ModelLoadError(
        f"model {name!r}: model_type {model_type!r} in {path} is unknown to this transformers "
        "version; upgrade transformers."
    )


def _template(name: str, processor: Any, tokenizer: Any, override: str | None) -> str:
    if override:
        p = Path(override).expanduser()
        # A template given as a file name is read; anything else is the template itself.
        if "{" not in override and p.is_file():
            return p.read_text()
        return override
    # Some processors (BLIP-2, IDEFICS, Chameleon) keep no template; the tokenizer may have one.
    for owner in (processor, tokenizer):
        template = getattr(owner, "chat_template", None)
        if isinstance(template, str) and template:
            return template
        if isinstance(template, dict) and template.get("default"):
            return str(template["default"])
    raise ModelLoadError(
        f"model {name!r}: its processor has no chat template, so prompts cannot be formatted as "
        "the model expects. Add a chat_template.jinja to the checkpoint or set "
        "model.args.chat_template to a Jinja template (or a file holding one)."
    )


def load(
    name: str,
    path: str | None,
    revision: str | None,
    dtype: str,
    device: str,
    settings: HFSettings,
) -> Loaded:
    """Load config, processor and weights of an image-text-to-text checkpoint."""
    path, local = _resolve(name, path, settings.trust_remote_code)
    hub = {"revision": revision, "trust_remote_code": settings.trust_remote_code}
    config = _auto_config(name, path, hub)
    model_type = _check_model_type(name, path, config, settings)
    processor, tokenizer, template = _load_processor(name, path, hub, settings)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    model = _load_weights(name, path, config, dict(hub, dtype=torch_dtype), dev, settings)
    _speed_up(model, settings)
    first = next(model.parameters()).device
    return Loaded(
        name=name,
        model=model,
        processor=processor,
        tokenizer=tokenizer,
        template=template,
        device=first,
        dtype=torch_dtype,
        model_type=model_type,
        revision=_revision(path, local, revision, config),
        image_device=first if settings.process_on == "device" else None,
        positions_ahead=model_type in POSITIONS_AHEAD and computes_positions(model),
    )


def _resolve(name: str, path: str | None, trust: bool) -> tuple[str, bool]:
    """The path to load from (a checked, expanded folder or a hub id) and whether it is local."""
    if not path:
        raise ModelLoadError(
            f"model {name!r} needs a checkpoint: set model.path to a hub id (org/name) or a folder."
        )
    if not is_local(path):
        return path, False
    folder = Path(path).expanduser()
    check_folder(name, folder, trust)
    return str(folder), True


def _auto_config(name: str, path: str, hub: Mapping[str, Any]) -> Any:
    """The checkpoint's transformers config; one clear line if it cannot be read."""
    import transformers

    tf: Any = transformers  # its Auto classes are loosely typed
    try:
        return tf.AutoConfig.from_pretrained(path, **hub)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):  # a hub checkpoint with custom code
            raise remote_code_error(name, path) from exc
        raise ModelLoadError(f"model {name!r}: cannot read the config of {path}: {exc}") from exc
    except OSError as exc:
        raise ModelLoadError(
            f"model {name!r}: cannot find {path}: {quoted(exc)}. For a hub id, check the name and your "
            "network (or download it first); for a folder, check the path."
        ) from exc


def _check_model_type(name: str, path: str, config: Any, settings: HFSettings) -> str:
    """The config's model type, refused if it is not generative or the settings do not fit it."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    model_type = str(config.model_type)
    auto_map = getattr(config, "auto_map", None) or {}
    remote = settings.trust_remote_code and "AutoModelForImageTextToText" in auto_map
    if model_type not in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES and not remote:
        raise ModelLoadError(
            f"model {name!r}: {path} is a {model_type!r} model, not an image-text-to-text "
            "(generative) one. Matching models (CLIP, SigLIP) and captioners have their own "
            "model names."
        )
    reason = vision_attention.check_model(settings.vision_attention, model_type)
    if reason:
        raise ModelLoadError(f"model {name!r}: {reason}")
    if settings.compile == "vision" and model_type not in vision_attention.SUPPORTED:
        known = ", ".join(sorted(vision_attention.SUPPORTED))
        raise ModelLoadError(
            f"model {name!r}: args.compile=vision is for vision towers built of blocks ({known}); "
            f"this is a {model_type!r} model. Leave compile at none."
        )
    return model_type


def _load_processor(
    name: str, path: str, hub: Mapping[str, Any], settings: HFSettings
) -> tuple[Any, Any, str]:
    """The processor, its tokenizer (set up to pad batches on the left) and the chat template."""
    import transformers

    tf: Any = transformers
    try:
        processor = tf.AutoProcessor.from_pretrained(path, **hub)
    except Exception as exc:  # tokenizer and image-processor loaders raise many types
        raise ModelLoadError(f"model {name!r}: cannot load the processor of {path}: {exc}") from exc
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None:
        raise ModelLoadError(f"model {name!r}: the processor of {path} has no tokenizer.")
    template = _template(name, processor, tokenizer, settings.chat_template)
    check_process_on(name, settings, processor)
    # Decoder-only generation in batches needs padding on the left; pad with EOS if no pad token.
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return processor, tokenizer, template


def _load_weights(
    name: str, path: str, config: Any, hub: Mapping[str, Any], dev: str, settings: HFSettings
) -> Any:
    """The model with its weights, on `dev` (or spread by `device_map`), in eval mode."""
    import transformers

    tf: Any = transformers
    kwargs: dict[str, Any] = dict(hub, attn_implementation=settings.attn_implementation)
    if settings.device_map is not None:
        kwargs["device_map"] = settings.device_map
    try:
        model, info = tf.AutoModelForImageTextToText.from_pretrained(
            path, config=config, output_loading_info=True, **kwargs
        )
    except Exception as exc:  # missing or corrupt weights, unsupported attention kernel, …
        raise ModelLoadError(f"model {name!r}: cannot load the weights of {path}: {exc}") from exc
    missing = sorted(info.get("missing_keys") or ())
    if missing and not settings.allow_missing_weights:
        # transformers only warns: the model would answer with random weights in their place.
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ModelLoadError(
            f"model {name!r}: {path} lacks {len(missing)} weight(s) of "
            f"{type(model).__name__} ({shown}), so the checkpoint does not match the model "
            "class; check model.path, or set model.args.allow_missing_weights=true to run with "
            "those weights randomly initialised."
        )
    if "device_map" not in kwargs:
        model.to(dev)
    model.eval()
    return model


def _speed_up(model: Any, settings: HFSettings) -> None:
    """Batched vision attention and a compiled vision tower, where the settings ask for them."""
    if settings.vision_attention == "batched":
        vision_attention.use_batched(model)
    if settings.compile == "vision":
        compile_vision(model)


def _revision(path: str, local: bool, revision: str | None, config: Any) -> str | None:
    """For a folder the hash of its files, else the revision asked for or resolved (commit)."""
    if local:
        return "local:" + checkpoint_hash(Path(path))
    resolved = revision or getattr(config, "_commit_hash", None)
    return str(resolved) if resolved is not None else None


POSITIONS_AHEAD = frozenset({"qwen2_vl", "qwen2_5_vl"})
"""Model types whose position ids the tests check are computed ahead exactly as `generate`
computes them (`_hf_inputs.with_positions`)."""


def computes_positions(model: Any) -> bool:
    """Whether `model`'s `generate` computes position ids with a method of its own (models
    with multimodal RoPE override transformers': theirs walks each sample's tokens and images
    in Python)."""
    from transformers import GenerationMixin

    name = "_prepare_position_ids_for_generation"
    own = getattr(type(model), name, None)
    return own is not None and own is not getattr(GenerationMixin, name, None)


def compile_vision(model: Any) -> None:
    """`torch.compile` each block of the vision tower (`args.compile=vision`), in place.

    The blocks share their code, so one compilation serves all of them; a batch of another
    shape compiles again once, then with dynamic shapes. The attention call itself stays as
    configured (`vision_attention`); what compiling gains is the element-wise work around the
    matrix products (norms, the rotary embedding, the activation) fused into fewer passes.
    """
    for block in model.model.visual.blocks:
        block.compile(backend=COMPILE_BACKEND)
