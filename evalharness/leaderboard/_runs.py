"""The runs table made ready for the board: keys, comparability, models and benchmarks.

Only comparable results are ranked together. Per benchmark the *current* version is the one of the
most recently finished complete run (or the version given by the caller); within it the sample set
is the most common `data_hash`. Every other run is kept, with the reason it is not ranked: not
complete, another benchmark version, another sample set (e.g. a `limit`), or superseded by a newer
run of the same model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalharness.leaderboard._safe import digest, slug
from evalharness.store import RunRecord, conform

CAPABILITY_ORDER = (
    "vqa",
    "captioning",
    "counting",
    "spatial",
    "binding",
    "hallucination",
    "text",
    "adherence",
)
SIZE_BUCKETS = ((1e9, "< 1B"), (3e9, "1–3B"), (10e9, "3–10B"), (30e9, "10–30B"), (100e9, "30–100B"))


@dataclass
class Board:
    runs: pd.DataFrame
    """Every run, with keys (rkey, mkey, bkey, bvkey), `ranked` and `reason`."""
    ranked: pd.DataFrame
    """The comparable runs: at most one per (model, benchmark), all of the current version."""
    models: pd.DataFrame
    """One row per model (index = mkey): name, family, params, size, kind, twin, coverage."""
    benchmarks: pd.DataFrame
    """One row per benchmark on the board (index = bkey), in capability order."""


def normalise(runs: pd.DataFrame) -> pd.DataFrame:
    """Every column of the schema (`RunRecord`) present with its type, a column runs stored by
    an older version lack holding its value for them; unknown extras are kept."""
    out = conform(runs.reset_index(drop=True), RunRecord)
    out["model"] = out["model"].where(out["model"] != "", out["model_name"])
    out["rkey"] = [f"r{digest(r)}" for r in out["run_id"]]
    out["mkey"] = [slug(m) for m in out["model"]]
    out["bkey"] = [slug(b) for b in out["benchmark"]]
    out["bvkey"] = [
        f"v{digest(b + chr(0) + v)}"
        for b, v in zip(out["benchmark"], out["benchmark_version"], strict=True)
    ]
    return out


def build_board(
    runs: pd.DataFrame,
    versions: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> Board:
    runs = normalise(runs)
    runs["reason"] = _reasons(runs, dict(versions or {}))
    runs["ranked"] = runs["reason"] == ""
    ranked = runs[runs["ranked"]].reset_index(drop=True)
    benchmarks = _benchmarks(runs, ranked, dict(descriptions or {}))
    models = _models(runs, ranked, len(benchmarks))
    return Board(runs, ranked, models, benchmarks)


def _reasons(runs: pd.DataFrame, versions: dict[str, str]) -> pd.Series:
    reason = pd.Series("", index=runs.index, dtype=object)
    status = runs["status"].to_numpy(dtype=object)
    complete = status == "complete"
    why = runs["status_reason"].to_numpy(dtype=object)
    for i in np.flatnonzero(~complete):
        reason.iat[i] = f"run {status[i] or 'of unknown status'}" + (
            f": {why[i]}" if why[i] else ""
        )
    no_score = complete & ~np.isfinite(runs["score"].to_numpy(float))
    reason[no_score] = "complete but without a score"
    n, unsupported = runs["n_samples"].to_numpy(), runs["n_unsupported"].to_numpy()
    reason[no_score & (n > 0) & (unsupported == n)] = (
        "the model cannot answer these items (every sample unsupported, e.g. open questions "
        "for a matching model)"
    )

    live = runs[reason == ""].sort_values(["finished_at", "started_at"])
    current = live.groupby("benchmark")["benchmark_version"].last().to_dict()
    current.update({b: v for b, v in versions.items() if b in current})
    bench = runs["benchmark"].to_numpy(dtype=object)
    version = runs["benchmark_version"].to_numpy(dtype=object)
    for i in np.flatnonzero((reason == "").to_numpy()):
        if version[i] != current.get(bench[i]):
            shown = current.get(bench[i], "another version")
            reason.iat[i] = f"benchmark version {version[i]} (the board shows {shown})"

    # the most common sample set; ties go to the larger one
    live = runs[reason == ""]
    sizes = live.groupby(["benchmark", "data_hash"]).agg(
        k=("run_id", "size"), n=("n_samples", "max")
    )
    main = sizes.reset_index().sort_values(["k", "n"]).groupby("benchmark")["data_hash"].last()
    data_hash, n, limits = (runs[c].to_numpy() for c in ("data_hash", "n_samples", "limit"))
    for i in np.flatnonzero((reason == "").to_numpy()):
        if data_hash[i] != main.get(bench[i]):
            limit = f", limit={limits[i]:g}" if math.isfinite(limits[i]) else ""
            reason.iat[i] = f"a different sample set ({n[i]} samples{limit})"

    live = runs[reason == ""].sort_values(["finished_at", "started_at"], ascending=False)
    superseded = live.index[live.duplicated(["model", "benchmark"], keep="first")]
    reason[superseded] = "superseded by a newer run of this model"
    return reason


# reason prefix → what the command line says of such runs, and what to do
_UNRANKED = (
    (
        "benchmark version",
        "of another benchmark version than the board's: `evalharness rescore` brings older "
        "ones to the current version where their questions are unchanged; then build again",
    ),
    ("run ", "not complete (failed, interrupted or running): run their command again"),
    ("a different sample set", "on another sample set than the board's (another limit or n)"),
    ("superseded", "superseded by a newer run of the same model"),
    ("the model cannot answer", "where the model can answer no item (open ones, for a matcher)"),
)


def unranked_summary(board: Board) -> list[str]:
    """Lines for the command line: how many runs the board leaves out, by kind of reason, with
    what to do where something can be done. Empty when every run is ranked."""
    reasons = board.runs.loc[~board.runs["ranked"], "reason"].astype(str)
    if reasons.empty:
        return []
    counts: dict[str, int] = {}
    for reason in reasons:
        said = next((what for prefix, what in _UNRANKED if reason.startswith(prefix)), reason)
        counts[said] = counts.get(said, 0) + 1
    n = len(reasons)
    lines = [f"{n} run{'s' if n != 1 else ''} not ranked (the site lists each under Other runs):"]
    lines += [f"  {k} {what}" for what, k in sorted(counts.items(), key=lambda kv: -kv[1])]
    return lines


def size_bucket(params: float) -> str:
    if not math.isfinite(params) or params <= 0:
        return "unknown"
    for limit, name in SIZE_BUCKETS:
        if params < limit:
            return name
    return "≥ 100B"


def format_params(params: float) -> str:
    if not math.isfinite(params) or params <= 0:
        return "—"
    for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if params >= div:
            return f"{params / div:.3g}{unit}"
    return f"{params:.0f}"


def _models(runs: pd.DataFrame, ranked: pd.DataFrame, n_benchmarks: int) -> pd.DataFrame:
    g = runs.sort_values("started_at").groupby("mkey", sort=False)
    models = g.agg(
        name=("model", "last"),
        family=("model_family", "last"),
        params=("model_params", "max"),
        reference=("reference", "any"),
        blind=("blind", "any"),
        identity=("model_identity", "last"),
        model_name=("model_name", "last"),
    )
    models["family"] = models["family"].where(models["family"] != "", "unknown")
    models["size"] = models["params"].map(size_bucket)
    models["params_label"] = models["params"].map(format_params)
    models["kind"] = np.where(
        models["reference"], "reference", np.where(models["blind"], "blind", "model")
    )
    models["coverage"] = (
        ranked.groupby("mkey")["bkey"].nunique().reindex(models.index).fillna(0).astype(int)
    )
    models["full"] = models["coverage"] == n_benchmarks
    by_name = {n: k for k, n in models.loc[models["kind"] != "blind", "name"].items()}
    twin = {
        k: by_name.get(n.removesuffix(" (blind)").rstrip())
        for k, n in models.loc[models["blind"], "name"].items()
    }
    models["twin"] = pd.Series(twin, dtype=object).reindex(models.index)
    for blind_key, seeing_key in twin.items():
        if seeing_key is not None:
            models.loc[seeing_key, "twin"] = blind_key
    return models


def _benchmarks(
    runs: pd.DataFrame, ranked: pd.DataFrame, descriptions: dict[str, str]
) -> pd.DataFrame:
    if ranked.empty:
        return pd.DataFrame(
            columns=[
                "name",
                "version",
                "bvkey",
                "capability",
                "n",
                "description",
                "percent",
                "n_models",
                "cap_order",
            ]
        )
    g = ranked.groupby("bkey", sort=False)
    b = g.agg(
        name=("benchmark", "first"),
        version=("benchmark_version", "first"),
        bvkey=("bvkey", "first"),
        capability=("capability", "last"),
        n=("n_samples", "max"),
        n_models=("mkey", "nunique"),
    )
    # the newest stored text: runs stored before the column have none until rescored
    text = ranked["description"].where(ranked["description"] != "")
    stored = text.groupby(ranked["bkey"]).last().reindex(b.index).fillna("")
    b["capability"] = b["capability"].where(b["capability"] != "", "other")
    b["description"] = [
        descriptions.get(n) or str(d) for n, d in zip(b["name"], stored, strict=True)
    ]
    # scores on a 0-1 scale (accuracy, CIDEr, …) are shown ×100; anything larger as stored
    lo = g["score_ci_low"].min().fillna(0.0)
    hi = g["score_ci_high"].max().fillna(1.0)
    b["percent"] = (g["score"].min() >= -1) & (g["score"].max() <= 10) & (lo >= -1) & (hi <= 10)
    order = {c: i for i, c in enumerate(CAPABILITY_ORDER)}
    b["cap_order"] = b["capability"].map(lambda c: order.get(c, len(order)))
    return b.sort_values(["cap_order", "capability", "name"])
