"""The cross-harness page (parity.html): where our official reading, our robust reading and
lmms-eval's disagree, per sample beside the raw answer, from the tables `evalharness parity`
writes under `<results>/parity/`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

Record = dict[str, Any]
MAX_ROWS = 500
"""Disagreeing samples listed per run (the counts cover them all)."""


def read(results_dir: Path) -> pd.DataFrame | None:
    """Every parity table under the results folder, or None where there is none."""
    files = sorted((results_dir / "parity").glob("*.parquet"))
    frames = [pd.read_parquet(f) for f in files]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else None


def context(frame: pd.DataFrame) -> Record:
    """The page's runs: per run the counts by kind and the samples where readings disagree."""
    from evalharness.runner.parity import _PAIRS, KINDS, TOLERANCE

    runs = []
    for run_id, rows in frame.groupby("run_id", sort=True):
        first = rows.iloc[0]
        differ = {
            kind: _differs(rows[a], rows[b], TOLERANCE)
            for kind, (a, b) in zip(KINDS, _PAIRS, strict=True)
        }
        any_differ = pd.concat(differ.values(), axis=1).any(axis=1)
        listed = rows[any_differ].head(MAX_ROWS)
        runs.append(
            {
                "run_id": str(run_id),
                "benchmark": str(first["benchmark"]),
                "model": str(first["model"]),
                "task": str(first["task"]),
                "metric": str(first["metric"]),
                "n": len(rows),
                "counts": [{"kind": k, "n": int(v.sum())} for k, v in differ.items()],
                "rows": [_row(r) for r in listed.to_dict("records")],
                "more": int(any_differ.sum()) - len(listed),
            }
        )
    return {"runs": runs}


def _differs(a: pd.Series, b: pd.Series, tolerance: float) -> pd.Series:
    x, y = a.astype(float), b.astype(float)
    return ((x - y).abs() > tolerance) | (x.isna() != y.isna())


def _fmt(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(v) else f"{v:.3f}".rstrip("0").rstrip(".")


def _row(r: Record) -> Record:
    return {
        "sample_id": str(r["sample_id"]),
        "prediction": r.get("prediction") if isinstance(r.get("prediction"), str) else "",
        "target": r.get("target") if isinstance(r.get("target"), str) else "",
        "lmms_response": str(r.get("lmms_response") or ""),
        "official": _fmt(r.get("official")),
        "robust": _fmt(r.get("robust")),
        "lmms_eval": _fmt(r.get("lmms_eval")),
    }
