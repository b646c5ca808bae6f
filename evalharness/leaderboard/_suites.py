"""Suite averages on the board: for every suite whose config says how it is averaged
(`average:` in configs/suite/NAME.yaml), each model's mean score over the suite's benchmarks.

A benchmark's stored score is already on the scale the suite's definition averages (MME and
OCRBench, for instance, store their totals as shares of their maxima), so the average is the
plain mean. Its interval combines the benchmarks' own 95 % intervals as independent (they rest
on different items): half-width 1.96 · sqrt(Σ se²) / k with se = CI width / (2 · 1.96), cut
at 0 and 1 where every benchmark's interval lies within them. A model without every benchmark
of the suite shows its mean over those it has, with its coverage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class SuiteAverage:
    """A suite that the board averages: its name, benchmarks and how the average is defined."""

    name: str
    benchmarks: tuple[str, ...]
    definition: str


def averaged_suites(folder: Path | None = None) -> list[SuiteAverage]:
    """The suites of the config folder that define an average, by name."""
    from omegaconf import OmegaConf

    if folder is None:
        from evalharness.cli.config import configs_dir

        folder = configs_dir() / "suite"
    out = []
    for path in sorted(folder.glob("*.yaml")):
        cfg = OmegaConf.to_container(OmegaConf.load(path))
        if isinstance(cfg, dict) and cfg.get("average"):
            names = tuple(str(b) for b in cfg.get("benchmarks") or [])
            out.append(SuiteAverage(str(cfg.get("name") or path.stem), names, str(cfg["average"])))
    return out


def suite_rows(
    suite: SuiteAverage,
    cells: Mapping[tuple[str, str], Record],
    benches: Mapping[str, Record],
    models: Mapping[str, Record],
) -> list[Record]:
    """One row per model with a run on any of the suite's benchmarks, best average first."""
    keys = [k for k, b in benches.items() if b["name"] in suite.benchmarks]
    rows = []
    for mkey, model in models.items():
        runs = [cells[(mkey, k)] for k in keys if (mkey, k) in cells]
        scores = [float(r["score"]) for r in runs if math.isfinite(float(r["score"]))]
        if not scores:
            continue
        mean = sum(scores) / len(scores)
        ses = [
            (float(r["score_ci_high"]) - float(r["score_ci_low"])) / (2 * 1.96)
            for r in runs
            if math.isfinite(float(r["score_ci_high"]) - float(r["score_ci_low"]))
        ]
        half = 1.96 * math.sqrt(sum(s * s for s in ses)) / len(scores) if ses else math.nan
        # an average of shares stays a share: cut at 0 and 1 where every interval lies within
        shares = all(
            float(r["score_ci_low"]) >= 0.0 and float(r["score_ci_high"]) <= 1.0 for r in runs
        )
        low, high = (0.0, 1.0) if shares else (-math.inf, math.inf)
        rows.append(
            {
                "mkey": mkey,
                "name": model["name"],
                "kind": model["kind"],
                "mean": mean,
                "lo": max(low, mean - half),
                "hi": min(high, mean + half),
                "covered": len(scores),
                "full": len(scores) == len(suite.benchmarks),
            }
        )
    return sorted(rows, key=lambda r: (not r["full"], -r["mean"]))
