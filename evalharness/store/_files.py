"""Atomic file writes (temp file in the same folder, fsync, rename, fsync the folder), the modes
they get, and what a failed write says."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

REWRITE_LOCK = ".rewrite.lock"
"""Locked by commands that rewrite many runs, and by readers of every run (`ResultsStore.reading`)."""


TMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` at once: readers see the old file or the new one, never a part.

    `durable` also fsyncs file and folder, so the write survives a power cut, not only a crash
    of this process; caches that can be rebuilt skip it (an fsync costs about a millisecond).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~umask())  # as open() would make it: mkstemp's are private (0600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def umask() -> int:
    """The process's umask (Linux reads it without changing it; elsewhere set and set back)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_temporaries(folder: Path, pattern: str) -> None:
    """Remove the temporary files that a killed process left of its atomic writes to the files
    of `folder` whose names match the glob `pattern`."""
    with contextlib.suppress(OSError):
        for tmp in folder.glob(f".{pattern}.*{TMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def unwritable(root: Path, exc: OSError) -> str:
    """What a failed write to the results folder `root` says: one line, what to do."""
    what = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"results folder {root} is full ({what}): free some space or choose another folder "
            "with results_dir=PATH; the same command then goes on from the answers saved."
        )
    return f"results folder {root} is not writable ({what}): choose another with results_dir=PATH."


MIN_FREE_BYTES = 1 << 20
"""Less free space than this in a results folder and a command that writes it does not start."""


def unwritable_folder(root: Path) -> str | None:
    """Why the results folder `root` (or the folder it would be made in) cannot be written to
    (read-only, no permission, full), as `unwritable` says it; None when it can."""
    folder = root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return None  # a file in the way: the store says so when it is opened
    if not os.access(folder, os.W_OK | os.X_OK):
        code = errno.EROFS if _read_only(folder) else errno.EACCES
        return unwritable(root, OSError(code, os.strerror(code)))
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    if fs.f_bavail * fs.f_frsize < MIN_FREE_BYTES:
        return unwritable(root, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    return None


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@contextlib.contextmanager
def folder_lock(root: Path, mode: int, other: str) -> Iterator[None]:
    """`flock` of the folder's REWRITE_LOCK file in `mode`; a line on stderr when it waits. A
    folder where the lock file can be neither made nor opened is one nobody can rewrite."""
    path = root / REWRITE_LOCK
    fd = None
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        with contextlib.suppress(OSError):
            fd = os.open(path, flags, 0o666)  # less the umask, as every file here
            break
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"waiting for another command {other} in {root} …", file=sys.stderr)
                fcntl.flock(fd, mode)
        yield
    finally:
        if fd is not None:
            os.close(fd)
