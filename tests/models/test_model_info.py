"""`Model.info()`: what the board shows of a model, apart from its identity (the run key); a
model written before `info()` still runs, its identity's kind and size standing in."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from model_helpers import FakeModel

from evalharness import ModelInfo, registry
from evalharness.errors import EvalharnessError
from evalharness.models._info import former_identity, info_of
from evalharness.models.base import ModelInfoError, ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.store import load_runs
from evalharness.types import Prediction, Request

pytestmark = pytest.mark.usefixtures("plugin_on_path")


class Echo(FakeModel):
    """Answers "yes"; a stand-in written before `info()`, its identity as given."""

    ident: dict[str, Any] = {"name": "echo"}  # noqa: RUF012 (set per test)

    def identity(self) -> dict[str, object]:
        return dict(self.ident)

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return [Prediction(text="yes") for _ in requests]


class Described(Echo):
    """The same with an `info()`."""

    described = ModelInfo("generative", 42)

    def info(self) -> ModelInfo:
        return self.described


def job(tmp_path: Path, cls: type, label: str = "", **kw: Any) -> Any:
    registry.models._extra["stand_in"] = cls
    try:
        spec = RunSpec(
            model=ModelSpec(name="stand_in", label=label),
            benchmarks=(BenchmarkSpec("example_parity", {"n": 2}),),
            results_dir=str(tmp_path / "results"),
            progress=False,
            **kw,
        )
        [result] = run_job(spec, out=io.StringIO())
    finally:
        del registry.models._extra["stand_in"]
    row = load_runs(tmp_path / "results").set_index("run_id").loc[result.run_id]
    return result, row


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"family_group": "generatve"}, "family_group 'generatve' is not a known kind. Did you"),
        ({"params": -1}, "params must be a whole number of parameters"),
        ({"params": 7.5}, "params must be a whole number of parameters"),
        ({"params": True}, "params must be a whole number of parameters"),
        ({"display_name": " "}, "display_name must be a non-empty name or None"),
    ],
)
def test_a_bad_model_info_is_refused_in_one_line(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelInfoError, match=message) as caught:
        ModelInfo(**kw)
    assert isinstance(caught.value, EvalharnessError) and "\n" not in str(caught.value)


def test_model_info_is_frozen_and_defaults_to_unknown() -> None:
    info = ModelInfo()
    assert (info.family_group, info.params, info.display_name) == ("unknown", None, None)
    with pytest.raises(AttributeError):
        info.params = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("ident", "expected"),
    [
        ({"name": "x", "family_group": "api"}, ModelInfo("api")),
        ({"name": "x", "family_group": "generative", "params": 7}, ModelInfo("generative", 7)),
        ({"name": "x", "family_group": "diffusion", "params": "7B"}, ModelInfo()),
        ({"name": "x"}, ModelInfo()),
    ],
)
def test_a_model_without_info_is_described_by_its_identity(
    ident: dict[str, Any], expected: ModelInfo
) -> None:
    model = Echo()
    model.ident = ident
    assert info_of(model) == expected  # type: ignore[arg-type]
    assert former_identity(model, ident) is None  # type: ignore[arg-type]  # its key is unchanged


def test_an_info_that_is_not_a_model_info_is_refused_in_one_line(tmp_path: Path) -> None:
    class Loose(Echo):
        def info(self) -> dict[str, Any]:
            return {"family_group": "generative"}

    with pytest.raises(EvalharnessError, match=r"^model Loose: info\(\) returned dict, not an"):
        job(tmp_path, Loose)


def test_the_run_row_shows_the_info_and_keys_the_identity(tmp_path: Path) -> None:
    result, row = job(tmp_path, Described)
    assert row["model_family"] == "generative" and row["model_params"] == 42.0
    assert json.loads(row["model_identity"]) == {"name": "echo"}
    assert row["model"] == "stand_in"  # no display name: the registry name, as before
    # the info is not part of the run key: another size is the same run, resumed
    Described.described = ModelInfo("generative", 43)
    try:
        again, row = job(tmp_path, Described)
    finally:
        Described.described = ModelInfo("generative", 42)
    assert again.run_id == result.run_id and again.n_reused == again.n_samples
    assert row["model_params"] == 43.0


def test_a_model_without_info_runs_with_its_identitys_kind_and_size(tmp_path: Path) -> None:
    Echo.ident = {"name": "echo", "family_group": "contrastive", "params": 9}
    try:
        _, row = job(tmp_path / "old", Echo)
    finally:
        Echo.ident = {"name": "echo"}
    assert row["model_family"] == "contrastive" and row["model_params"] == 9.0
    assert json.loads(row["model_identity"])["family_group"] == "contrastive"  # its key as before
    _, row = job(tmp_path / "bare", Echo)
    assert row["model_family"] == "unknown" and math.isnan(row["model_params"])


def test_a_display_name_labels_the_run_unless_the_config_does(tmp_path: Path) -> None:
    class Named(Described):
        described = ModelInfo("generative", 42, display_name="Echo 1.0")

    result, row = job(tmp_path / "a", Named)
    assert result.model == row["model"] == "Echo 1.0"
    _, row = job(tmp_path / "b", Named, blind=True)
    assert row["model"] == "Echo 1.0 (blind)"
    _, row = job(tmp_path / "c", Named, label="mine")
    assert row["model"] == "mine"
