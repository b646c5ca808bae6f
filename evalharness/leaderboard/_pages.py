"""Template contexts of the index, benchmark and model pages (plain dicts and lists).

The tables are turned into plain records once: building 80 pages from pandas row lookups costs
seconds at board scale. The templates escape every string they print (Jinja autoescape); charts
and JSON blocks go through `_safe`. Links are built from keys only, never from names.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalharness.leaderboard import _charts as charts
from evalharness.leaderboard._cells import (
    Record,
    cell,
    finite,
    fmt,
    judge_note,
    metric_cell,
    parse_gap,
    read_shares,
)
from evalharness.leaderboard._provenance import libraries, pairs, pretty, provenance
from evalharness.leaderboard._runs import SIZE_BUCKETS, Board
from evalharness.leaderboard._safe import parse_json
from evalharness.leaderboard._samples import BenchData
from evalharness.leaderboard._scores import Scores
from evalharness.leaderboard._suites import averaged_suites, suite_rows

FEW_IMAGES = 20
"""Below this many images (bootstrap clusters) a benchmark page says its intervals are rough."""

KIND_SECTIONS = (
    ("model", "Models"),
    ("blind", "Blind runs (images replaced by gray)"),
    ("reference", "Reference baselines (not ranked)"),
)


def _rank_key(rank: Any, score: float) -> tuple[float, float]:
    return (rank if rank is not None else math.inf, -score if finite(score) else math.inf)


@dataclass
class Site:
    board: Board
    data: dict[str, BenchData]
    scores: Scores
    title: str

    def __post_init__(self) -> None:
        bench = self.board.benchmarks
        self.percent_all = bool(len(bench)) and bool(bench["percent"].all())
        self.scale, self.axis = (100.0, "score ×100") if self.percent_all else (1.0, "score")
        self.models_frame = self.board.models.join(self.scores.overall)
        self.models: dict[str, Record] = dict(
            zip(self.models_frame.index, self.models_frame.to_dict("records"), strict=True)
        )
        self.benches: dict[str, Record] = dict(
            zip(bench.index, bench.to_dict("records"), strict=True)
        )
        self.runs: list[Record] = self.board.runs.to_dict("records")
        self.cell_runs: dict[tuple[str, str], Record] = {}
        self.runs_of_model: dict[str, list[Record]] = defaultdict(list)
        self.runs_of_bench: dict[str, list[Record]] = defaultdict(list)
        for r in self.runs:
            r["kind"] = self.models[r["mkey"]]["kind"]
            r["rank"] = self.scores.run_rank.get(r["rkey"])
            self.runs_of_model[r["mkey"]].append(r)
            self.runs_of_bench[r["bkey"]].append(r)
            if r["ranked"]:
                self.cell_runs[(r["mkey"], r["bkey"])] = r
        ranked = [r for r in self.runs if r["ranked"]]
        self.capability_scores: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for r in ranked:
            self.capability_scores[r["mkey"]][r["capability"]].append(r["score"])
        per_cap: dict[str, list[float]] = defaultdict(list)
        for mkey, caps in self.capability_scores.items():
            if self.models[mkey]["kind"] == "model":
                for cap, values in caps.items():
                    per_cap[cap].append(float(np.mean(values)))
        self.board_means = {cap: float(np.mean(v)) for cap, v in per_cap.items()}

    # index ------------------------------------------------------------------------------------

    def index(self) -> Record:
        benches = [{"bkey": k, **b} for k, b in self.benches.items()]
        spans: dict[str, int] = {}
        for b in benches:
            spans[b["capability"]] = spans.get(b["capability"], 0) + 1
        sections: list[Record] = []
        for kind, title in KIND_SECTIONS:
            keys = sorted(
                (k for k, m in self.models.items() if m["kind"] == kind),
                key=lambda k: _rank_key(self.models[k]["rank"], self.models[k]["overall"]),
            )
            if keys:
                sections.append(
                    {"kind": kind, "title": title, "rows": [self._index_row(k) for k in keys]}
                )
        ranks = [m["rank"] for m in self.models.values() if m["rank"] is not None]
        self.tied = {r for r in ranks if ranks.count(r) > 1}
        for s in sections:
            for row in s["rows"]:
                row["tied"] = row["rank"] in self.tied
        sizes = {m["size"] for m in self.models.values()}
        return {
            "benches": benches,
            "groups": [{"name": c, "span": n} for c, n in spans.items()],
            "sections": sections,
            "percent": self.percent_all,
            "families": sorted({m["family"] for m in self.models.values()}),
            "sizes": [
                s for s in [n for _, n in SIZE_BUCKETS] + ["≥ 100B", "unknown"] if s in sizes
            ],
            "apart": self.apart(self.runs),
            "n_models": sum(m["kind"] == "model" for m in self.models.values()),
            "n_benchmarks": len(benches),
            "n_runs": len(self.runs),
            "figures": self._index_figures(),
            "suites": self._suites(),
        }

    def _suites(self) -> list[Record]:
        """The averaged suites with a run on the board (see `_suites`)."""
        out = []
        for suite in averaged_suites():
            rows = suite_rows(suite, self.cell_runs, self.benches, self.models)
            for r in rows:
                r["cell"] = cell(r["mean"], r["lo"], r["hi"], self.percent_all)
            if rows:
                out.append(
                    {
                        "name": suite.name,
                        "n": len(suite.benchmarks),
                        "definition": suite.definition,
                        "rows": rows,
                    }
                )
        return out

    def _index_row(self, mkey: str) -> Record:
        m = self.models[mkey]
        cells: list[Record | None] = []
        for bkey, bench in self.benches.items():
            run = self.cell_runs.get((mkey, bkey))
            if run is None:
                cells.append(None)
                continue
            c = cell(
                run["score"], run["score_ci_low"], run["score_ci_high"], bool(bench["percent"])
            )
            n, skipped = int(run["n_samples"] or 0), int(run["n_unsupported"] or 0)
            if n and skipped:  # items the model declined (several images, say) are not scored
                c["ci"] += f" · answered {100 * (n - skipped) / n:.0f} %"
            c.update(rkey=run["rkey"], rank=run["rank"])
            c["parse_gap"] = parse_gap(run.get("metrics"), bool(bench["percent"]))
            c["ci"] += read_shares(run.get("metrics"))
            cells.append(c)
        twin = m["twin"] if isinstance(m["twin"], str) else None
        gap = None
        if twin and m["kind"] == "model":
            diff = m["overall"] - self.models[twin]["overall"]
            gap = {"text": fmt(diff, self.percent_all), "v": diff if finite(diff) else None}
        overall = cell(m["overall"], m["lo"], m["hi"], self.percent_all)
        if not m["full"] and m["kind"] == "model" and overall["v"] is not None:
            overall["ci"] += f" · {m['coverage']} of {len(self.benches)}"
        return {
            "mkey": mkey,
            "name": m["name"],
            "family": m["family"],
            "size": m["size"],
            "kind": m["kind"],
            "params": m["params_label"],
            "params_v": m["params"] if finite(m["params"]) else None,
            "rank": m["rank"],
            "full": bool(m["full"]),
            "coverage": m["coverage"],
            "overall": overall,
            "cells": cells,
            "gap": gap,
            "twin": twin,
        }

    def _index_figures(self) -> Record:
        figs: Record = {}
        models = self.models_frame[self.models_frame["kind"] == "model"]
        if (models["params"].notna() & models["overall"].notna()).any():  # a point to plot
            figs["params"] = charts.params_scatter(models, self.scale, self.axis)
        pairs = [
            m for m in self.models.values() if m["kind"] == "model" and isinstance(m["twin"], str)
        ]
        if pairs:
            figs["gap"] = charts.blind_gap(
                [m["name"] for m in pairs],
                [m["overall"] * self.scale for m in pairs],
                [self.models[m["twin"]]["overall"] * self.scale for m in pairs],
                "overall " + self.axis,
            )
        return figs

    def apart(self, runs: list[Record]) -> list[Record]:
        rows = [r for r in runs if not r["ranked"]]
        return sorted(rows, key=lambda r: (r["benchmark"], r["model"], r["started_at"]))

    # benchmark pages --------------------------------------------------------------------------

    def benchmark(self, bkey: str) -> Record:
        bench = self.benches[bkey]
        percent = bool(bench["percent"])
        runs = sorted(
            (r for r in self.runs_of_bench[bkey] if r["ranked"]),
            key=lambda r: _rank_key(r["rank"], r["score"]),
        )
        metrics = [parse_json(r["metrics"]) or {} for r in runs]
        metrics = [m if isinstance(m, dict) else {} for m in metrics]
        names = sorted(
            {k for m in metrics for k in m if k != "score"}, key=lambda k: (k.count("["), k)
        )
        rows = []
        for r, mets in zip(runs, metrics, strict=True):
            rows.append(
                {
                    "rkey": r["rkey"],
                    "mkey": r["mkey"],
                    "name": r["model"],
                    "kind": r["kind"],
                    "rank": r["rank"],
                    "test": self.scores.run_test.get(r["rkey"], ""),
                    "score": cell(r["score"], r["score_ci_low"], r["score_ci_high"], percent),
                    "n": r["n_samples"],
                    "errors": r["n_errors"],
                    "unsupported": r["n_unsupported"],
                    "truncated": r["n_truncated"],
                    "judge": judge_note(r["judge"]),
                    "metrics": [metric_cell(mets.get(n), percent) for n in names],
                }
            )
        scale, axis = (100.0, "score ×100") if percent else (1.0, "score")
        figs: Record = {}
        if runs:
            figs["forest"] = charts.forest(pd.DataFrame(runs), scale, axis)
        data = self.data.get(bench["bvkey"])
        if data is not None and data.difficulty is not None:
            order = [r["rkey"] for r in sorted(runs, key=lambda r: -r["score"])]
            figs["difficulty"] = charts.difficulty(
                data.difficulty,
                {r["rkey"]: r["model"] for r in runs},
                order,
                data.difficulty_column,
                scale,
            )
        return {
            "bench": bench,
            "bkey": bkey,
            "rows": rows,
            "metric_names": names,
            "figures": figs,
            "apart": self.apart(self.runs_of_bench[bkey]),
            "binary": data.binary if data else None,
            "difficulty_label": charts.level_name(data.difficulty_column) if data else "",
            "images": int(data.groups.max()) + 1 if data is not None and data.groups.size else None,
            "few_images": FEW_IMAGES,
        }

    # model pages ------------------------------------------------------------------------------

    def model(self, mkey: str) -> Record:
        m = self.models[mkey]
        order = {k: i for i, k in enumerate(self.benches)}
        runs = sorted(
            self.runs_of_model[mkey],
            key=lambda r: (order.get(r["bkey"], len(order)), r["benchmark"], r["started_at"]),
        )
        rows = []
        for r in runs:
            percent = (
                bool(self.benches[r["bkey"]]["percent"]) if r["bkey"] in self.benches else False
            )
            rows.append(
                {
                    **r,
                    "score": cell(r["score"], r["score_ci_low"], r["score_ci_high"], percent),
                    "on_board": r["bkey"] in order,
                    "config": pretty(r["config"]),
                    "generation": pretty(r["generation"]),
                }
            )
        identity = parse_json(m["identity"])
        twin = m["twin"] if isinstance(m["twin"], str) else None
        return {
            "m": m,
            "mkey": mkey,
            "rows": rows,
            "twin": twin,
            "twin_name": self.models[twin]["name"] if twin else None,
            "identity": pairs(identity)
            if isinstance(identity, dict)
            else [("identity", str(m["identity"]))],
            "provenance": provenance(runs),
            "libraries": libraries(runs),
            "overall": cell(m["overall"], m["lo"], m["hi"], self.percent_all),
            "figures": self._model_figures(mkey, twin),
        }

    def _model_figures(self, mkey: str, twin: str | None) -> Record:
        figs: Record = {}
        mine = self.capability_scores.get(mkey, {})
        caps = [
            c for c in dict.fromkeys(b["capability"] for b in self.benches.values()) if c in mine
        ]
        if caps:
            figs["profile"] = charts.profile(
                caps,
                [float(np.mean(mine[c])) * self.scale for c in caps],
                [self.board_means.get(c, math.nan) * self.scale for c in caps],
                str(self.models[mkey]["name"]),
            )
        if twin:
            seeing, blind = (twin, mkey) if self.models[mkey]["kind"] == "blind" else (mkey, twin)
            shared = [
                k
                for k in self.benches
                if (seeing, k) in self.cell_runs and (blind, k) in self.cell_runs
            ]
            if shared:
                figs["gap"] = charts.blind_gap(
                    [self.benches[k]["name"] for k in shared],
                    [self.cell_runs[(seeing, k)]["score"] * self.scale for k in shared],
                    [self.cell_runs[(blind, k)]["score"] * self.scale for k in shared],
                    self.axis,
                )
        return figs

    # data for the script pages ----------------------------------------------------------------

    def manifest(self) -> Record:
        current = {b["bvkey"]: i for i, b in enumerate(self.benches.values())}
        models = {
            k: {
                "n": m["name"],
                "f": m["family"],
                "k": m["kind"],
                "rk": m["rank"],
                "o": m["overall"],
            }
            for k, m in self.models.items()
        }
        benches: Record = {}
        runs: Record = {}
        for r in self.runs:
            if r["bvkey"] not in benches:
                d = self.data.get(r["bvkey"])
                pct = self.benches[r["bkey"]]["percent"] if r["bkey"] in self.benches else False
                benches[r["bvkey"]] = {
                    "n": r["benchmark"],
                    "v": r["benchmark_version"],
                    "b": r["bkey"],
                    "cur": r["bvkey"] in current,
                    "o": current.get(r["bvkey"], len(current)),
                    "bin": bool(d.binary) if d else False,
                    "pct": bool(pct),
                    "items": d is not None,
                }
            runs[r["rkey"]] = {
                "m": r["mkey"],
                "b": r["bvkey"],
                "s": r["score"],
                "lo": r["score_ci_low"],
                "hi": r["score_ci_high"],
                "st": r["status"],
                "r": bool(r["ranked"]),
                "why": r["reason"],
                "n": int(r["n_samples"]),
            }
        return {"title": self.title, "models": models, "benches": benches, "runs": runs}
