"""A model's display info, for models written before `Model.info()` and the run keys they had.

Until `Model.info()`, a model's kind and size travelled in its identity (`family_group`,
`params`), so they were part of every run key. Two consequences are handled here:

- A plugin model without `info()` still runs: `info_of` reads those two fields from its
  identity (a kind it does not name, or no identity field at all, is `unknown`). Its identity
  still holds them, so its run keys are what they were.
- A built-in model's identity no longer holds them, so its run keys changed. `former_identity`
  gives back the identity as those keys hashed it, which lets a run take over the answers
  stored under its former key (`runner._reuse.older_answers`) and a judge its cached verdicts,
  instead of asking the model again after an upgrade. This works because every built-in route's
  `info()` reports exactly the kind and size its identity held; change one and the runs of that
  route stored before `info()` are asked again.
"""

from __future__ import annotations

from typing import Any

from evalharness.errors import EvalharnessError
from evalharness.models.base import FAMILY_GROUPS, Model, ModelInfo

DISPLAY_FIELDS = ("family_group", "params")
"""The identity fields that were display info before `Model.info()`."""


def info_of(model: Model) -> ModelInfo:
    """The model's `info()`; for a model without one, what its identity says of its kind and
    size (an unknown kind without them)."""
    info = getattr(model, "info", None)
    if callable(info):
        got = info()
        if not isinstance(got, ModelInfo):
            raise EvalharnessError(
                f"model {type(model).__name__}: info() returned {type(got).__name__}, not an "
                "evalharness.ModelInfo."
            )
        return got
    identity = model.identity()
    family = identity.get("family_group")
    params = identity.get("params")
    return ModelInfo(
        family if family in FAMILY_GROUPS else "unknown",
        params
        if isinstance(params, int) and not isinstance(params, bool) and params >= 0
        else None,
    )


def former_identity(model: Model, identity: dict[str, Any]) -> dict[str, Any] | None:
    """The identity the model's runs were keyed by before `info()`: `identity` with the
    info's `family_group`, and its `params` when known. None when that is `identity` itself (a
    model without `info()`, or one whose identity still names its kind)."""
    if not callable(getattr(model, "info", None)) or any(f in identity for f in DISPLAY_FIELDS):
        return None
    info = info_of(model)
    former = {**identity, "family_group": info.family_group}
    if info.params is not None:
        former["params"] = info.params
    return former
