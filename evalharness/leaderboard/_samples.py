"""Sample-level data: score matrices for the tests, data files for the browser pages, thumbnails.

Per benchmark version the samples are laid out once on a shared item axis (sorted sample ids):
the score matrix (items × runs) drives the paired tests and the bootstrap; `data/items/<bv>.js`
holds what every run shares (prompt, target, thumbnails), `data/runs/<run>.js` what each run adds
(raw output, extracted answer, score, error), and `data/scores/<bv>.js` every run's scores on the
item axis for the head-to-head page. Data files are scripts that assign into `window.EH_DATA`,
because pages opened from disk cannot fetch() JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from evalharness.leaderboard._files import Output, Thumbnails
from evalharness.leaderboard._safe import parse_json
from evalharness.leaderboard.ranking import is_binary
from evalharness.store import SampleRecord, conform

FloatArray = npt.NDArray[np.float64]
MAX_LEVELS = 40
SAMPLE_COLUMNS = (
    "run_id",
    "sample_id",
    "group",
    "category",
    "prompt",
    "prediction",
    "extracted",
    "target",
    "error",
    "image_ids",
    "choices",
    "read_status",
    "score",
    "unsupported",
)
"""The samples columns the site reads, besides each benchmark's difficulty column (metadata,
tokens and timings are left on disk); their types are the schema's (`SampleRecord`)."""


def difficulty_columns(runs: pd.DataFrame) -> dict[str, str]:
    """Per benchmark version (`bvkey` of normalised runs), the samples column its runs name as
    grading an item's difficulty (the newest that names one)."""
    named = runs.loc[runs["difficulty_column"] != "", ["bvkey", "difficulty_column"]]
    return {str(k): str(c) for k, c in named.groupby("bvkey")["difficulty_column"].last().items()}


def site_columns(runs: pd.DataFrame) -> list[str]:
    """The samples columns to read for the site of `runs` (as stored): `SAMPLE_COLUMNS` and the
    difficulty columns the runs name."""
    named = runs["difficulty_column"].dropna() if "difficulty_column" in runs else []
    return [*SAMPLE_COLUMNS, *sorted({str(c) for c in named if c} - set(SAMPLE_COLUMNS))]


@dataclass
class BenchData:
    """One benchmark version on its item axis."""

    bvkey: str
    items: list[str]
    groups: npt.NDArray[np.int64]
    columns: dict[str, int]
    """run key -> column of `scores`"""
    scores: FloatArray
    binary: bool
    difficulty: pd.DataFrame | None = None
    """rkey, level, mean, lo, hi, n — accuracy per difficulty level (when the samples have one)."""
    difficulty_column: str = ""


_READ_NOTES = ("unreadable", "truncated")
"""The read statuses the browser shows (the others need no note)."""


def _pylist(values: pd.Series) -> list[Any]:
    """Column values as Python objects with every missing value as None (JSON null)."""
    return list(values.to_numpy(dtype=object, na_value=None).tolist())


def _scores_list(values: FloatArray) -> list[float | None]:
    rounded = np.round(values, 6).astype(object)
    rounded[~np.isfinite(values)] = None
    return list(rounded.tolist())


@dataclass
class Prepared:
    """Samples of known runs with their sort order by (benchmark version, run, sample id)."""

    frame: pd.DataFrame
    order: npt.NDArray[np.intp]
    bv: npt.NDArray[np.intp]
    run: npt.NDArray[np.intp]
    sid: npt.NDArray[np.intp]
    rkeys: npt.NDArray[Any]
    bvkeys: npt.NDArray[Any]


def prepare(samples: pd.DataFrame, runs: pd.DataFrame) -> Prepared:
    """The columns the site uses, samples of unknown runs dropped, and one global sort order.

    Sorting once by (benchmark version, run, sample id) turns every later step into work on a
    contiguous range instead of a search per run. The sort is over integer codes; sample ids are
    ranked among their distinct values only.
    """
    rkeys, bvkeys = runs["rkey"].to_numpy(), runs["bvkey"].to_numpy()
    if samples.empty or "run_id" not in samples or "sample_id" not in samples:
        empty = np.zeros(0, dtype=np.intp)
        return Prepared(
            pd.DataFrame(columns=list(SAMPLE_COLUMNS)), empty, empty, empty, empty, rkeys, bvkeys
        )
    wanted = set(site_columns(runs))
    frame = samples[[c for c in samples.columns if c in wanted]]
    frame = conform(frame, SampleRecord, only=SAMPLE_COLUMNS)  # columns older runs lack too
    run_pos = pd.Index(runs["run_id"]).get_indexer(frame["run_id"])
    known = np.flatnonzero(run_pos >= 0)
    run_pos = run_pos[known]
    bv_codes = pd.factorize(bvkeys[run_pos])[0]
    sid_codes, sid_values = pd.factorize(frame["sample_id"].astype(str).to_numpy()[known])
    sid_codes = np.argsort(np.argsort(np.asarray(sid_values, dtype=object)))[sid_codes]
    local = np.lexsort((sid_codes, run_pos, bv_codes))
    return Prepared(
        frame, known[local], bv_codes[local], run_pos[local], sid_codes[local], rkeys, bvkeys
    )


def process(
    prep: Prepared,
    out: Path,
    images_dir: Path | None,
    ranked_runs: Iterable[str],
    difficulty: Mapping[str, str] | None = None,
) -> dict[str, BenchData]:
    """Write the data files of every benchmark version; return the score matrices.
    `difficulty` names, per benchmark version, the column that grades its items' difficulty
    (`difficulty_columns`)."""
    levels = dict(difficulty or {})
    ranked = set(ranked_runs)
    result: dict[str, BenchData] = {}
    output = Output(out)
    thumbs = Thumbnails(images_dir, output)
    bv = prep.bv
    starts = np.flatnonzero(np.r_[True, bv[1:] != bv[:-1]]).tolist() if len(bv) else []
    try:
        for a, b in zip(starts, [*starts[1:], len(bv)][: len(starts)], strict=True):
            sub = prep.frame.take(prep.order[a:b])
            run, sid = prep.run[a:b], prep.sid[a:b]
            key = str(prep.bvkeys[run[0]])
            result[key] = _one(
                key, sub, run, sid, prep.rkeys, output, thumbs, ranked, levels.get(key, "")
            )
    finally:
        output.close()
    return result


def _one(
    bvkey: str,
    sub: pd.DataFrame,
    run: npt.NDArray[np.intp],
    sid: npt.NDArray[np.intp],
    all_rkeys: npt.NDArray[Any],
    out: Output,
    images: Thumbnails,
    ranked: set[str],
    level_column: str,
) -> BenchData:
    items_codes, first, codes = np.unique(sid, return_index=True, return_inverse=True)
    run_codes, rcodes = np.unique(run, return_inverse=True)
    rkeys = [str(k) for k in all_rkeys[run_codes]]
    matrix = np.full((len(items_codes), len(rkeys)), np.nan)
    matrix[codes, rcodes] = sub["score"].to_numpy(dtype=np.float64)
    # the item axis: each item's shared fields come from its first row
    head = sub.iloc[first]
    items = [str(v) for v in head["sample_id"]]
    groups = pd.factorize(head["group"].where(head["group"] != "", head["sample_id"]))[0]
    thumbs = [images.ids(v) for v in head["image_ids"]]
    out.data(
        f"data/items/{bvkey}.js",
        f"items:{bvkey}",
        {
            "id": items,
            "q": _pylist(head["prompt"]),
            "t": _pylist(head["target"]),
            "c": _pylist(head["category"]),
            "img": thumbs,
            "ch": [_choices(v) for v in head["choices"]],
        },
        clean=False,
    )
    binary = is_binary(matrix[:, [i for i, k in enumerate(rkeys) if k in ranked]])
    _write_runs(
        sub, codes, rcodes, rkeys, head["prompt"].to_numpy(dtype=object, na_value=None), out
    )
    out.data(
        f"data/scores/{bvkey}.js",
        f"scores:{bvkey}",
        {
            "binary": binary,
            "groups": groups.tolist(),
            "runs": {k: _encode_scores(matrix[:, j], binary) for j, k in enumerate(rkeys)},
        },
        clean=False,
    )
    column, difficulty = _difficulty(sub, level_column, pd.Index(rkeys), rcodes, binary)
    columns = {k: j for j, k in enumerate(rkeys)}
    return BenchData(
        bvkey, items, groups.astype(np.int64), columns, matrix, binary, difficulty, column
    )


def _write_runs(
    sub: pd.DataFrame,
    codes: npt.NDArray[np.intp],
    rcodes: npt.NDArray[np.intp],
    rkeys: list[str],
    item_prompts: npt.NDArray[Any],
    out: Output,
) -> None:
    """One data file per run, columns aligned on `i` (item positions, omitted when all in order)."""
    bounds = np.searchsorted(rcodes, np.arange(len(rkeys) + 1))
    prompt = sub["prompt"].to_numpy(dtype=object, na_value=None, copy=True)
    prompt[prompt == item_prompts[codes]] = None  # kept only where it differs from the shared one
    error = sub["error"].to_numpy(dtype=object, na_value=None, copy=True)
    error[error == ""] = None
    cols = {
        "p": _pylist(sub["prediction"]),
        "x": _pylist(sub["extracted"]),
        "s": _scores_list(sub["score"].to_numpy(dtype=np.float64)),
        "e": error.tolist(),
        "u": sub["unsupported"].to_numpy(dtype=bool).astype(int).tolist(),
        "r": [r if r in _READ_NOTES else None for r in _pylist(sub["read_status"])],
        "q": prompt.tolist(),
    }
    code_list = codes.tolist()
    for j, key in enumerate(rkeys):
        a, b = int(bounds[j]), int(bounds[j + 1])
        data: dict[str, Any] = {name: values[a:b] for name, values in cols.items()}
        if all(v is None for v in data["q"]):
            del data["q"]
        idx = code_list[a:b]
        if idx != list(range(b - a)):
            data["i"] = idx
        out.data(f"data/runs/{key}.js", f"run:{key}", data, clean=False)


def _encode_scores(values: FloatArray, binary: bool) -> str | list[float | None]:
    """0/1 scores as a string of '1', '0' and '.' (missing): a third of the JSON list's size."""
    if binary:
        chars = np.full(values.shape, ".", dtype="<U1")
        chars[values == 1.0] = "1"
        chars[values == 0.0] = "0"
        return "".join(chars.tolist())
    return _scores_list(values)


def _choices(value: object) -> list[str] | None:
    parsed = parse_json(value)
    return [str(c) for c in parsed] if isinstance(parsed, list) else None


def _difficulty(
    sub: pd.DataFrame,
    column: str,
    rkeys: pd.Index,
    rcodes: npt.NDArray[np.intp],
    binary: bool,
) -> tuple[str, pd.DataFrame | None]:
    """Mean score per level of the difficulty `column` and run, with a Wilson (0/1) or normal
    95 % interval; none where the column is absent or has fewer than 2 or over `MAX_LEVELS`
    numeric levels.

    Closed-form intervals instead of the bootstrap: hundreds of (run, level) cells per benchmark.
    """
    if not column or column not in sub:
        return "", None
    level = pd.to_numeric(sub[column], errors="coerce")
    if level.notna().sum() == 0 or not 2 <= level.nunique() <= MAX_LEVELS:
        return "", None
    cells = pd.DataFrame({"run": rcodes, "level": level.to_numpy(), "s": sub["score"].to_numpy()})
    g = cells.dropna().groupby(["run", "level"])["s"]
    stats = g.agg(["mean", "count", "std"]).reset_index()
    n, m = stats["count"].to_numpy(float), stats["mean"].to_numpy(float)
    if binary:
        z2 = 1.96**2
        centre = (m + z2 / (2 * n)) / (1 + z2 / n)
        half = 1.96 * np.sqrt(m * (1 - m) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    else:
        centre = m
        half = 1.96 * stats["std"].fillna(0.0).to_numpy(float) / np.sqrt(n)
    table = pd.DataFrame(
        {
            "rkey": np.asarray(rkeys)[stats["run"].to_numpy()],
            "level": stats["level"],
            "mean": m,
            "lo": centre - half,
            "hi": centre + half,
            "n": n.astype(int),
        }
    )
    return column, table
