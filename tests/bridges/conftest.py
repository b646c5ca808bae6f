"""Fixtures of the bridge tests: `datasets` caches under the test's folder, the bridge registered
in-process, a tiny Qwen2-VL, and an environment in which `evalharness` subprocesses find it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from repo_paths import REPO


def require_lmms_eval() -> None:
    """lmms-eval must be installed: a failure in CI (the test command installs the `lmms` extra),
    a skip with the reason elsewhere."""
    try:
        import lmms_eval  # noqa: F401
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"lmms-eval is not installed ({exc}); install the `lmms` extra")
        pytest.skip("lmms-eval is not installed: pip install 'evalharness[lmms]'")


@pytest.fixture(autouse=True)
def datasets_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """lmms-eval prepares datasets under this test's folder, not the user's cache."""
    cache = tmp_path / "hf-datasets"
    monkeypatch.setenv("LMMS_EVAL_DATASETS_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return cache


@pytest.fixture
def bridge_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`lmms` in both registries of this process, as the package's entry points declare it."""
    from evalharness import registry
    from evalharness.bridges.lmms import LmmsModel, LmmsTask

    monkeypatch.setitem(registry.benchmarks._extra, "lmms", LmmsTask)
    monkeypatch.setitem(registry.models._extra, "lmms", LmmsModel)
    yield


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evalharness.models import tiny

    return tiny.build("qwen2_vl", root=tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for `evalharness` subprocesses.

    The bridge's names come from the package's entry points. A source checkout whose installed
    metadata predates them gets them from a stand-in distribution on PYTHONPATH; in CI the package
    is installed from this checkout, so missing entry points fail the test instead.
    """
    from evalharness import registry

    env = {**os.environ, "TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    # the subprocesses run this checkout's code, whichever copy of evalharness is installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if "lmms" in registry.benchmarks.names() and "lmms" in registry.models.names():
        return env
    if os.environ.get("CI"):
        pytest.fail("the `lmms` entry points are not installed: reinstall evalharness")
    site = tmp_path_factory.mktemp("entry-points")
    info = site / "evalharness_lmms_entry_points-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: evalharness-lmms-entry-points\nVersion: 0\n"
    )
    (info / "entry_points.txt").write_text(
        "[evalharness.benchmarks]\nlmms = evalharness.bridges.lmms:LmmsTask\n\n"
        "[evalharness.models]\nlmms = evalharness.bridges.lmms:LmmsModel\n"
    )
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    return env
