"""Fingerprints of local checkpoints: what pins a folder's model in a run's key.

A local folder has no hub revision, so its content stands in for one. Everything in it that can
change an answer counts: the weights, and as much the configs (config.json,
generation_config.json), the tokenizer, processor and chat-template files and any code shipped
with the checkpoint. Editing any of them gives a new fingerprint, so stored answers of the old
folder are not taken for the new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

WEIGHT_SUFFIXES = frozenset(
    {".safetensors", ".bin", ".pth", ".pt", ".ckpt", ".gguf", ".msgpack", ".h5", ".npz", ".onnx"}
)
"""Files that may be large and are sampled rather than read whole (see `files_hash`)."""

_DOCS = frozenset({".md", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
_NOTICES = ("LICENSE", "LICENCE", "NOTICE", "COPYING")


def answer_files(folder: Path) -> list[Path]:
    """The files of a checkpoint folder that can change an answer: every file at its top level
    (where `from_pretrained` reads) except hidden ones (download caches, build markers), the
    model card, its pictures and licence texts."""
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or path.suffix.lower() in _DOCS or not path.is_file():
            continue
        if name.upper().startswith(_NOTICES):
            continue
        out.append(path)
    return out


def checkpoint_hash(folder: Path) -> str:
    """A fast fingerprint of a checkpoint folder: `files_hash` of its `answer_files`."""
    return files_hash(answer_files(folder))


def files_hash(files: Sequence[Path]) -> str:
    """A fast fingerprint of files: names, sizes and content of each.

    Weight files over 8 MiB are hashed by their safetensors header (tensor names, shapes,
    offsets) plus 64 KiB blocks at 16 evenly spaced offsets, so hashing a 15 GB checkpoint reads
    about 1 MiB per file; every other file is hashed whole.
    """
    h = hashlib.sha256()
    block, samples = 1 << 16, 16
    for f in files:
        size = f.stat().st_size
        h.update(f"{f.name}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= 8 << 20 or f.suffix.lower() not in WEIGHT_SUFFIXES:
                h.update(fh.read())
                continue
            if f.suffix == ".safetensors":
                header_len = int.from_bytes(fh.read(8), "little")
                h.update(fh.read(min(header_len, 16 << 20)))
            for i in range(samples):
                fh.seek((size - block) * i // (samples - 1))
                h.update(fh.read(block))
    return h.hexdigest()[:16]
