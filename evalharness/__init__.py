"""evalharness: evaluate vision-language models and publish a static leaderboard.

The public API, importable from here: the core types a benchmark and a model speak (`Sample`,
`Request`, `Prediction`, `Scored`, …), the benchmark base (`BaseBenchmark`, `version_string`), the
model protocol (`Model`, `ModelInfo`, `ModelSpec`, `ModelUnavailableError`), answer extraction
(`extract`) and the results readers (`load_runs`, `load_samples`, `restore_text`). Plugins need
nothing else; everything under a module whose name starts with `_`, and every name not listed
here, may change.

The package import is light: each name loads its module on first use, and heavy libraries (torch,
transformers, pandas) load only when a model or a reader needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from evalharness._version import __version__

if TYPE_CHECKING:
    from evalharness import extract
    from evalharness.benchmarks.base import (
        BaseBenchmark,
        Benchmark,
        BenchmarkSettingError,
        version_string,
    )
    from evalharness.errors import EvalharnessError
    from evalharness.models.base import (
        Model,
        ModelInfo,
        ModelLoadError,
        ModelSpec,
        ModelUnavailableError,
    )
    from evalharness.store import load_runs, load_samples, restore_text
    from evalharness.types import (
        EncodedImage,
        FileImage,
        GenerationSettings,
        PILImageSource,
        Prediction,
        RenderedImage,
        Request,
        Sample,
        Scored,
    )

_WHERE = {
    "extract": "evalharness.extract",
    "BaseBenchmark": "evalharness.benchmarks.base",
    "Benchmark": "evalharness.benchmarks.base",
    "BenchmarkSettingError": "evalharness.benchmarks.base",
    "version_string": "evalharness.benchmarks.base",
    "EvalharnessError": "evalharness.errors",
    "Model": "evalharness.models.base",
    "ModelInfo": "evalharness.models.base",
    "ModelLoadError": "evalharness.models.base",
    "ModelSpec": "evalharness.models.base",
    "ModelUnavailableError": "evalharness.models.base",
    "load_runs": "evalharness.store",
    "load_samples": "evalharness.store",
    "restore_text": "evalharness.store",
    "EncodedImage": "evalharness.types",
    "FileImage": "evalharness.types",
    "GenerationSettings": "evalharness.types",
    "PILImageSource": "evalharness.types",
    "Prediction": "evalharness.types",
    "RenderedImage": "evalharness.types",
    "Request": "evalharness.types",
    "Sample": "evalharness.types",
    "Scored": "evalharness.types",
}

__all__ = [
    "BaseBenchmark",
    "Benchmark",
    "BenchmarkSettingError",
    "EncodedImage",
    "EvalharnessError",
    "FileImage",
    "GenerationSettings",
    "Model",
    "ModelInfo",
    "ModelLoadError",
    "ModelSpec",
    "ModelUnavailableError",
    "PILImageSource",
    "Prediction",
    "RenderedImage",
    "Request",
    "Sample",
    "Scored",
    "__version__",
    "extract",
    "load_runs",
    "load_samples",
    "restore_text",
    "version_string",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'evalharness' has no attribute {name!r}")
    module = import_module(where)
    value = module if where == f"evalharness.{name}" else getattr(module, name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
