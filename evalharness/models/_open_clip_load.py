"""Finding and checking an open_clip checkpoint: the package, folders, weights, hub revisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalharness.models._hf_load import read_config
from evalharness.models.base import ModelLoadError

CONFIG_FILE = "open_clip_config.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth")
"""The weight files open_clip looks for in a checkpoint folder."""

PRECISION = {"float32": "fp32", "bfloat16": "pure_bf16", "float16": "pure_fp16"}
"""open_clip precisions: the whole model in one dtype. Its mixed "bf16" keeps some of CoCa's
weights in float32, and CoCa's forward then fails on mismatched dtypes."""


def import_open_clip(name: str) -> Any:
    try:
        import open_clip
    except ImportError as exc:
        if not (isinstance(exc, ModuleNotFoundError) and exc.name == "open_clip"):
            raise ModelLoadError(f"model {name!r}: cannot import open_clip: {exc}") from exc
        raise ModelLoadError(
            f"model {name!r} needs open_clip, which is not installed: pip install open_clip_torch"
        ) from exc
    return open_clip


def hub_commit(repo: str) -> str | None:
    """The commit of the hub snapshot open_clip loaded, read from the local hub cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(repo, CONFIG_FILE)
    except Exception:  # no hub client or an unreadable cache: the id alone names the model
        return None
    return Path(cached).parent.name if isinstance(cached, str) else None


def check_folder(name: str, folder: Path) -> list[Path]:
    """A checkpoint folder's weight files, after checking it is an open_clip checkpoint at all."""
    if not folder.is_dir():
        raise ModelLoadError(
            f"model {name!r}: folder {folder} does not exist. Set model.path to an open_clip "
            f"checkpoint folder ({CONFIG_FILE} and weights), an hf-hub:org/name id or a model name."
        )
    read_config(
        name,
        folder,
        CONFIG_FILE,
        "so it is not an open_clip checkpoint (transformers checkpoints go to "
        "model=hf_contrastive or captioner).",
    )
    files = sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if not files:
        raise ModelLoadError(
            f"model {name!r}: {folder} has no weights file (*.safetensors, *.bin or *.pth), and "
            "open_clip would silently start from random weights; add the checkpoint's weights."
        )
    return files
