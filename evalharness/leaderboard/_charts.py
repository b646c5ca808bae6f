"""Plotly figures as plain dicts (data + layout), drawn in the page by the shipped plotly.js.

Plain dicts instead of plotly.graph_objects: building and validating hundreds of figure objects
costs seconds at board scale, and the page only needs the JSON. Every label passes through
`label()` because plotly renders a subset of HTML (links included) in text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalharness.leaderboard._safe import label
from evalharness.store import META_PREFIX

Figure = dict[str, Any]
FONT = {
    "family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "size": 12,
    "color": "#1f2933",
}
KIND_COLOURS = {"model": "#2563eb", "reference": "#9ca3af", "blind": "#f59e0b"}
VISIBLE_LINES = 8


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT["family"]}},
        "legend": {"orientation": "h", "y": -0.2},
    }
    base.update(extra)
    return base


def _num(values: Sequence[float] | np.ndarray, scale: float) -> list[float | None]:
    return [
        round(float(v) * scale, 4) if v is not None and math.isfinite(float(v)) else None
        for v in values
    ]


def forest(rows: pd.DataFrame, scale: float, axis: str) -> Figure:
    """Score and 95 % CI of every model on one benchmark, best on top."""
    rows = rows.sort_values("score")
    s, lo, hi = (
        rows[c].to_numpy(float) * scale for c in ("score", "score_ci_low", "score_ci_high")
    )
    names = [label(n) for n in rows["model"]]
    colours = [KIND_COLOURS.get(k, "#2563eb") for k in rows["kind"]]
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": _num(s, 1),
        "y": names,
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": _num(np.maximum(hi - s, 0), 1),
            "arrayminus": _num(np.maximum(s - lo, 0), 1),
            "color": "#64748b",
            "thickness": 1.5,
        },
        "marker": {"color": colours, "size": 8},
        "text": names,
        "hovertemplate": "%{text}: %{x:.3g}<extra></extra>",
    }
    height = max(220, 26 * len(rows) + 80)
    layout = _layout(
        height=height,
        xaxis={"title": {"text": axis}, "zeroline": False, "gridcolor": "#e5e7eb"},
        yaxis={"automargin": True, "type": "category"},
        showlegend=False,
    )
    return {"data": [trace], "layout": layout}


def profile(
    capabilities: Sequence[str], values: Sequence[float], mean: Sequence[float], name: str
) -> Figure:
    """A model's mean score per capability against the board mean (radar from 3 axes, else bars)."""
    caps = [label(c) for c in capabilities]
    if len(caps) >= 3:
        closed = [*caps, caps[0]]
        traces = [
            {
                "type": "scatterpolar",
                "r": _num([*mean, mean[0]], 1),
                "theta": closed,
                "name": "board mean",
                "line": {"color": "#9ca3af", "dash": "dot"},
                "fill": "none",
            },
            {
                "type": "scatterpolar",
                "r": _num([*values, values[0]], 1),
                "theta": closed,
                "name": label(name),
                "line": {"color": "#2563eb"},
                "fill": "toself",
                "fillcolor": "rgba(37,99,235,0.15)",
            },
        ]
        return {
            "data": traces,
            "layout": _layout(
                height=380,
                polar={
                    "radialaxis": {
                        "rangemode": "tozero",
                        "angle": 90,
                        "tickangle": 90,
                        "tickfont": {"size": 9},
                    }
                },
            ),
        }
    traces = [
        {
            "type": "bar",
            "x": caps,
            "y": _num(mean, 1),
            "name": "board mean",
            "marker": {"color": "#cbd5e1"},
        },
        {
            "type": "bar",
            "x": caps,
            "y": _num(values, 1),
            "name": label(name),
            "marker": {"color": "#2563eb"},
        },
    ]
    return {"data": traces, "layout": _layout(height=320, barmode="group")}


def level_name(column: str) -> str:
    """A difficulty column as readers name it: `meta_true_count` is "true count"."""
    return column.removeprefix(META_PREFIX).replace("_", " ")


def difficulty(
    table: pd.DataFrame, names: dict[str, str], order: Sequence[str], column: str, scale: float
) -> Figure:
    """Score against a difficulty level (e.g. the true count), one line per model, CI as error bars.

    Only the best few models are drawn at first; the rest are a click away in the legend.
    """
    traces = []
    parts = {str(k): p.sort_values("level") for k, p in table.groupby("rkey", sort=False)}
    for i, rkey in enumerate(order):
        part = parts.get(rkey)
        if part is None:
            continue
        y = part["mean"].to_numpy(float) * scale
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": _num(part["level"].to_numpy(float), 1),
                "y": _num(y, 1),
                "name": label(names.get(rkey, rkey)),
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": _num(np.maximum(part["hi"].to_numpy(float) * scale - y, 0), 1),
                    "arrayminus": _num(np.maximum(y - part["lo"].to_numpy(float) * scale, 0), 1),
                    "thickness": 1,
                },
                "visible": True if i < VISIBLE_LINES else "legendonly",
            }
        )
    title = level_name(column)
    layout = _layout(
        height=420,
        xaxis={"title": {"text": label(title)}, "dtick": 1},
        yaxis={"title": {"text": "score" + (" ×100" if scale == 100 else "")}},
        legend={"orientation": "v", "x": 1.02, "y": 1},
    )
    layout["margin"]["r"] = 180
    return {"data": traces, "layout": layout}


def blind_gap(
    names: Sequence[str], seeing: Sequence[float], blind: Sequence[float], axis: str
) -> Figure:
    """Score with the image and without it (blind twin), per model or per benchmark."""
    x = [label(n) for n in names]
    traces = [
        {
            "type": "bar",
            "x": x,
            "y": _num(seeing, 1),
            "name": "with image",
            "marker": {"color": "#2563eb"},
        },
        {
            "type": "bar",
            "x": x,
            "y": _num(blind, 1),
            "name": "blind (gray image)",
            "marker": {"color": "#f59e0b"},
        },
    ]
    layout = _layout(
        height=360, barmode="group", yaxis={"title": {"text": axis}}, xaxis={"automargin": True}
    )
    return {"data": traces, "layout": layout}


def params_scatter(models: pd.DataFrame, scale: float, axis: str) -> Figure:
    """Overall score against parameter count (log axis), one colour per model family."""
    rows = models[np.isfinite(models["params"].to_numpy(float)) & models["overall"].notna()]
    traces = []
    for family, part in rows.groupby("family", sort=True):
        y = part["overall"].to_numpy(float) * scale
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label(family),
                "x": _num(part["params"].to_numpy(float), 1),
                "y": _num(y, 1),
                "text": [label(n) for n in part["name"]],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "thickness": 1,
                    "array": _num(np.maximum(part["hi"].to_numpy(float) * scale - y, 0), 1),
                    "arrayminus": _num(np.maximum(y - part["lo"].to_numpy(float) * scale, 0), 1),
                },
                "marker": {"size": 9},
                "hovertemplate": "%{text}<br>%{x:.3s} parameters: %{y:.3g}<extra></extra>",
            }
        )
    ticks = [10.0**k for k in range(3, 16)]
    names = [
        "1K",
        "10K",
        "100K",
        "1M",
        "10M",
        "100M",
        "1B",
        "10B",
        "100B",
        "1T",
        "10T",
        "100T",
        "1000T",
    ]
    layout = _layout(
        height=380,
        xaxis={
            "type": "log",
            "title": {"text": "parameters"},
            "tickvals": ticks,
            "ticktext": names,
        },
        yaxis={"title": {"text": axis}},
    )
    return {"data": traces, "layout": layout}
