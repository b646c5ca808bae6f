"""What produced a number: harness version and commit, library versions, device."""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from evalharness._version import __version__

LIBRARIES = (
    "torch",
    "torchvision",
    "transformers",
    "tokenizers",
    "numpy",
    "pandas",
    "pyarrow",
    "pillow",
    "hydra-core",
    "pycocoevalcap",
)


@functools.cache
def harness_commit() -> str:
    """The git commit of the source checkout evalharness runs from ('' when not a checkout)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if out.returncode != 0:
        return ""
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


@functools.cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "evalharness": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def device_name() -> str:
    """The accelerator in use, without importing torch when no model has imported it."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return f"cuda:0 ({torch.cuda.get_device_name(0)})"
    return f"cpu ({platform.machine()})"
