"""Results store: parquet `runs` and `samples` tables (schema: docs/results-schema.md).

Public read API: `load_runs(path)` and `load_samples(path)` return pandas DataFrames.
"""

from evalharness.store._store import (
    FORMAT_VERSION,
    LEGACY_THUMBNAIL_SUFFIX,
    THUMBNAIL_SUFFIX,
    IncompatibleStoreError,
    ResultsStore,
    RunLockedError,
    StoreError,
    jpeg_bytes,
    load_runs,
    load_samples,
    to_frame,
)

__all__ = [
    "FORMAT_VERSION",
    "LEGACY_THUMBNAIL_SUFFIX",
    "THUMBNAIL_SUFFIX",
    "IncompatibleStoreError",
    "ResultsStore",
    "RunLockedError",
    "StoreError",
    "jpeg_bytes",
    "load_runs",
    "load_samples",
    "to_frame",
]
