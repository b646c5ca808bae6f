"""The model protocol: a model receives a batch of requests and returns one prediction each.

The model owns batching (sorting by length, padding, splitting on out-of-memory), so the runner
hands it whole batches and gets predictions back in request order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from evalharness.errors import EvalharnessError, did_you_mean
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


FamilyGroup = Literal[
    "generative", "contrastive", "masking", "captioner", "api", "reference", "unknown"
]
"""The kind of model, as the board groups them: a generative VLM, an image-text matching model
(`masking`: one trained with masked modelling too, such as FLAVA), an image captioner, a model
behind an API, a reference model (oracle, prior, random), or `unknown`."""

FAMILY_GROUPS: tuple[FamilyGroup, ...] = get_args(FamilyGroup)


class ModelInfoError(EvalharnessError, ValueError):
    """A `ModelInfo` was given a value it cannot hold; the message names the field."""


@dataclass(frozen=True)
class ModelInfo:
    """What the board shows of a model: its kind, its size and, optionally, its name.

    None of it is part of the run key: a model whose info changes (a corrected parameter count)
    keeps its stored answers. What can change an answer belongs in `Model.identity()` instead.
    """

    family_group: FamilyGroup = "unknown"
    params: int | None = None
    """The number of parameters; None when unknown (an API model)."""
    display_name: str | None = None
    """The board's name for the model when the config gives no `model.label`; None (the usual
    case): its path or hub id, else its registry name (`ModelSpec.display_name`)."""

    def __post_init__(self) -> None:
        if self.family_group not in FAMILY_GROUPS:
            raise ModelInfoError(
                f"ModelInfo: family_group {self.family_group!r} is not a known kind."
                + did_you_mean(str(self.family_group), list(FAMILY_GROUPS))
            )
        if self.params is not None and (
            isinstance(self.params, bool) or not isinstance(self.params, int) or self.params < 0
        ):
            raise ModelInfoError(
                f"ModelInfo: params must be a whole number of parameters (0 or more) or None, "
                f"not {self.params!r}."
            )
        if self.display_name is not None and (
            not isinstance(self.display_name, str) or not self.display_name.strip()
        ):
            raise ModelInfoError(
                f"ModelInfo: display_name must be a non-empty name or None, "
                f"not {self.display_name!r}."
            )


@runtime_checkable
class Model(Protocol):
    capabilities: frozenset[Capability]
    reference: bool
    """Reference models (oracle, prior, random) are marked apart on the board."""

    def identity(self) -> dict[str, Any]:
        """Everything that can change an answer: path or hub id, revision or weights hash,
        dtype, the settings that reach the model (prompt template, image size limit, …).

        Part of the run key: change any of it and the samples are asked again. Nothing that
        only describes the model belongs here (its kind, its size): that is `info()`.
        """
        ...

    def info(self) -> ModelInfo:
        """What the board shows of the model: its kind, its parameter count, optionally its
        name. Not part of the run key: it can change without asking anything again.

        A model written before `info()` existed still runs: its identity's `family_group` and
        `params`, where it has them, stand in for it (else an `unknown` family, no size).
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
