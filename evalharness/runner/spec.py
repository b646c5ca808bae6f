"""The run spec: one model against a list of benchmarks, as plain typed values.

The Hydra config is turned into a `RunSpec` once, at the edge; nothing below the CLI sees Hydra.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalharness.extract import DEFAULT_REASONING_TAGS, TagPair
from evalharness.models.base import ModelSpec

if TYPE_CHECKING:
    from evalharness.judge import JudgeSpec


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Shard:
    """One of `count` parts of every run's samples (`shard=INDEX shards=COUNT`, or a rank of
    torchrun/accelerate): a data-parallel worker answers its part, into the shared store."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"shard {self.index + 1} of {self.count}"

    @property
    def tag(self) -> str:
        """Names the store parts this shard writes."""
        return f"s{self.index}of{self.count}"


@dataclass(frozen=True)
class RunSpec:
    model: ModelSpec
    benchmarks: tuple[BenchmarkSpec, ...]
    results_dir: str = "results"
    limit: int | None = None
    batch_size: int = 8
    seed: int = 0
    blind: bool = False
    max_error_rate: float = 0.1
    """The job fails (non-zero exit) when more than this share of a run's samples error."""
    max_new_tokens: int | None = None
    """Overrides each benchmark's own `max_new_tokens` when set."""
    progress: bool = True
    flush_s: float = 1.0
    """Sample rows are written at least this often (seconds) and when a run ends; a crash loses
    at most the batch in flight and what was computed since the last write. 0 writes after
    every batch."""
    max_image_pixels: int = 40_000_000
    """An image over this many pixels (width × height, read from its header) is not decoded:
    its sample is an error row (`evalharness.images`)."""
    max_thinking_tokens: int | None = None
    """A separate budget for reasoning traces, where the model supports one (`thinking_tokens`)."""
    reasoning_tags: tuple[TagPair, ...] = DEFAULT_REASONING_TAGS
    """Tag pairs that enclose a reasoning trace: split off each reply before its answer is read."""
    judge: JudgeSpec | None = None
    """The judge model that reads what the extraction rules cannot (`evalharness.judge`)."""
    config: Mapping[str, Any] = field(default_factory=dict)
    """The resolved configuration, stored with each run for provenance."""
    shard: Shard | None = None
    """Answer only this part of each run's samples (see `runner.shards`); None: all of them."""

    @property
    def model_label(self) -> str:
        base = self.model.display_name
        return f"{base} (blind)" if self.blind else base


def stable_hash(value: Any, length: int = 16) -> str:
    blob = json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:length]
