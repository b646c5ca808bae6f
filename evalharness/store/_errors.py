"""What goes wrong with a results folder: each error's message says why and what to do."""

from __future__ import annotations

from evalharness.errors import EvalharnessError


class StoreError(EvalharnessError, RuntimeError):
    """The results folder cannot be used; the message says why and what to do."""


class IncompatibleStoreError(StoreError):
    """The results folder was written by another result-format version."""


class RunLockedError(StoreError):
    """Another process is running the same run right now."""


class SchemaError(StoreError, ValueError):
    """A row names a column the results schema does not declare (`evalharness.store`)."""
