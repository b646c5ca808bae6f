"""Shared fixtures: the example plugin package installed into a temporary folder, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PLUGIN_SRC = Path(__file__).parent / "plugin_pkg"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin installed as a real package (pip, entry points) into its own folder."""
    target = tmp_path_factory.mktemp("plugin_site")
    build = tmp_path_factory.mktemp("plugin_build")
    # Build from a private copy: the build writes into the source folder, and test workers
    # running in parallel would otherwise build in the same place at once.
    source = shutil.copytree(
        PLUGIN_SRC, build / "src", ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        cwd=build,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return target


@pytest.fixture
def plugin_env(plugin_site: Path) -> dict[str, str]:
    """Environment for a subprocess that sees the example plugin."""
    path = os.pathsep.join(p for p in (str(plugin_site), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def plugin_on_path(plugin_site: Path) -> Iterator[None]:
    """The example plugin importable and its entry points visible in this process."""
    sys.path.insert(0, str(plugin_site))
    try:
        yield
    finally:
        sys.path.remove(str(plugin_site))
        for name in [m for m in sys.modules if m.startswith("evalharness_example_plugin")]:
            del sys.modules[name]


CLI = [sys.executable, "-m", "evalharness.cli.main"]

RunCLI = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path, plugin_env: dict[str, str]) -> RunCLI:
    """Run `evalharness ARGS…` in tmp_path, with the example plugin visible."""

    def run(
        *args: str, check: bool = False, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*CLI, *args],
            cwd=tmp_path,
            env={**plugin_env, "TQDM_DISABLE": "1", **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    return run


@pytest.fixture
def spoil_scores() -> Callable[[Path], str]:
    """A function that overwrites every stored score of the (single) run in a results folder
    with garbage, as a bug in scoring would; `evalharness rescore` must bring them back."""
    return _spoil_scores


def _spoil_scores(results: Path) -> str:
    from evalharness.store import ResultsStore, load_runs

    store = ResultsStore(results)
    run = load_runs(results).iloc[0].to_dict()
    store.write_run({**run, "score": -1.0, "metrics": "{}"})
    frame = store.read_samples(run["run_id"])
    frame["score"] = -1.0
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("metric_")])
    store.compact(run["run_id"], frame)
    return str(run["run_id"])
