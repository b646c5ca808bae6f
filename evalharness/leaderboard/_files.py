"""Writing the site's many files: data scripts and thumbnails, on a thread pool.

Creating ~20,000 files waits on the file system far more than on the CPU, so writes and links
run on threads while the main thread keeps encoding. Folders are made on the main thread first.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from evalharness.images import decode
from evalharness.leaderboard._safe import image_id, parse_json, safe_json
from evalharness.store import LEGACY_THUMBNAIL_SUFFIX, THUMBNAIL_SUFFIX, jpeg_bytes

WORKERS = 4


class Output:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=WORKERS)
        self.jobs: list[Future[None]] = []
        self.folders: set[str] = set()

    def folder(self, path: str) -> None:
        if path not in self.folders:
            os.makedirs(path, exist_ok=True)
            self.folders.add(path)

    def text(self, relative: str, text: str) -> None:
        path = os.path.join(self.root, relative)
        self.folder(os.path.dirname(path))
        self.jobs.append(self.pool.submit(_write, path, text))

    def data(self, relative: str, key: str, value: Any, *, clean: bool = True) -> None:
        """A script assigning `value` to EH_DATA[key]: pages on file:// cannot fetch() JSON."""
        self.text(relative, f"EH_DATA[{safe_json(key)}]={safe_json(value, clean=clean)};\n")

    def link(self, source: str, relative: str) -> None:
        path = os.path.join(self.root, relative)
        self.folder(os.path.dirname(path))
        self.jobs.append(self.pool.submit(_link_or_copy, source, path))

    def jpeg(self, source: str, relative: str) -> None:
        """An image file (a thumbnail of older results, PNG) written as JPEG."""
        path = os.path.join(self.root, relative)
        self.folder(os.path.dirname(path))
        self.jobs.append(self.pool.submit(_to_jpeg, source, path))

    def close(self) -> None:
        try:
            for job in self.jobs:
                job.result()
        finally:
            self.pool.shutdown()
            self.jobs = []


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _to_jpeg(source: str, target: str) -> None:
    data = jpeg_bytes(decode(Path(source).read_bytes()))
    with open(target, "wb") as f:
        f.write(data)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link when the site shares the results' file system, else a copy.

    Thumbnails are immutable, content-addressed files (the store replaces files by renaming, which
    leaves a link's content alone), so a link is as good as a copy and costs no space or time.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        pass
    except OSError:
        shutil.copyfile(source, target)


class Thumbnails:
    """Puts each referenced thumbnail into the site once, as `images/<fp[:2]>/<fp>.jpg`; says
    which ids have one there. Results written before thumbnails were JPEG have PNG ones: those
    are converted on the way.

    Both folders are listed once up front: a stat per image would dominate at board scale.
    """

    def __init__(self, source: Path | None, output: Output) -> None:
        self.source = source
        self.output = output
        self.available = _listing(source) if source is not None else {}
        self.present = _listing(output.root / "images")
        self.known: dict[str, bool] = {}

    def ids(self, value: object) -> list[str] | None:
        """The thumbnail ids of an `image_ids` JSON value that exist (invalid ids are dropped)."""
        parsed = parse_json(value)
        if not isinstance(parsed, list):
            return None
        found = [fp for v in parsed if (fp := image_id(v)) is not None and self._put(fp)]
        return found or None

    def _put(self, fp: str) -> bool:
        if fp not in self.known:
            suffix = self.available.get(fp)
            self.known[fp] = suffix is not None
            if suffix is not None and self.present.get(fp) != THUMBNAIL_SUFFIX and self.source:
                source = os.path.join(self.source, fp[:2], fp + suffix)
                target = os.path.join("images", fp[:2], fp + THUMBNAIL_SUFFIX)
                if suffix == THUMBNAIL_SUFFIX:
                    self.output.link(source, target)
                else:
                    self.output.jpeg(source, target)
        return self.known[fp]


def _listing(folder: Path) -> dict[str, str]:
    """The thumbnails under folder/<xx>/: fingerprint → file suffix (JPEG first)."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    suffixes = (LEGACY_THUMBNAIL_SUFFIX, THUMBNAIL_SUFFIX)  # a JPEG wins over an older PNG
    with os.scandir(folder) as top:
        for sub in top:
            if sub.is_dir():
                with os.scandir(sub.path) as entries:
                    names = [e.name for e in entries]
                for suffix in suffixes:
                    n = len(suffix)
                    found.update((name[:-n], suffix) for name in names if name.endswith(suffix))
    return found
