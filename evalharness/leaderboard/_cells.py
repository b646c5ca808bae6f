"""Table cells of the board's pages: numbers as text with their intervals, a run's reading
shares, robust-minus-official gaps and judge notes (plain dicts for the templates)."""

from __future__ import annotations

import math
from typing import Any

from evalharness.leaderboard._safe import parse_json

Record = dict[str, Any]


def fmt(value: float | None, percent: bool) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.1f}" if percent else f"{value:.3f}"


def cell(score: float, lo: float, hi: float, percent: bool) -> Record:
    ci = f"{fmt(lo, percent)}–{fmt(hi, percent)}" if finite(lo) and finite(hi) else ""
    return {
        "text": fmt(score, percent),
        "ci": ci,
        "v": score if finite(score) else None,
        "lo": lo if finite(lo) else None,
        "hi": hi if finite(hi) else None,
    }


def read_shares(metrics: Any) -> str:
    """' · read: rule 50 %, judge 33 %, none 17 %' for a run read with a judge, else ''."""
    parsed = parse_json(metrics) if isinstance(metrics, str) else metrics
    if not isinstance(parsed, dict):
        return ""
    shares = []
    for key, label in (("read_rule", "rule"), ("read_judge", "judge"), ("read_unreadable", "none")):
        value = (parsed.get(key) or {}).get("value")
        if not isinstance(value, int | float) or not math.isfinite(value):
            return ""
        shares.append(f"{label} {100 * value:.0f} %")
    return " · read: " + ", ".join(shares)


def parse_gap(metrics: Any, percent: bool) -> Record | None:
    """Robust minus official reading of a run whose benchmark scores both ways, else None."""
    parsed = parse_json(metrics) if isinstance(metrics, str) else metrics
    if not isinstance(parsed, dict):
        return None
    robust, official = ((parsed.get(p) or {}).get("value") for p in ("robust", "official"))
    if not (isinstance(robust, int | float) and isinstance(official, int | float)):
        return None
    diff = float(robust) - float(official)
    if not math.isfinite(diff):
        return None
    text = fmt(diff, percent)
    return {"text": text if diff < 0 else "+" + text, "v": diff}


def finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def judge_note(stored: str) -> str:
    """A run's judge, for the badge beside its model: who, and its agreement with the rules
    when below the run's `judge.min_agreement` (empty without a judge)."""
    judge = parse_json(stored) if stored else None
    if not isinstance(judge, dict):
        return ""
    settings = judge.get("settings") or {}
    model = settings.get("model") or {}
    name = model.get("label") or model.get("path") or model.get("name") or "judge"
    agreement = judge.get("agreement")
    if judge.get("flagged") and isinstance(agreement, int | float):
        return (
            f"judge {name}: agrees with the rules on {agreement:.0%} of the replies both read, "
            f"below {settings.get('min_agreement', 0.8):.0%}"
        )
    return f"judge {name}"


def metric_cell(entry: Any, percent: bool) -> Record | None:
    if not isinstance(entry, dict):
        return None

    def num(key: str) -> float:
        v = entry.get(key)
        return float(v) if isinstance(v, int | float) else math.nan

    c = cell(num("value"), num("ci_low"), num("ci_high"), percent)
    c["n"] = entry.get("n") if isinstance(entry.get("n"), int) else None
    note = entry.get("note")
    if isinstance(note, str) and note:  # why the value is undefined (NaN)
        c["ci"] = note
    return c
