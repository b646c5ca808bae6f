"""The model protocol: a model receives a batch of requests and returns one prediction each.

The model owns batching (sorting by length, padding, splitting on out-of-memory), so the runner
hands it whole batches and gets predictions back in request order.
"""

from __future__ import annotations

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
    """Display name on the board; defaults to the registry name."""
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
        return self.label or self.name


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
