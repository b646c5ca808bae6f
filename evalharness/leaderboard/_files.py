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

from evalharness.leaderboard._safe import image_id, parse_json, safe_json

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
    """Puts each referenced thumbnail into the site once; says which ids have one there.

    Both folders are listed once up front: a stat per image would dominate at board scale.
    """

    def __init__(self, source: Path | None, output: Output) -> None:
        self.source = source
        self.output = output
        self.available = _listing(source) if source is not None else set()
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
            ok = self.known[fp] = fp in self.available
            if ok and fp not in self.present and self.source is not None:
                name = os.path.join(fp[:2], f"{fp}.png")
                self.output.link(os.path.join(self.source, name), os.path.join("images", name))
        return self.known[fp]


def _listing(folder: Path) -> set[str]:
    """Fingerprints of the thumbnails under folder/<xx>/<fp>.png."""
    found: set[str] = set()
    if not folder.is_dir():
        return found
    with os.scandir(folder) as top:
        for sub in top:
            if sub.is_dir():
                with os.scandir(sub.path) as entries:
                    found.update(e.name[:-4] for e in entries if e.name.endswith(".png"))
    return found
