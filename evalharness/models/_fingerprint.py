"""Fingerprints of local checkpoints: what pins a folder's model in a run's key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path


def weights_hash(folder: Path) -> str:
    """A fast fingerprint of a folder's weights (`files_hash` of its safetensors or .bin files)."""
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    return files_hash(files)


def files_hash(files: Sequence[Path]) -> str:
    """A fast fingerprint of weight files: names, sizes and sampled content of each.

    Files up to 8 MiB are hashed whole; larger ones by their safetensors header (tensor names,
    shapes, offsets) plus 64 KiB blocks at 16 evenly spaced offsets, so hashing a 15 GB
    checkpoint reads about 1 MiB per file.
    """
    h = hashlib.sha256()
    block, samples = 1 << 16, 16
    for f in files:
        size = f.stat().st_size
        h.update(f"{f.name}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= 8 << 20:
                h.update(fh.read())
                continue
            if f.suffix == ".safetensors":
                header_len = int.from_bytes(fh.read(8), "little")
                h.update(fh.read(min(header_len, 16 << 20)))
            for i in range(samples):
                fh.seek((size - block) * i // (samples - 1))
                h.update(fh.read(block))
    return h.hexdigest()[:16]
