"""Registries of models and benchmarks, filled from package entry points.

The built-ins register through `pyproject.toml` entry points exactly as third-party plugins do:
`evalharness.models` and `evalharness.benchmarks`. Names are listed without importing anything;
a plugin is imported only when used, and a broken one warns instead of breaking the core.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from evalharness.errors import EvalharnessError, did_you_mean

if TYPE_CHECKING:  # the registries load no plugin code until a name is used
    from evalharness.benchmarks.base import Benchmark
    from evalharness.models.base import Model

T = TypeVar("T")

MODELS_GROUP = "evalharness.models"
BENCHMARKS_GROUP = "evalharness.benchmarks"


class UnknownNameError(EvalharnessError, LookupError):
    """A name not in a registry; the message suggests the closest names."""


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._extra: dict[str, Callable[..., T]] = {}
        self._loaded: dict[str, Callable[..., T]] = {}
        self._scanned: tuple[tuple[tuple[str, int], ...], dict[str, EntryPoint]] | None = None

    def _entry_points(self) -> dict[str, EntryPoint]:
        # Scanning every installed distribution takes tens of milliseconds, and listing asks
        # once per name. The answer changes only with the import path or with what is installed
        # in its folders (an install changes the folder's modification time), so it is kept
        # until one of those changes.
        key = tuple((folder, _mtime(folder)) for folder in sys.path)
        if self._scanned is None or self._scanned[0] != key:
            self._scanned = (key, {ep.name: ep for ep in entry_points(group=self.group)})
        return self._scanned[1]

    def names(self) -> list[str]:
        return sorted(set(self._entry_points()) | set(self._extra))

    def register(self, name: str, factory: Callable[..., T]) -> None:
        """Register in-process (tests, notebooks); packages use entry points instead."""
        self._extra[name] = factory

    def get(self, name: str) -> Callable[..., T]:
        """The factory for `name`.

        A name `prefix:rest` (`lmms:vqav2`) that is not registered itself goes to the factory
        registered as `prefix`, whose `for_name(rest)` returns the factory for `rest`: one entry
        (a bridge to another harness, say) can stand for an open-ended family of names.
        """
        if name in self._extra:
            return self._extra[name]
        if name in self._loaded:
            return self._loaded[name]
        eps = self._entry_points()
        prefix, sep, rest = name.partition(":")
        if name not in eps and sep and rest and prefix in set(eps) | set(self._extra):
            bind = getattr(self.get(prefix), "for_name", None)
            if bind is not None:
                return cast(Callable[..., T], bind(rest))
        if name not in eps:
            raise UnknownNameError(
                f"Unknown {self.kind} {name!r}.{did_you_mean(name, self.names())}"
            )
        factory: Callable[..., T] = eps[name].load()
        self._loaded[name] = factory
        return factory

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        return self.get(name)(*args, **kwargs)

    def summary(self, name: str) -> str:
        """The entry's one-line description: its `description`, else its docstring's first line."""
        obj = self.get(name)
        doc = (getattr(obj, "description", "") or (obj.__doc__ or "")).strip()
        return doc.splitlines()[0] if doc else ""

    def describe(self) -> list[tuple[str, str]]:
        """(name, one-line description) for each entry; broken plugins are reported, not raised."""
        out = []
        for name in self.names():
            try:
                out.append((name, self.summary(name)))
            except Exception as exc:  # a broken plugin must not break listing
                warnings.warn(f"{self.kind} plugin {name!r} failed to load: {exc}", stacklevel=2)
                out.append((name, f"(failed to load: {type(exc).__name__}: {exc})"))
        return out


def _mtime(folder: str) -> int:
    try:
        return os.stat(folder or ".").st_mtime_ns
    except OSError:
        return 0


models: Registry[Model] = Registry("model", MODELS_GROUP)
benchmarks: Registry[Benchmark] = Registry("benchmark", BENCHMARKS_GROUP)
