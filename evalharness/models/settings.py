"""Model settings (`model.args`) as frozen dataclasses, parsed once where a model is built.

Each model route declares one dataclass: a field per setting, its default written once, and a
docstring right below the field saying what it does (`evalharness list NAME` prints them, as it
does for benchmarks). `parse` turns the raw mapping from the config into that type and refuses,
in one line that names the setting:

- an unknown key, with the closest known one;
- a boolean that is not a clear yes or no: true/yes/on/1 and false/no/off/0 (any case) and YAML
  booleans are read; anything else is refused, so `trust_remote_code=no` can never mean yes;
- a value outside a `Literal`'s options (an enum), a number below its bound (`least`), text
  where a mapping is wanted and the like.

A check across settings goes in the dataclass's `__post_init__`, raising `ValueError` with the
message (without the model's name, which `parse` puts in front).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from evalharness.models.base import ModelLoadError, ModelSpec

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")

ProcessAhead = Literal["auto"] | bool
"""`process_ahead`: auto (on a GPU, not on a CPU), or a yes or no."""


def least(bound: float) -> dict[str, float]:
    """Field metadata: the smallest value a number setting takes (`field(metadata=least(1))`)."""
    return {"least": bound}


@dataclasses.dataclass(frozen=True)
class NoSettings:
    """The settings of a model that takes none."""


@dataclasses.dataclass(frozen=True)
class WithProcessAhead:
    """The setting of the models whose input work can run ahead of their device work."""

    process_ahead: ProcessAhead = "auto"
    """Run the input work (processor, image transforms) for the runner's next batch while this
    one runs on the device: auto (on a GPU, not on a CPU, where both would share the cores),
    true or false."""

    def runs_ahead(self, device: str) -> bool:
        """`process_ahead` for a model on `device`: auto means not on a CPU."""
        if self.process_ahead == "auto":
            return not str(device).startswith("cpu")
        return bool(self.process_ahead)


def takes(settings: type) -> Callable[[F], F]:
    """Mark a model factory (a function) with the settings type it parses, for `settings_type`."""

    def mark(factory: F) -> F:
        factory.settings_type = settings  # type: ignore[attr-defined]
        return factory

    return mark


def settings_type(factory: Any) -> type | None:
    """The settings dataclass a registered model factory parses, or None if it declares none
    (a plugin may read `spec.args` its own way)."""
    found = getattr(factory, "settings_type", None)
    return found if isinstance(found, type) and dataclasses.is_dataclass(found) else None


def parse(cls: type[T], spec: ModelSpec, error: type[Exception] = ModelLoadError) -> T:
    """`spec.args` as a `cls`; a bad setting raises `error` with one line naming it."""
    try:
        return cls(**check(cls, spec.args))
    except (_Refused, ValueError) as exc:  # ValueError: a check across settings (`__post_init__`)
        raise error(f"model {spec.name!r}: {exc}") from None


def check_given(
    cls: type,
    args: Mapping[str, Any],
    owner: str,
    error: type[Exception] = ModelLoadError,
    unread: Collection[str] = (),
) -> None:
    """Check the settings given so far (command-line overrides, say) one by one, without
    building the whole; `error` names the first bad one. Values of the keys in `unread` are not
    known yet (Hydra resolves them): only their names are checked."""
    try:
        check(cls, args, unread)
    except _Refused as exc:
        raise error(f"{owner}: {exc}") from None


def check(cls: type, args: Mapping[str, Any], unread: Collection[str] = ()) -> dict[str, Any]:
    """Each setting of `args` converted to its field's type; `_Refused` for a bad one."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, args)) - set(fields))
    if unknown:
        raise _Refused(unknown_message(unknown, list(fields)))
    hints = typing.get_type_hints(cls)
    out = {}
    for name, value in args.items():
        if name not in unread:
            field = fields[str(name)]
            out[str(name)] = convert(str(name), hints[field.name], value, field.metadata)
    return out


def unknown_message(unknown: list[str], known: list[str]) -> str:
    """One line: each unknown setting with the closest known one, then the known ones."""
    import difflib

    if not known:
        return f"takes no model.args settings; got {', '.join(map(repr, unknown))}."
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return (
        f"unknown args {', '.join(hints)}. Known args: {', '.join(sorted(known))} "
        "(`evalharness list MODEL` says what each does)."
    )


class _Refused(Exception):
    """A setting's value does not fit its type; the message says what it takes."""


def convert(name: str, hint: Any, value: Any, metadata: Mapping[str, Any] | None = None) -> Any:
    """`value` as `hint` (the field's type), or `_Refused` naming `args.NAME` and what it takes."""
    options = choices(hint)
    if options is not None:
        found = _choose(hint, value)
        if found is _NO:
            raise _Refused(f"args.{name} must be {_either(options)}, not {value!r}{_truths(hint)}")
        return found
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        if value is None and len(inner) < len(get_args(hint)):
            return None
        if len(inner) == 1:
            return convert(name, inner[0], value, metadata)
    if hint is Any:
        return value
    if hint is str:
        if isinstance(value, str) or (isinstance(value, int | float) and not _is_bool(value)):
            return str(value)
        raise _Refused(f"args.{name} must be text, not {value!r}")
    if hint in (int, float):
        return _number(name, hint, value, (metadata or {}).get("least"))
    if origin is not None and origin in (Mapping, dict, typing.Mapping):
        if isinstance(value, Mapping):
            return dict(value)
        raise _Refused(f"args.{name} must be a mapping, got {value!r}")
    raise TypeError(f"setting {name!r}: the type {hint!r} has no parser")  # a bug, not input


_NO = object()


def choices(hint: Any) -> list[str] | None:
    """The values an enum-like type (a `Literal`, a bool or a union of them, maybe with None)
    takes, as written on the command line; None for other types."""
    if hint is bool:
        return ["true", "false"]
    if get_origin(hint) is Literal:
        return [_spelt(v) for v in get_args(hint)]
    if get_origin(hint) in (Union, types.UnionType):
        parts = [choices(a) if a is not type(None) else ["null"] for a in get_args(hint)]
        if all(p is not None for p in parts):
            return [v for p in parts if p is not None for v in p]
    return None


def _choose(hint: Any, value: Any) -> Any:
    if hint is bool:
        return _boolean(value)
    if hint is type(None):
        return None if value is None else _NO
    if get_origin(hint) is Literal:
        for option in get_args(hint):
            if value == option and _is_bool(value) == _is_bool(option):
                return option
        return _NO
    for part in get_args(hint):  # a union: the first part that takes the value
        found = _choose(part, value)
        if found is not _NO:
            return found
    return _NO


def _boolean(value: Any) -> Any:
    if _is_bool(value):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE:
            return True
        if word in FALSE:
            return False
    return _NO


def _number(name: str, kind: type, value: Any, bound: float | None) -> Any:
    out: Any = None
    if not _is_bool(value):
        try:
            out = float(value) if kind is int and isinstance(value, float) else kind(value)
        except (TypeError, ValueError):
            out = None
    if isinstance(out, float) and (
        not math.isfinite(out) or (kind is int and not out.is_integer())
    ):
        out = None
    if out is None or (bound is not None and out < bound):
        what = "a whole number" if kind is int else "a number"
        at_least = f" of at least {bound:g}" if bound is not None else ""
        raise _Refused(f"args.{name} must be {what}{at_least}, got {value!r}")
    return int(out) if kind is int else out


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _spelt(value: Any) -> str:
    return str(value).lower() if _is_bool(value) else str(value)


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _truths(hint: Any) -> str:
    """The other spellings of true and false, for a type that takes a boolean."""
    if "true" in (choices(hint) or []):
        return " (yes/no, on/off and 1/0 are read as true/false too)"
    return ""


def describe(cls: type) -> list[tuple[str, str, str]]:
    """(name, default, allowed values or "") for each field of a settings dataclass."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "(required)"
        options = choices(hints[f.name])
        out.append((f.name, default, " | ".join(options) if options else ""))
    return out


def check_settings(spec: ModelSpec) -> None:
    """Parse `spec.args` with the settings type of the registered model `spec.name` (when it
    declares one), so a bad setting is refused before any benchmark or weights load."""
    from evalharness import registry

    cls = settings_type(registry.models.get(spec.name))
    if cls is not None:
        parse(cls, spec)
