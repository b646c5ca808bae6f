"""Building the static site: read results, compute the board, write pages, data files and assets.

The site opens from disk with no server and no network: scripts and data are local files loaded
with <script src> (file:// pages cannot fetch()), plotly.js is copied once into assets/.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from evalharness._version import __version__
from evalharness.errors import EvalharnessError
from evalharness.leaderboard import _table
from evalharness.leaderboard._pages import Site
from evalharness.leaderboard._read import read_results
from evalharness.leaderboard._runs import Board, build_board
from evalharness.leaderboard._safe import json_markup, safe_json
from evalharness.leaderboard._samples import (
    difficulty_columns,
    prepare,
    process,
    site_columns,
)
from evalharness.leaderboard._scores import RESAMPLES, compute

MARKER = ".evalharness-site"
GENERATED = (
    "assets",
    "data",
    "models",
    "benchmarks",
    "index.html",
    "samples.html",
    "compare.html",
    _table.MARKDOWN_FILE,
    _table.CSV_FILE,
)
ASSETS = ("style.css", "site.js", "samples.js", "compare.js")


class SiteError(EvalharnessError, RuntimeError):
    """The site cannot be written where asked; the message says why."""


def build_site(
    results_dir: Path | str, out_dir: Path | str, *, title: str = "evalharness leaderboard"
) -> Path:
    """Build the leaderboard of a results folder into `out_dir`; return the path of index.html."""
    return build(results_dir, out_dir, title=title)[0]


def build(
    results_dir: Path | str, out_dir: Path | str, *, title: str = "evalharness leaderboard"
) -> tuple[Path, Board]:
    """`build_site`, also returning the board it ranked (which runs, and why others not)."""
    root = Path(results_dir)
    runs, samples = read_results(root, site_columns)
    images = root / "images"
    from evalharness.leaderboard import _parity

    return _build(
        runs,
        samples,
        images if images.is_dir() else None,
        out_dir,
        title=title,
        parity=_parity.read(root),
    )


def build_site_from_frames(
    runs: pd.DataFrame,
    samples: pd.DataFrame,
    images_dir: Path | None,
    out_dir: Path | str,
    *,
    title: str = "evalharness leaderboard",
    versions: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    resamples: int = RESAMPLES,
) -> Path:
    """Build the site from `runs` and `samples` frames (schema: docs/results-schema.md).

    `versions` pins the version ranked per benchmark (default: that of its newest complete run);
    `descriptions` gives benchmark descriptions by name.
    """
    return _build(
        runs,
        samples,
        images_dir,
        out_dir,
        title=title,
        versions=versions,
        descriptions=descriptions,
        resamples=resamples,
    )[0]


def _build(
    runs: pd.DataFrame,
    samples: pd.DataFrame,
    images_dir: Path | None,
    out_dir: Path | str,
    *,
    title: str,
    versions: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
    resamples: int = RESAMPLES,
    parity: pd.DataFrame | None = None,
) -> tuple[Path, Board]:
    """`_write` with a failed write (a full disk, a read-only folder) as one SiteError line."""
    try:
        return _write(
            runs,
            samples,
            images_dir,
            Path(out_dir),
            title=title,
            versions=versions,
            descriptions=descriptions,
            resamples=resamples,
            parity=parity,
        )
    except OSError as exc:
        what = exc.strerror or str(exc)
        raise SiteError(
            f"cannot write the leaderboard to {out_dir}: {what} ({exc.filename}): make room "
            "there, or choose another folder with --out PATH."
        ) from exc


def _write(
    runs: pd.DataFrame,
    samples: pd.DataFrame,
    images_dir: Path | None,
    out_dir: Path,
    *,
    title: str,
    versions: Mapping[str, str] | None,
    descriptions: Mapping[str, str] | None,
    resamples: int,
    parity: pd.DataFrame | None = None,
) -> tuple[Path, Board]:
    out = _prepare_out(out_dir)
    board = build_board(runs, versions, descriptions)
    data = process(
        prepare(samples, board.runs),
        out,
        images_dir,
        board.ranked["rkey"],
        difficulty_columns(board.runs),
    )
    site = Site(board, data, compute(board, data, resamples), title)
    _copy_assets(out)
    (out / "data").mkdir(exist_ok=True)
    (out / "data" / "manifest.js").write_text(
        f'EH_DATA["manifest"]={safe_json(site.manifest())};\n', encoding="utf-8"
    )
    env = _environment()
    common = {
        "title": title,
        "version": __version__,
        "built": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "parity_page": parity is not None,
    }

    def render(template: str, path: Path, root: str, **ctx: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            env.get_template(template).render(root=root, **common, **ctx), encoding="utf-8"
        )

    index = site.index()
    render("index.html", out / "index.html", "", page="index", **index)
    _table.write(index, out)  # the same board as Markdown and CSV
    render("samples.html", out / "samples.html", "", page="samples")
    render("compare.html", out / "compare.html", "", page="compare")
    if parity is not None:  # tables `evalharness parity` wrote under the results folder
        from evalharness.leaderboard import _parity

        render("parity.html", out / "parity.html", "", page="parity", **_parity.context(parity))
    for bkey in board.benchmarks.index:
        render(
            "benchmark.html",
            out / "benchmarks" / f"{bkey}.html",
            "../",
            page="benchmark",
            **site.benchmark(bkey),
        )
    for mkey in board.models.index:
        render(
            "model.html", out / "models" / f"{mkey}.html", "../", page="model", **site.model(mkey)
        )
    return out / "index.html", board


def _prepare_out(out: Path) -> Path:
    """Refuse to write into a non-empty folder that is not a previous site; clear an old site."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} exists and is not a folder.")
    # A README alone (the repository's placeholder for the default folder) is kept, not refused.
    others = [p for p in out.iterdir() if p.name != "README.md"] if out.is_dir() else []
    if others and not (out / MARKER).exists():
        raise SiteError(
            f"{out} is not empty and holds no leaderboard: choose an empty or new folder."
        )
    out.mkdir(parents=True, exist_ok=True)
    for name in GENERATED:  # thumbnails (images/) are kept: they are content-addressed
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    (out / MARKER).write_text(
        "This folder is written by `evalharness leaderboard`; it is rebuilt in place.\n"
    )
    return out


def _copy_assets(out: Path) -> None:
    target = out / "assets"
    target.mkdir(parents=True, exist_ok=True)
    static = files("evalharness.leaderboard") / "static"
    for name in ASSETS:
        (target / name).write_bytes((static / name).read_bytes())
    import plotly

    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    shutil.copyfile(bundled, target / "plotly.min.js")


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evalharness.leaderboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = json_markup
    return env
