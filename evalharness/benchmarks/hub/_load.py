"""Loading a split of a Hugging Face hub dataset (or a local copy), checking its columns, and
handing out its images lazily.

Hub datasets are loaded with `datasets.load_dataset`; a local folder, a local data file or
`data_files` that exist on disk are loaded without touching the network, and a folder written
by `save_to_disk` with `datasets.load_from_disk`. When the hub cannot be
reached, loading switches to offline mode at once, so a missing dataset fails in seconds with
one line that says what to do, instead of after a minute of retries.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from evalharness.errors import EvalharnessError
from evalharness.types import EncodedImage, FileImage, ImageError, ImageSource, once

if TYPE_CHECKING:
    from datasets import Dataset
    from PIL import Image as PILImage

DataFiles = str | Sequence[str] | Mapping[str, str | Sequence[str]]

_BUILDERS = {
    ".parquet": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".arrow": "arrow",
}
_PROBE_TIMEOUT_S = 3.0


class DatasetUnavailableError(EvalharnessError, RuntimeError):
    """A benchmark's dataset could not be loaded: the message names it and the override to use."""


class DatasetSchemaError(EvalharnessError, ValueError):
    """A dataset lacks the columns (or content) a benchmark adapter reads."""


@dataclass(frozen=True)
class Source:
    """Where a split comes from: a hub id or a local path, plus the usual `load_dataset` knobs."""

    benchmark: str
    path: str
    split: str
    subset: str | None = None
    data_files: DataFiles | None = None
    revision: str | None = None

    def describe(self) -> str:
        parts = [repr(self.path)]
        if self.subset:
            parts.append(f"config {self.subset!r}")
        parts.append(f"split {self.split!r}")
        if self.revision:
            parts.append(f"revision {self.revision!r}")
        if self.data_files is not None:
            parts.append(f"data_files {self.data_files!r}")
        return ", ".join(parts)


def _files(data_files: DataFiles | None) -> list[str]:
    if data_files is None:
        return []
    if isinstance(data_files, str):
        return [data_files]
    if isinstance(data_files, Mapping):
        return [f for v in data_files.values() for f in ([v] if isinstance(v, str) else v)]
    return list(data_files)


def _builder(source: Source, path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _BUILDERS:
        raise DatasetUnavailableError(
            f"{source.benchmark}: cannot tell the format of {path!r} from its name; "
            f"use a file ending in {', '.join(sorted(_BUILDERS))}"
        )
    return _BUILDERS[suffix]


def _looks_local(path: str) -> bool:
    return Path(path).is_absolute() or path.startswith(("./", "../", "~"))


def _expand(data_files: Any) -> Any:
    """`data_files` with "~" expanded, in whatever nesting it came."""
    if isinstance(data_files, str):
        return str(Path(data_files).expanduser())
    if isinstance(data_files, Mapping):
        return {k: _expand(v) for k, v in data_files.items()}
    return [_expand(f) for f in data_files]


def _load_args(source: Source) -> tuple[dict[str, Any], bool]:
    """`load_dataset` arguments for the source, and whether they need the hub."""
    files = _files(source.data_files)
    missing = [
        f for f in [source.path, *files] if _looks_local(f) and not Path(f).expanduser().exists()
    ]
    if missing:
        raise DatasetUnavailableError(
            f"{source.benchmark}: {missing[0]!r} does not exist; point benchmark.args.path or "
            f"benchmark.args.data_files at an existing local copy"
        )
    data_files: Any = None if source.data_files is None else _expand(source.data_files)
    # a single file or list means "this split", not datasets' default "train"
    if data_files is not None and not isinstance(data_files, Mapping):
        data_files = {source.split: data_files}
    if files and all(Path(f).expanduser().exists() for f in files):
        return {"path": _builder(source, files[0]), "data_files": data_files}, False
    local = Path(source.path).expanduser()
    if local.is_file():
        builder = _builder(source, str(local))
        return {"path": builder, "data_files": {source.split: str(local)}}, False
    args: dict[str, Any] = {"path": str(local) if local.is_dir() else source.path}
    if source.subset and not local.is_dir():
        args["name"] = source.subset
    if data_files is not None:
        args["data_files"] = data_files
    if source.revision and not local.is_dir():
        args["revision"] = source.revision
    return args, not local.is_dir()


@functools.lru_cache(maxsize=8)
def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S).close()
    except OSError:
        return False
    return True


def hub_reachable() -> bool:
    """Can this process open a connection to the hub? False in offline mode."""
    from datasets import config

    if config.HF_HUB_OFFLINE:
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # the proxy decides; a direct probe would say nothing
    url = urlparse(config.HF_ENDPOINT)
    return _reachable(url.hostname or "", url.port or (443 if url.scheme == "https" else 80))


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Make `datasets` and `huggingface_hub` use the local cache only, for one load."""
    import huggingface_hub.constants as hub_constants
    from datasets import config

    saved = config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE
    config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _saved_folder(source: Source) -> Path | None:
    """The folder, if `path` is one that `save_to_disk` wrote (a dataset, or a dict of splits)."""
    if source.data_files is not None or not source.path:
        return None
    folder = Path(source.path).expanduser()
    if (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file():
        return folder
    return None


def _load_saved(source: Source, folder: Path) -> Dataset:
    """The split of a `save_to_disk` folder: a saved dataset is the split itself; a saved dict
    of splits gives the one asked for."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as exc:  # damaged or partial folder
        raise DatasetUnavailableError(
            f"{source.benchmark}: cannot load the save_to_disk folder {str(folder)!r} "
            f"({_first_line(exc)}); save it again, or point benchmark.args.path at another copy"
        ) from exc
    if isinstance(loaded, datasets.DatasetDict):
        if source.split not in loaded:
            raise DatasetUnavailableError(
                f"{source.benchmark}: the save_to_disk folder {str(folder)!r} has no split "
                f"{source.split!r} (it has {', '.join(sorted(loaded))}); choose one with "
                "benchmark.args.split=NAME"
            )
        loaded = loaded[source.split]
    if not isinstance(loaded, datasets.Dataset):
        raise DatasetUnavailableError(
            f"{source.benchmark}: {str(folder)!r} holds a {type(loaded).__name__}, not a dataset"
        )
    return loaded


def load_split(source: Source) -> Dataset:
    """The split as a `datasets.Dataset`, or DatasetUnavailableError with the fix in one line."""
    import datasets

    saved = _saved_folder(source)
    if saved is not None:
        return _load_saved(source, saved)
    args, needs_hub = _load_args(source)
    online = needs_hub and hub_reachable()
    tried = "the hub and the local cache" if online else "the local cache (hub unreachable)"
    if not needs_hub:
        tried = "local files"
    context = _offline() if needs_hub and not online else contextlib.nullcontext()
    try:
        with context:
            loaded = datasets.load_dataset(**args, split=source.split)
    except Exception as exc:  # datasets raises many unrelated types for "not there"
        raise DatasetUnavailableError(
            f"{source.benchmark}: cannot load {source.describe()} from {tried} "
            f"({_first_line(exc)}). Fix: run once where the hub is reachable, or point at a "
            f"local copy with benchmark.args.path=/local/folder or "
            f"benchmark.args.data_files=/local/{source.split}.parquet"
        ) from exc
    assert isinstance(loaded, datasets.Dataset)
    return loaded


def require_columns(ds: Dataset, source: Source, columns: Sequence[str], schema: str) -> None:
    """DatasetSchemaError naming every missing column, if any."""
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise DatasetSchemaError(
            f"{source.benchmark}: {source.describe()} lacks column(s) {', '.join(missing)} "
            f"(it has {', '.join(ds.column_names)}); the adapter reads the {schema} schema"
        )


def _is_text(ds: Dataset, column: str) -> bool:
    from datasets import Value

    feature = ds.features[column]
    return isinstance(feature, Value) and feature.dtype in ("string", "large_string")


def embeds_images(ds: Dataset, column: str) -> bool:
    """Whether `column` holds the images themselves (not file names)."""
    return column in ds.column_names and not _is_text(ds, column)


def iter_rows(ds: Dataset, image_column: str, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
    """The rows as dicts, in order, without embedded images (those are read lazily, see
    `HubImage`); read in batches, so a capped run stops early."""
    if image_column in ds.column_names and not _is_text(ds, image_column):
        ds = ds.remove_columns([image_column])
    for batch in ds.iter(batch_size=batch_size):
        columns = list(batch)
        for i in range(len(batch[columns[0]]) if columns else 0):
            yield {c: batch[c][i] for c in columns}


def image_present(ds: Dataset, column: str) -> list[bool]:
    """Which rows hold an image in `column`, from the column's validity bits (no bytes read)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = ds.data.column(column)  # a freshly loaded split: no index mapping over the table
    valid = pc.is_valid(cells)
    if pa.types.is_struct(cells.type):
        # an Image cell is {bytes, path}; either one locates the image
        valid = pc.and_(
            valid,
            pc.or_(
                pc.is_valid(pc.struct_field(cells, "bytes")),
                pc.is_valid(pc.struct_field(cells, "path")),
            ),
        )
    present: list[bool] = [bool(v) for v in valid.to_pylist()]
    return present


@dataclass(frozen=True)
class HubImage:
    """One cell of an image column, read from the (memory-mapped) dataset only when needed.

    Holding a row index instead of the bytes keeps a 200k-question split cheap to list: only the
    images of the samples actually run are ever read.
    """

    table: Dataset = field(compare=False, repr=False)
    table_id: str
    index: int
    column: str
    item: int | None = None
    """For a column that holds a list of images per row: which one."""

    def data(self) -> bytes:
        cell = self.table[self.index][self.column]
        if self.item is not None:
            cell = cell[self.item] if isinstance(cell, list) and len(cell) > self.item else None
        if isinstance(cell, dict):
            if cell.get("bytes"):
                return bytes(cell["bytes"])
            if cell.get("path"):
                return _read(str(cell["path"]))
            cell = cell.get("bytes")
        if isinstance(cell, bytes | bytearray) and cell:
            return bytes(cell)
        if isinstance(cell, bytes | bytearray):
            raise ImageError(
                f"row {self.index} of column {self.column!r} holds an empty image (0 bytes)"
            )
        raise ImageError(f"row {self.index} has no image in column {self.column!r}")

    def load(self) -> PILImage.Image:
        return EncodedImage(self.data()).load()

    @once  # read once: a run names each image several times
    def fingerprint(self) -> str:
        """The hash of the image's bytes; for a cell without readable bytes, a name of the
        cell, so that the sample still has a resume key and `load` records why it failed."""
        try:
            data = self.data()
        except ImageError:
            where = f"{self.table_id}|{self.index}|{self.column}".encode()
            return "unreadable:" + hashlib.sha256(where).hexdigest()[:24]
        return hashlib.sha256(data).hexdigest()[:32]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"cannot read image file {path}: {exc.strerror}") from exc


def image_reader(
    ds: Dataset, source: Source, column: str, image_root: str | None
) -> Callable[[int, Any], ImageSource]:
    """A function (row index, cell value) → image source, for the column's storage kind.

    Embedded images (an `Image` feature, bytes, or a {bytes, path} struct) are read lazily from
    the dataset; of a list of images per row (SEED-Bench's), the first. File names (a string
    column, as VSR and What'sUp ship them) are resolved against `image_root`; every named file
    must exist, or loading fails naming the first missing one.
    """
    from datasets import Image, List

    if _is_text(ds, column):
        return _file_reader(source, column, image_root)
    images = ds.select_columns([column])
    feature = ds.features[column]
    listed = isinstance(feature, List) and isinstance(feature.feature, Image)
    if isinstance(feature, Image):
        images = images.cast_column(column, Image(decode=False))
    elif listed:
        images = images.cast_column(column, List(Image(decode=False)))
    table_id = source.describe()
    item = 0 if listed else None
    return lambda index, _cell: HubImage(images, table_id, index, column, item)


def _file_reader(
    source: Source, column: str, image_root: str | None
) -> Callable[[int, Any], ImageSource]:
    if image_root is None:
        raise DatasetUnavailableError(
            f"{source.benchmark}: {source.describe()} names its images by file ({column!r}) but "
            f"ships none; download the images and set benchmark.args.image_root=/path/to/images"
        )
    root = Path(image_root).expanduser()

    def read(_index: int, cell: Any) -> ImageSource:
        name = str(cell)
        parts = Path(name).parts
        # release files name images relative to their repository ("data/images/x.jpg"): try
        # the path as given, then with its leading folders dropped one by one
        for k in range(len(parts)):
            candidate = root.joinpath(*parts[k:])
            if candidate.is_file():
                return FileImage(str(candidate))
        raise DatasetUnavailableError(
            f"{source.benchmark}: image {name!r} not found under image_root={str(root)!r}; "
            f"set benchmark.args.image_root to the folder that holds the dataset's images"
        )

    return read
