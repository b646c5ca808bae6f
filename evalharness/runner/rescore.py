"""Redo extraction and scoring of stored runs from their raw predictions, without the model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalharness.errors import EvalharnessError
from evalharness.runner.job import load_benchmark
from evalharness.runner.scoring import METRIC_PREFIX, aggregate, score_rows
from evalharness.runner.spec import BenchmarkSpec
from evalharness.store import ResultsStore, load_runs, to_frame


def rescore(results_dir: str | Path, benchmarks: Sequence[str] | None = None) -> int:
    """Re-score every complete run (of these benchmarks); returns how many runs were rescored.

    A run whose benchmark now has another version is skipped with a note: its stored samples no
    longer match what the benchmark generates.
    """
    store = ResultsStore(results_dir, create=False)
    runs = load_runs(results_dir)
    if runs.empty:
        raise EvalharnessError(f"no runs in {results_dir}: run `evalharness run …` first.")
    done = 0
    for run in runs.to_dict("records"):
        if (benchmarks and run["benchmark"] not in benchmarks) or run["status"] != "complete":
            continue
        bench = load_benchmark(_source(run))
        if bench.version != run["benchmark_version"]:
            print(
                f"skip {run['model']} × {run['benchmark']}: stored v{run['benchmark_version']}, now v{bench.version}"
            )
            continue
        with store.lock(run["run_id"]):
            raw = store.read_samples(run["run_id"])
            raw = raw.drop(columns=[c for c in raw.columns if c.startswith(METRIC_PREFIX)])
            samples = list(bench.samples())
            scored = score_rows(bench, samples, raw)
            metrics = aggregate(bench, samples, scored, int(run["seed"]))
            store.compact(run["run_id"], to_frame(scored.to_dict("records")))
            primary = metrics["score"]
            store.write_run(
                {
                    **run,
                    "score": primary.value,
                    "score_ci_low": primary.ci_low,
                    "score_ci_high": primary.ci_high,
                    "metrics": json.dumps({k: v.as_dict() for k, v in metrics.items()}),
                }
            )
        print(f"rescored {run['model']} × {run['benchmark']}: score {primary.value:.3f}")
        done += 1
    return done


def _source(run: dict[str, Any]) -> BenchmarkSpec:
    """The name and settings a run's benchmark was built from.

    Runs store them (`benchmark_spec`); for runs written before that column, they are read back
    from the run's resolved config, which holds them when the benchmark was named directly.
    """
    stored = run.get("benchmark_spec")
    if isinstance(stored, str) and (spec := json.loads(stored)):
        return BenchmarkSpec(spec["name"], spec["args"])
    config = json.loads(run["config"])
    args = dict(config.get("benchmark_args", {}).get(run["benchmark"], {}))
    if (config.get("benchmark") or {}).get("name") == run["benchmark"]:
        args.update(config["benchmark"].get("args", {}))
    return BenchmarkSpec(run["benchmark"], args)
