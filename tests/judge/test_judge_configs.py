"""Every judge config composes into a judge spec of a registered model; without one, none."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalharness import registry
from evalharness.cli.config import configs_dir, register_schemas
from evalharness.cli.hydra_app import to_run_spec


def spec_of(*overrides: str):  # type: ignore[no-untyped-def]
    from hydra import compose, initialize_config_dir

    register_schemas()
    with initialize_config_dir(str(configs_dir()), version_base=None):
        return to_run_spec(compose("config", overrides=["benchmark=synth_vqa", *overrides]))


@pytest.mark.parametrize("name", sorted(p.stem for p in (configs_dir() / "judge").glob("*.yaml")))
def test_each_judge_config_composes(name: str) -> None:
    given = ["judge.model.path=some/model"] if name in ("hf", "openai") else []
    if name == "openai":
        given.append("judge.model.args.base_url=http://127.0.0.1:9/v1")
    spec = spec_of(f"judge={name}", *given, "judge.agreement=0.25")
    assert spec.judge is not None
    assert spec.judge.model.name in registry.models.names()
    assert spec.judge.agreement == 0.25


def test_no_judge_by_default() -> None:
    assert spec_of().judge is None


def test_judge_model_args_are_free(tmp_path: Path) -> None:
    spec = spec_of("judge=openai", "judge.model.path=m", "judge.model.args.base_url=http://x/v1")
    assert spec.judge is not None and spec.judge.model.args["base_url"] == "http://x/v1"
