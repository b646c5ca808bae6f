"""Every config in every group composes into a run spec whose names and settings the harness
knows: a config that names a renamed model, a removed benchmark or a misspelt setting fails here,
not on a user's machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalharness import registry
from evalharness.cli.config import configs_dir, register_schemas
from evalharness.cli.hydra_app import to_run_spec
from evalharness.runner.job import load_benchmark
from evalharness.runner.spec import RunSpec


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(configs_dir()) / group).glob("*.yaml"))


def compose(*overrides: str, hydra: bool = False) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register_schemas()
    with initialize_config_dir(str(configs_dir()), version_base=None):
        return hydra_compose("config", overrides=list(overrides), return_hydra_config=hydra)


def spec_of(*overrides: str) -> RunSpec:
    spec = to_run_spec(compose(*overrides))
    assert isinstance(spec, RunSpec)
    return spec


def check(spec: RunSpec) -> None:
    assert spec.model.name in registry.models.names()
    for bench in spec.benchmarks:
        load_benchmark(bench)  # a known name whose every setting is one its class takes


@pytest.mark.parametrize("name", options("model"))
def test_each_model_config_composes(name: str) -> None:
    cfg = compose(f"model={name}", "benchmark=synth_vqa")
    path = [] if cfg.model.path != "???" else ["model.path=some/checkpoint"]  # the user's to give
    spec = spec_of(f"model={name}", "benchmark=synth_vqa", *path)
    check(spec)
    assert spec.model.name == cfg.model.name


@pytest.mark.parametrize("name", options("benchmark"))
def test_each_benchmark_config_composes(name: str) -> None:
    spec = spec_of(f"benchmark={name}")
    check(spec)
    assert [b.name for b in spec.benchmarks] == [name]


@pytest.mark.parametrize("name", options("suite"))
def test_each_suite_config_composes(name: str) -> None:
    spec = spec_of(f"suite={name}")
    check(spec)
    assert len(spec.benchmarks) >= 2


@pytest.mark.parametrize("name", options("sweep"))
def test_each_sweep_preset_composes_every_job(name: str) -> None:
    params = compose(f"sweep={name}", hydra=True).hydra.sweeper.params
    assert params, f"sweep {name} sweeps nothing"
    jobs = [[]]  # every combination of the swept values, as the basic sweeper makes them
    for key, values in params.items():
        jobs = [[*job, f"{key}={v}"] for job in jobs for v in str(values).split(",")]
    specs = [spec_of(f"sweep={name}", *job) for job in jobs]
    assert {s.model.name for s in specs} <= set(registry.models.names())
    check(specs[0])  # the benchmarks are the preset's own, the same in every job
    assert all(s.benchmarks == specs[0].benchmarks for s in specs)
