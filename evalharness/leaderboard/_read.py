"""Reading a results folder for the site: parallel pyarrow reads of only the needed columns.

The layout is the documented one (docs/results-schema.md). The folder is checked with
`evalharness.store` when that package is importable (its errors say what to do); the rows are read
here, only the needed columns, with pyarrow on a thread pool and one concatenation, instead of one
pandas read per file: at board scale (1,500 runs) per-file pandas reads dominate the build time. The semantics are the store's:
the newest row per (run_id, sample_id) wins, in part order.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

_PART = re.compile(r"^part-(\d{6})\.parquet$")


def read_results(
    root: Path, sample_columns: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, samples) of a results folder; `sample_columns` limits the samples columns read."""
    _check_format(root)
    runs = _scan(sorted((root / "runs").glob("*.parquet")), None)
    single: list[Path] = []
    multi: list[list[Path]] = []
    for run_dir in sorted(p for p in (root / "samples").glob("*") if p.is_dir()):
        parts = sorted(p for p in run_dir.iterdir() if _PART.match(p.name))
        if len(parts) == 1:
            single += parts
        elif parts:
            multi.append(parts)
    frames = [_scan(single, sample_columns)]
    for parts in multi:  # a run in progress or interrupted: later parts replace earlier rows
        f = _scan(parts, sample_columns)
        frames.append(f.drop_duplicates(subset=["run_id", "sample_id"], keep="last"))
    frames = [f for f in frames if not f.empty]
    samples = (
        pd.concat(frames, ignore_index=True)
        if len(frames) > 1
        else (frames[0] if frames else pd.DataFrame())
    )
    return runs, samples


def _check_format(root: Path) -> None:
    try:
        from evalharness.store import ResultsStore
    except ImportError:
        fmt = root / "FORMAT.json"
        if not fmt.exists():
            raise FileNotFoundError(
                f"{root} is not a results folder: it has no FORMAT.json."
            ) from None
        version = json.loads(fmt.read_text()).get("format_version")
        if version != 1:
            raise ValueError(
                f"{root} holds result format v{version}; this site builder reads v1."
            ) from None
        return
    ResultsStore(root, create=False)


def _scan(files: Sequence[Path], columns: Sequence[str] | None) -> pd.DataFrame:
    """All files as one frame, in file order; columns missing from a file are null there."""
    if not files:
        return pd.DataFrame()
    import pyarrow as pa

    # the reads wait on the disk and release the GIL: threads overlap them
    with ThreadPoolExecutor(max_workers=min(4, len(files))) as pool:
        tables = list(pool.map(partial(_read_one, columns=columns), files))
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
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    names = file.schema_arrow.names
    return file.read(
        columns=[c for c in columns if c in names] if columns is not None else None,
        use_threads=False,
    )
