"""How a table's columns are declared: a frozen dataclass per table, a field per column.

A field's type is the column's type (`str`, `int`, `float`, `bool`, or one of them `| None` for
a column that may hold null); `column()` gives it its meaning, the value a row stored by an
older version (without the column) reads as, and, where the runner may leave it unset when it
makes a row, its default. Column families whose names are made at run time are declared as
`Prefix`es. From the declarations come the rows the runner writes (`Record.row`), a stored row
read back (`Record.from_row`), the check that nothing undeclared is written (`check_columns`),
a read frame's columns and types (`conform`) and the schema doc (`schema_markdown`).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from evalharness.store._errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

_SCALARS = (str, int, float, bool)


def column(
    doc: str,
    *,
    default: Any = dataclasses.MISSING,
    old: Any = dataclasses.MISSING,
    json: bool = False,
) -> Any:
    """A column's field: `doc` says what it holds; `default` is its value when the runner leaves
    it unset as it makes a row (none: every row must say); `old` is what a row stored without the
    column reads as (by default "" for text, NaN, 0, False, or null for a column that may hold
    null); `json` marks text that is JSON."""
    metadata = {"doc": doc, "json": json, "old": old}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Column:
    """One declared column."""

    name: str
    type: type
    """str, int, float or bool."""
    nullable: bool
    old: Any
    """What a row stored without the column reads as."""
    doc: str
    json: bool

    @property
    def kind(self) -> str:
        """The type as the schema doc names it."""
        kind = ("JSON " if self.json else "") + self.type.__name__
        return f"{kind} or null" if self.nullable else kind


@dataclass(frozen=True)
class Prefix:
    """A family of columns named at run time: `prefix` and a name (`metric_<name>`)."""

    prefix: str
    kind: str
    doc: str
    part: str = "name"
    """What follows the prefix, as the schema doc names it."""


class Record:
    """A table's row type: subclasses are frozen dataclasses, a field per column."""

    TABLE: ClassVar[str] = ""
    PREFIXES: ClassVar[tuple[Prefix, ...]] = ()

    def row(self) -> dict[str, Any]:
        """The row to store: every declared column, in declaration order."""
        return {c.name: getattr(self, c.name) for c in columns(type(self))}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """A stored row as a record: a column it lacks, or holds null in where the column may
        not be null, reads as the column's value for older rows; numbers read from a frame
        (an int column holding NaN elsewhere comes back as float) get their declared type.
        A column neither declared nor of a declared family is refused."""
        check_columns(row.keys(), cls)
        values = {}
        for col in columns(cls):
            value = row.get(col.name)
            values[col.name] = col.old if _missing(value) else _typed(col, value)
        return cls(**values)


_DECLARED: dict[type[Record], tuple[Column, ...]] = {}


def columns(record: type[Record]) -> tuple[Column, ...]:
    """The record's columns, in declaration order."""
    found = _DECLARED.get(record)
    if found is None:
        found = _DECLARED[record] = _declared(record)
    return found


def _declared(record: type[Record]) -> tuple[Column, ...]:
    hints = typing.get_type_hints(record)
    out = []
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        kind, nullable = _kind(record, f.name, hints[f.name])
        old = f.metadata["old"]
        if old is dataclasses.MISSING:
            old = None if nullable else {str: "", int: 0, float: math.nan, bool: False}[kind]
        out.append(Column(f.name, kind, nullable, old, f.metadata["doc"], f.metadata["json"]))
    return tuple(out)


def names(record: type[Record]) -> tuple[str, ...]:
    """The record's column names, in declaration order."""
    return tuple(c.name for c in columns(record))


def _kind(record: type, name: str, hint: Any) -> tuple[type, bool]:
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kinds = [a for a in args if a is not type(None)]
    if len(kinds) != 1 or kinds[0] not in _SCALARS:
        raise TypeError(f"{record.__name__}.{name}: a column is str, int, float or bool ({hint})")
    return kinds[0], len(kinds) < len(args)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def _typed(col: Column, value: Any) -> Any:
    if col.type is str:
        return value if isinstance(value, str) else str(value)
    return col.type(value)


def undeclared(found: Iterable[str], record: type[Record]) -> list[str]:
    """The names in `found` that are neither a column of `record` nor of one of its families."""
    known = set(names(record))
    prefixes = tuple(p.prefix for p in record.PREFIXES)
    return sorted(n for n in set(found) - known if not (prefixes and n.startswith(prefixes)))


def check_columns(found: Iterable[str], record: type[Record]) -> None:
    """Refuse a row or frame with a column `record` does not declare: a misspelled or new
    column must be declared (with its type and meaning) before anything writes it."""
    unknown = undeclared(found, record)
    if unknown:
        families = ", ".join(f"{p.prefix}*" for p in record.PREFIXES)
        raise SchemaError(
            f"{record.TABLE} column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))} not declared in {record.__name__} "
            f"(evalharness/store/_records.py; families: {families or 'none'}): declare "
            "it there with its type and meaning."
        )


def conform(
    frame: pd.DataFrame,
    record: type[Record],
    only: Iterable[str] | None = None,
    *,
    coerce: bool = True,
) -> pd.DataFrame:
    """`frame` (rows as stored, by this version or an older one) with every column of `record`
    (or those named in `only`): a column it lacks holds the column's value for older rows. With
    `coerce`, each also gets its declared type: text with null as the older rows' value where
    the column may not be null, numbers as floats (NaN for none) and ints, flags as bools.
    Other columns are kept as they are."""
    import numpy as np
    import pandas as pd

    wanted = None if only is None else set(only)
    out = frame.copy()
    for col in columns(record):
        if wanted is not None and col.name not in wanted:
            continue
        if col.name not in out:
            out[col.name] = pd.Series([col.old] * len(out), index=out.index, dtype=object)
            if not coerce:
                continue
        elif not coerce:
            continue
        values = out[col.name]
        if col.type is float or (col.type is int and col.nullable):
            out[col.name] = pd.to_numeric(values, errors="coerce").astype(float)
        elif col.type is int:
            out[col.name] = pd.to_numeric(values, errors="coerce").fillna(col.old).astype(np.int64)
        elif col.type is bool:
            filled = values.astype(object).where(values.notna(), col.old)
            out[col.name] = filled.astype(bool)
        elif not col.nullable:
            out[col.name] = values.astype(object).where(values.notna(), col.old).astype(str)
    return out
