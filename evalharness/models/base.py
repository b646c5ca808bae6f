"""The model protocol: a model receives a batch of requests and returns one prediction each.

The model owns batching (sorting by length, padding, splitting on out-of-memory), so the runner
hands it whole batches and gets predictions back in request order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from evalharness.errors import EvalharnessError
from evalharness.types import Capability, Prediction, Request, Sample


class ModelLoadError(EvalharnessError, RuntimeError):
    """A model could not be loaded; the message names the model and what to do about it."""


class ModelUnavailableError(EvalharnessError, RuntimeError):
    """The model cannot answer anything now (its server is down, say).

    Raised from `predict`, it stops the run instead of failing one batch: the answers so far are
    kept, and the same command run again goes on from them. Any other exception fails only the
    batch's samples, which is right for a bad input but would record every remaining sample of
    a long run as an error when nothing can answer them.
    """


@dataclass(frozen=True)
class ModelSpec:
    """Everything that picks and configures a model; built once from the config."""

    name: str
    """Registry name (`oracle`, `hf`, `tiny_llava`, …)."""
    label: str = ""
    """Display name on the board; by default the model's path or hub id (`default_label`), or
    the registry name for a model without one."""
    path: str | None = None
    """Hub id or local folder, for models that load weights."""
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    args: Mapping[str, Any] = field(default_factory=dict)
    """Family-specific settings (attention implementation, image size limits, API URL, …)."""
    seed: int = 0
    batch_size: int = 8

    @property
    def display_name(self) -> str:
        return self.label or default_label(self.name, self.path, self.revision)


def default_label(name: str, path: str | None, revision: str | None = None) -> str:
    """The board's name for a model given no label: a hub id as it is (`org/name`), a folder by
    its last part (`/ckpt/llava-7b` → `llava-7b`) or, when that part is a generic one such as
    `checkpoint-500` or `final`, by its last two (`run3/checkpoint-500`); a snapshot in the hub's
    cache by its hub id and commit; then `@revision` when one is pinned. Without a path, the
    registry name. Models of one route but different paths (`model=hf model.path=a,b`) so get
    labels of their own."""
    if not path or path == "???":
        return name
    text = path.rstrip("/\\")
    cached = _HUB_CACHE.search(text)  # a snapshot in the hub's cache: the id and the commit
    if cached:
        return f"{cached['org']}/{cached['name']}@{revision or cached['commit'][:8]}"
    local = text.startswith(("/", ".", "~")) or "\\" in text or text.count("/") > 1
    if local:
        parts = [p for p in re.split(r"[/\\]", text) if p not in ("", ".", "..", "~")]
        keep = 2 if parts and _GENERIC.fullmatch(parts[-1]) else 1
        text = "/".join(parts[-keep:]) or text
    return f"{text}@{revision}" if revision else text


_HUB_CACHE = re.compile(
    r"models--(?P<org>[^/\\]+?)--(?P<name>[^/\\]+)[/\\]snapshots[/\\](?P<commit>\w+)$"
)
_GENERIC = re.compile(
    r"(checkpoint|ckpt|step|global_step|epoch|iter|iteration)[-_]?\d+|final|latest|best|last|"
    r"model|hf|weights",
    re.IGNORECASE,
)


@runtime_checkable
class Model(Protocol):
    capabilities: frozenset[Capability]
    reference: bool
    """Reference models (oracle, prior, random) are marked apart on the board."""

    def identity(self) -> dict[str, Any]:
        """What exactly this model is: path or hub id, revision or weights hash, dtype, kwargs.

        Part of the resume key: change any of it and the samples are recomputed.
        """
        ...

    def predict(self, requests: Sequence[Request]) -> list[Prediction]: ...


@runtime_checkable
class Fittable(Protocol):
    """Optional: a model that looks at a benchmark's samples before answering (the prior baseline).

    The runner calls `fit` before `identity`: the identity must then name what the model learnt
    (a hash of it will do), since it keys the stored answers; fitted on other samples, a model
    that answers differently must not take over the answers it gave before.
    """

    def fit(self, samples: Sequence[Sample]) -> None: ...


@runtime_checkable
class Preparing(Protocol):
    """Optional: a model whose input work can run ahead of its device work.

    `prepare` does what needs no accelerator (chat templates, image processing, tokenizing) and
    returns a call that runs the model on the prepared inputs; the call returns exactly what
    `predict(requests)` would. The runner prepares the next batch on a worker thread while the
    model answers the current one, so `prepare` must be safe to run beside the returned calls of
    earlier batches.
    """

    def prepare(self, requests: Sequence[Request]) -> Callable[[], list[Prediction]]: ...
