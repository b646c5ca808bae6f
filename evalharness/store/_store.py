"""The parquet results store: a `runs` table and a `samples` table, written atomically.

Layout and schema: docs/results-schema.md. Each run owns its files, so parallel jobs (joblib,
submitit) never write the same file; a lock per run stops two processes running the same run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalharness._version import __version__
from evalharness.store._errors import IncompatibleStoreError, RunLockedError, StoreError
from evalharness.store._files import (
    TMP_SUFFIX,
    atomic_write_bytes,
    atomic_write_parquet,
    folder_lock,
    remove_temporaries,
    unwritable,
)
from evalharness.store._read import _concat, _newest, _read_one, _scan, _snapshot, _with_keys
from evalharness.store._text import escape_row

if TYPE_CHECKING:
    from PIL import Image as PILImage

FORMAT_VERSION = 1
"""Bump when the meaning or layout of stored results changes; part of every resume key."""

FORMAT_FILE = "FORMAT.json"
THUMBNAIL_SIZE = 160
THUMBNAIL_SUFFIX = ".jpg"
LEGACY_THUMBNAIL_SUFFIX = ".png"
"""Thumbnails written before they were JPEG; read alike, never written."""
_PART = re.compile(r"^part-(\d{6})(?:-[a-z0-9]+)?\.parquet$")
"""A run's parts, in write order; a tag after the number names the shard that wrote it, so that
shards appending at once never take the same name."""
RESERVE_FILE = ".reserve"
RESERVE_BYTES = 256 * 1024
"""Disk space a run holds while it runs, given up to write its row on a full disk (a run's row is
some tens of KiB)."""
SPARE_FILE = "spare.parquet"
"""Rows of a run's samples that its last completion did not ask (see `ResultsStore.compact`)."""


class ResultsStore:
    def __init__(self, root: Path | str, *, create: bool = True) -> None:
        self.root = Path(root)
        self._check(create)

    def _check(self, create: bool) -> None:
        fmt = self.root / FORMAT_FILE
        if fmt.exists():
            try:
                found = json.loads(fmt.read_text())["format_version"]
            except (ValueError, KeyError, OSError) as exc:
                raise StoreError(
                    f"results folder {self.root}: unreadable {FORMAT_FILE} ({exc})."
                ) from exc
            if found != FORMAT_VERSION:
                raise IncompatibleStoreError(
                    f"results folder {self.root} holds result format v{found}; this evalharness "
                    f"({__version__}) reads and writes v{FORMAT_VERSION}. Nothing was changed: pick "
                    "another folder with results_dir=PATH, or use a matching evalharness version."
                )
            return
        if (self.root / "runs").exists():
            raise IncompatibleStoreError(
                f"results folder {self.root} has runs but no {FORMAT_FILE}: it was not written by "
                "this evalharness. Nothing was changed: pick another folder with results_dir=PATH."
            )
        if not create:
            raise StoreError(f"no results in {self.root}: run `evalharness run …` first.")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            doc = {"format_version": FORMAT_VERSION, "created_by": f"evalharness {__version__}"}
            atomic_write_bytes(fmt, json.dumps(doc).encode())
        except OSError as exc:
            raise StoreError(unwritable(self.root, exc)) from exc

    # runs -------------------------------------------------------------------------------------

    def write_run(self, row: Mapping[str, Any]) -> None:
        """Write a run's row. On a full disk the run's reserve (`lock`) is given up for it, so
        that a run stopped by a full disk can still say so."""
        path, frame = self._run_file(row["run_id"]), pd.DataFrame([escape_row(row)])
        with self._writing():
            try:
                atomic_write_parquet(path, frame)
            except OSError as exc:
                reserve = self._run_dir(row["run_id"]) / RESERVE_FILE
                if exc.errno != errno.ENOSPC or not reserve.is_file():
                    raise
                reserve.unlink()
                atomic_write_parquet(path, frame)

    def _run_file(self, run_id: str) -> Path:
        return self.root / "runs" / f"{run_id}.parquet"

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write (full disk, read-only folder) as a StoreError saying what to do."""
        try:
            yield
        except StoreError:
            raise
        except OSError as exc:
            raise StoreError(unwritable(self.root, exc)) from exc

    def read_run(self, run_id: str, columns: Sequence[str] | None = None) -> dict[str, Any] | None:
        """A run's row (only `columns` of it, where given), or None if there is none."""
        path = self._run_file(run_id)
        table = _read_one(path, columns) if path.is_file() else None
        return table.to_pylist()[0] if table is not None and table.num_rows else None

    # samples ----------------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        return self.root / "samples" / run_id

    def _parts(self, run_id: str) -> list[tuple[int, Path]]:
        folder = self._run_dir(run_id)
        if not folder.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _PART.match(p.name))]
        return sorted(found)

    def read_samples(
        self, run_id: str, *, spare: bool = False, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The newest row per sample id of one run (empty frame if none); with `spare`, also
        the rows kept aside when the run last completed with a smaller `limit` (for resuming).
        `columns` limits the columns read (with `run_id` and `sample_id`)."""
        [tables] = _snapshot(self, [run_id], _with_keys(columns), spare=spare)
        return _newest(_concat(tables))

    def _files(self, run_id: str, spare: bool) -> list[Path]:
        """A run's sample files in write order (the spare file first, where asked for)."""
        parts = [p for _, p in self._parts(run_id)]
        aside = self._run_dir(run_id) / SPARE_FILE
        return [aside, *parts] if spare and aside.is_file() else parts

    def append_samples(self, run_id: str, rows: Sequence[Mapping[str, Any]], tag: str = "") -> None:
        """Add rows to a run; `tag` (letters and digits) names the writer of a shard's rows."""
        if not rows:
            return
        parts = self._parts(run_id)
        seq = parts[-1][0] + 1 if parts else 0
        name = f"part-{seq:06d}{'-' + tag if tag else ''}.parquet"
        frame = to_frame(rows)
        with self._writing():
            atomic_write_parquet(self._run_dir(run_id) / name, frame)

    def compact(self, run_id: str, frame: pd.DataFrame) -> None:
        """Replace all parts by one holding `frame`; safe at every crash point (newest part wins).

        Stored rows of samples that `frame` lacks (answers from an earlier completion with a
        larger `limit`) are not lost: they move to the run's spare file, which the samples table
        leaves out and a resumed run reads (`read_samples(spare=True)`).
        """
        old = self._parts(run_id)
        seq = old[-1][0] + 1 if old else 0
        # the ids first: the whole rows are read only when some must move aside (rarely)
        stored = self.read_samples(run_id, spare=True, columns=[])
        kept = frame["sample_id"] if "sample_id" in frame.columns else pd.Series(dtype=object)
        aside = pd.DataFrame()
        if not stored.empty and not stored["sample_id"].isin(kept).all():
            stored = self.read_samples(run_id, spare=True)
            aside = stored[~stored["sample_id"].isin(kept)]
        # Order for every crash point: the new part first; then the spare rows (until they are
        # written, the old parts still hold them); the old parts last.
        with self._writing():
            atomic_write_parquet(self._run_dir(run_id) / f"part-{seq:06d}.parquet", frame)
            spare = self._run_dir(run_id) / SPARE_FILE
            if not aside.empty:
                atomic_write_parquet(spare, aside.reset_index(drop=True))
            else:
                with contextlib.suppress(FileNotFoundError):
                    spare.unlink()
            for _, path in old:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    @contextlib.contextmanager
    def lock(self, run_id: str) -> Iterator[None]:
        """Held while a process writes a run. It removes what a killed writer of the run left
        (temporary files) and keeps a reserve of disk space that `write_run` gives up on a full
        disk, so that the run's status can still be written."""
        folder = self._run_dir(run_id)
        with self._writing():
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise RunLockedError(
                    f"run {run_id} is being written by another process right now; wait for it."
                ) from exc
            for pattern in ("part-*.parquet", SPARE_FILE):
                remove_temporaries(folder, pattern)
            remove_temporaries(self.root / "runs", f"{run_id}.parquet")
            reserve = folder / RESERVE_FILE
            with self._writing():
                reserve.write_bytes(bytes(RESERVE_BYTES))
            try:
                yield
            finally:
                with contextlib.suppress(FileNotFoundError):
                    reserve.unlink()
        finally:
            os.close(fd)

    # the whole folder ---------------------------------------------------------------------------

    def rewriting(self) -> contextlib.AbstractContextManager[None]:
        """Held by a command that rewrites many runs (`evalharness rescore`): readers that need
        every run as of one moment (`reading`) wait until it is done, and it waits for them."""
        return folder_lock(self.root, fcntl.LOCK_EX, "reading it (a leaderboard build)")

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Held while reading the whole folder at once (the leaderboard): no `rewriting` command
        runs meanwhile, so no run is read half rescored. Readers do not wait for each other."""
        return folder_lock(self.root, fcntl.LOCK_SH, "rewriting it (evalharness rescore)")

    def remove_stale_temporaries(self, older_than_s: float = 3600.0) -> None:
        """Remove temporary files of atomic writes older than `older_than_s` anywhere in the
        folder: left by killed processes (an atomic write takes well under a second). A run's
        own are removed at once by its next writer (`lock`)."""
        cutoff = time.time() - older_than_s
        for pattern in (f".*{TMP_SUFFIX}", f"*/.*{TMP_SUFFIX}", f"*/*/.*{TMP_SUFFIX}"):
            for tmp in self.root.glob(pattern):
                with contextlib.suppress(OSError):
                    if tmp.stat().st_mtime < cutoff:
                        tmp.unlink()

    # images -----------------------------------------------------------------------------------

    def thumbnail_path(self, fingerprint: str) -> Path:
        return self.root / "images" / fingerprint[:2] / f"{fingerprint}{THUMBNAIL_SUFFIX}"

    def save_thumbnail(self, fingerprint: str, image: PILImage.Image) -> None:
        path = self.thumbnail_path(fingerprint)
        if path.exists() or path.with_suffix(LEGACY_THUMBNAIL_SUFFIX).exists():
            return
        thumb = image.convert("RGB")
        # reducing_gap: a box reduction first, then the resampling filter over a small image
        thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), reducing_gap=1.0)
        with self._writing():  # a cache, rebuilt if lost: no fsync
            atomic_write_bytes(path, jpeg_bytes(thumb), durable=False)


def jpeg_bytes(image: PILImage.Image) -> bytes:
    """A thumbnail's file: JPEG at quality 90 without chroma subsampling, which keeps the
    colours of small shapes; a tenth of PNG's encoding time, about its size."""
    import io

    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=90, subsampling=0)
    return buf.getvalue()


def to_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows to a frame parquet can store: text UTF-8 cannot encode is escaped, its row flagged
    (`escape_row`), and mixed-type object columns become strings."""
    frame = pd.DataFrame([escape_row(r) for r in rows])
    for col in frame.columns:
        if frame[col].dtype == object:
            kinds = {type(v) for v in frame[col] if v is not None and v == v}
            if len(kinds) > 1 or (kinds and not kinds <= {str, bool, int, float}):
                frame[col] = [None if v is None else _scalar_str(v) for v in frame[col]]
    return frame


def _scalar_str(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, default=str, sort_keys=True)


def load_runs(path: Path | str) -> pd.DataFrame:
    """The runs table of a results folder: one row per run (see docs/results-schema.md)."""
    store = ResultsStore(path, create=False)
    return _scan(sorted((store.root / "runs").glob("*.parquet")), None)


def load_samples(
    path: Path | str,
    run_ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The samples table of a results folder: the newest row per (run, sample id).

    `run_ids` limits it to these runs, `columns` to these columns (with `run_id` and
    `sample_id`, which the newest-row rule needs); reading fewer columns is much faster.
    """
    store = ResultsStore(path, create=False)
    base = store.root / "samples"
    ids = (
        list(run_ids)
        if run_ids is not None
        else sorted(p.name for p in base.glob("*") if p.is_dir())
    )
    runs = _snapshot(store, ids, _with_keys(columns), spare=False)
    frame = _concat(t for run in runs for t in run)
    if any(len(run) > 1 for run in runs):  # a run in progress or interrupted: newest row wins
        return _newest(frame)
    return frame  # one part per run: no row to replace
