"""Reading a results folder's parquet files: consistent snapshots of runs being rewritten,
concatenated once, the newest row per sample kept."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalharness.errors import quoted
from evalharness.store._errors import StoreError

if TYPE_CHECKING:
    from evalharness.store._store import ResultsStore


def _with_keys(columns: Sequence[str] | None) -> list[str] | None:
    """`columns` with `run_id` and `sample_id`, which the newest-row rule needs (None: all)."""
    return None if columns is None else list(dict.fromkeys(["run_id", "sample_id", *columns]))


_ATTEMPTS = 100
"""Reads of a run retried while its files are rewritten under them (each retry follows a whole
rewrite by another process: many in a row mean it rewrites without pause)."""


def _snapshot(
    store: ResultsStore, run_ids: Sequence[str], columns: Sequence[str] | None, *, spare: bool
) -> list[list[Any]]:
    """Per run, the tables of one consistent set of its sample files, in write order.

    A compaction (`ResultsStore.compact`, by a finishing run or `evalharness rescore`) writes
    the new part before it removes the old ones. So where a listed file has vanished by the
    time it is read, the run was rewritten meanwhile: its files are listed and read again, and
    the new listing holds the new part. A reader never sees a run with rows missing.

    Files are read with pyarrow on a thread pool (the reads wait on the disk and release the
    GIL): at board scale (1,500 runs) one pandas read per file would dominate.
    """
    out: list[list[Any]] = [[] for _ in run_ids]
    todo = list(range(len(run_ids)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(_ATTEMPTS):
            listed = [(i, f) for i in todo for f in store._files(run_ids[i], spare)]
            tables = pool.map(partial(_read_one, columns=columns), [f for _, f in listed])
            got: dict[int, list[Any]] = {i: [] for i in todo}
            vanished = set()
            for (i, _), table in zip(listed, tables, strict=True):
                if table is None:
                    vanished.add(i)
                else:
                    got[i].append(table)
            for i in todo:
                out[i] = got[i]
            todo = sorted(vanished)
            if not todo:
                return out
    raise StoreError(
        f"the samples of run {run_ids[todo[0]]} in {store.root} were rewritten {_ATTEMPTS} times "
        "while being read; try again when the command rewriting them has finished."
    )


def _newest(frame: pd.DataFrame) -> pd.DataFrame:
    """The newest row per (run_id, sample_id) of rows in write order (newest last)."""
    if {"run_id", "sample_id"} <= set(frame.columns):
        frame = frame.drop_duplicates(subset=["run_id", "sample_id"], keep="last")
    return frame.reset_index(drop=True)


def _scan(files: Sequence[Path], columns: Sequence[str] | None) -> pd.DataFrame:
    """All files as one frame, in file order (a file removed meanwhile is left out)."""
    if not files:
        return pd.DataFrame()
    with ThreadPoolExecutor(max_workers=min(4, len(files))) as pool:
        return _concat(pool.map(partial(_read_one, columns=columns), files))


def _concat(tables: Iterable[Any]) -> pd.DataFrame:
    """Tables as one frame, concatenated once; a column missing from a table is null there, and
    column types that differ between tables (a column all empty in one part) are unified."""
    import pyarrow as pa

    tables = [t for t in tables if t is not None]
    if not tables:
        return pd.DataFrame()
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # a column with clashing types across files: let pandas find a common type
        return pd.concat([t.to_pandas() for t in tables], ignore_index=True)
    # one chunk per file makes every later take slow; over 2 GiB of text a column stays chunked
    with contextlib.suppress(pa.ArrowInvalid, pa.ArrowCapacityError):
        table = table.combine_chunks()
    return table.to_pandas()


def _read_one(path: Path, columns: Sequence[str] | None) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        names = file.schema_arrow.names
        return file.read(
            columns=[c for c in columns if c in names] if columns is not None else None,
            use_threads=False,
        )
    except FileNotFoundError:
        return None  # removed since it was listed: rewritten (see `_snapshot`)
    except (pa.ArrowException, OSError) as exc:  # our writes are atomic: damaged from outside
        raise StoreError(
            f"cannot read {path}: {quoted(exc)}. The file is damaged (a full disk or a copy cut "
            f"short?). Move it out of the results folder: the rest reads as before, and running "
            "the same command again redoes what it held."
        ) from exc
