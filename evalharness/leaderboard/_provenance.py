"""The provenance card of a model page: what produced its numbers, from the runs table."""

from __future__ import annotations

import json
from typing import Any

from evalharness.leaderboard._safe import parse_json

Record = dict[str, Any]
PROVENANCE_FIELDS = (
    ("model_name", "registry name"),
    ("harness_version", "harness version"),
    ("harness_commit", "harness commit"),
    ("device", "device"),
    ("generation", "decoding"),
    ("seed", "seed"),
    ("batch_size", "batch size"),
    ("format_version", "result format"),
)


def pretty(text: str) -> str:
    parsed = parse_json(text)
    return json.dumps(parsed, indent=2, sort_keys=True, default=str) if parsed is not None else text


def pairs(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, default=str))
        for k, v in sorted(obj.items())
    ]


def provenance(runs: list[Record]) -> list[Record]:
    """Each provenance field once: a single value, or every distinct value with its run count."""
    out = []
    for col, name in PROVENANCE_FIELDS:
        counts: dict[str, int] = {}
        for r in runs:
            counts[str(r[col])] = counts.get(str(r[col]), 0) + 1
        vals = sorted(counts.items(), key=lambda kv: -kv[1])
        out.append({"name": name, "vals": vals, "single": len(vals) == 1})
    started = [r["started_at"] for r in runs if r["started_at"]]
    finished = [r["finished_at"] for r in runs if r["finished_at"]]
    span = f"{min(started)} → {max(finished) if finished else 'unfinished'}" if started else "—"
    out.append({"name": "dates", "vals": [(span, len(runs))], "single": True})
    errors = (
        f"{sum(r['n_errors'] for r in runs)} errors, {sum(r['n_unsupported'] for r in runs)} unsupported "
        f"in {sum(r['n_samples'] for r in runs)} samples"
    )
    out.append({"name": "errors", "vals": [(errors, len(runs))], "single": True})
    return out


def libraries(runs: list[Record]) -> list[tuple[str, str]]:
    versions: dict[str, set[str]] = {}
    for text in {r["libraries"] for r in runs}:
        parsed = parse_json(text)
        if isinstance(parsed, dict):
            for k, v in parsed.items():
                versions.setdefault(str(k), set()).add(str(v))
    return [(k, ", ".join(sorted(v))) for k, v in sorted(versions.items())]
