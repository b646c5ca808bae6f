"""Results store: parquet `runs` and `samples` tables (schema: docs/results-schema.md).

Public read API: `load_runs(path)` and `load_samples(path)` return pandas DataFrames with
their text as stored; `restore_text(frame)` gives back text that was escaped to be stored.
"""

from evalharness.store._errors import IncompatibleStoreError, RunLockedError, StoreError
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

__all__ = [
    "ESCAPED",
    "FORMAT_VERSION",
    "LEGACY_THUMBNAIL_SUFFIX",
    "THUMBNAIL_SUFFIX",
    "IncompatibleStoreError",
    "ResultsStore",
    "RunLockedError",
    "StoreError",
    "escape_row",
    "jpeg_bytes",
    "load_runs",
    "load_samples",
    "restore_text",
    "stored_text",
    "to_frame",
]
