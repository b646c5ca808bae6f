"""Results store: parquet `runs` and `samples` tables (schema: docs/results-schema.md).

Public read API: `load_runs(path)` and `load_samples(path)` return pandas DataFrames with
their text as stored; `restore_text(frame)` gives back text that was escaped to be stored.

The schema is declared here, once: `RunRecord` and `SampleRecord` list every column with its
type, meaning and the value a row stored by an older version reads as, and the column families
named at run time are prefixes (`METRIC_PREFIX`, `META_PREFIX`). `conform(frame, record)` gives
a frame read from any version every column of this one; `schema_markdown()` is the schema doc.

The schema and its prefixes import nothing heavy; the store itself (pandas, pyarrow) loads on
first use of one of its names.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from evalharness.store._columns import (
    Column,
    Prefix,
    Record,
    check_columns,
    columns,
    conform,
    names,
    undeclared,
)
from evalharness.store._errors import (
    IncompatibleStoreError,
    RunLockedError,
    SchemaError,
    StoreError,
)
from evalharness.store._records import META_PREFIX, METRIC_PREFIX, RunRecord, SampleRecord

if TYPE_CHECKING:
    from evalharness.store._doc import schema_markdown
    from evalharness.store._store import (
        FORMAT_VERSION,
        LEGACY_THUMBNAIL_SUFFIX,
        THUMBNAIL_SUFFIX,
        ResultsStore,
        jpeg_bytes,
        load_runs,
        load_samples,
        to_frame,
    )
    from evalharness.store._text import ESCAPED, escape_row, restore_text, stored_text

_WHERE = {
    "schema_markdown": "_doc",
    "FORMAT_VERSION": "_store",
    "LEGACY_THUMBNAIL_SUFFIX": "_store",
    "THUMBNAIL_SUFFIX": "_store",
    "ResultsStore": "_store",
    "jpeg_bytes": "_store",
    "load_runs": "_store",
    "load_samples": "_store",
    "to_frame": "_store",
    "ESCAPED": "_text",
    "escape_row": "_text",
    "restore_text": "_text",
    "stored_text": "_text",
}

__all__ = [
    "ESCAPED",
    "FORMAT_VERSION",
    "LEGACY_THUMBNAIL_SUFFIX",
    "META_PREFIX",
    "METRIC_PREFIX",
    "THUMBNAIL_SUFFIX",
    "Column",
    "IncompatibleStoreError",
    "Prefix",
    "Record",
    "ResultsStore",
    "RunLockedError",
    "RunRecord",
    "SampleRecord",
    "SchemaError",
    "StoreError",
    "check_columns",
    "columns",
    "conform",
    "escape_row",
    "jpeg_bytes",
    "load_runs",
    "load_samples",
    "names",
    "restore_text",
    "schema_markdown",
    "stored_text",
    "to_frame",
    "undeclared",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'evalharness.store' has no attribute {name!r}")
    value = getattr(import_module(f"evalharness.store.{where}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
