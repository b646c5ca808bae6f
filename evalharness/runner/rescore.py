"""Redo extraction and scoring of stored runs from their raw predictions, without the model."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evalharness.benchmarks.base import Benchmark
from evalharness.errors import EvalharnessError, did_you_mean
from evalharness.extract import DEFAULT_REASONING_TAGS, TagPair, check_tags
from evalharness.runner._reuse import asked_the_same
from evalharness.runner.finish import finish_run
from evalharness.runner.job import load_benchmark
from evalharness.runner.plan import (
    data_hash,
    described,
    difficulty_column,
    generation_for,
    run_samples,
)
from evalharness.runner.spec import BenchmarkSpec
from evalharness.store import ResultsStore, RunRecord, load_runs
from evalharness.types import Sample

if TYPE_CHECKING:
    from evalharness.judge import Judge


def rescore(results_dir: str | Path, benchmarks: Sequence[str] | None = None) -> int:
    """Re-score every complete run (of these benchmarks) with the current extraction and scoring
    code; returns how many runs were rescored.

    A run whose benchmark now has another version is brought to that version when its raw outputs
    still answer what the benchmark asks: the same samples, prompts and generation settings (a
    change of extraction or scoring alone gives a new version). Otherwise it is skipped with the
    reason, and only a new run can replace it.
    """
    store = ResultsStore(results_dir, create=False)
    with store.rewriting():  # readers of the whole folder wait: they see none of it half done
        store.remove_stale_temporaries()
        return _rescore(store, benchmarks)


def _rescore(store: ResultsStore, benchmarks: Sequence[str] | None) -> int:
    results_dir = store.root
    runs = load_runs(results_dir)
    if runs.empty:
        raise EvalharnessError(f"no runs in {results_dir}: run `evalharness run …` first.")
    stored = sorted(set(runs["benchmark"]))
    for name in benchmarks or ():
        if name not in stored:
            raise EvalharnessError(
                f"no runs of benchmark {name!r} in {results_dir}.{did_you_mean(name, stored)}"
            )
    done = skipped = unfinished = 0
    for stored_row in runs.to_dict("records"):
        run = RunRecord.from_row(stored_row)  # a run stored before a column reads its default
        if benchmarks and run.benchmark not in benchmarks:
            continue
        if run.status != "complete":  # its answers are incomplete: only a rerun finishes it
            unfinished += 1
            continue
        title = f"{run.model} × {run.benchmark} (run {run.run_id})"
        try:
            bench = load_benchmark(_source(run))
        except EvalharnessError as exc:  # a plugin not installed here, say: the others go on
            print(f"skip {title}: its benchmark cannot be built here: {exc}")
            skipped += 1
            continue
        _, samples = run_samples(bench, int(run.limit) if math.isfinite(run.limit) else None)
        old, new = run.benchmark_version, bench.version
        with store.lock(run.run_id):
            raw = store.read_samples(run.run_id)
            changed = _asked_differently(bench, run, samples, raw) if old != new else None
            if changed:
                print(f"skip {title}: stored v{old}, now v{new}; {changed}")
                skipped += 1
                continue
            try:
                judge = _judge(run, store.root)
            except Exception as exc:  # its judge's plugin gone, say: the run stays as it is
                print(f"skip {title}: its judge cannot be built here: {exc}")
                skipped += 1
                continue
            # what the board needs of the benchmark is written with the run (older runs lack it)
            now_as = replace(
                run,
                benchmark_version=new,
                description=described(bench),
                difficulty_column=difficulty_column(bench),
            )
            primary = finish_run(
                store,
                bench,
                samples,
                raw,
                now_as,
                seed=run.seed,
                reasoning_tags=_reasoning_tags(run),
                judge=judge,
            ).primary
        moved = f" (v{old} → v{new})" if old != new else ""
        print(f"rescored {title}: score {primary.value:.3f}{moved}")
        done += 1
    left = f", {skipped} skipped (each line above says why)" if skipped else ""
    if unfinished:
        left += (
            f"; {unfinished} unfinished run{'s' if unfinished != 1 else ''} (failed or "
            "interrupted) left as stored: the command that started a run, run again, finishes "
            "it from its stored answers"
        )
    print(f"{done} run{'s' if done != 1 else ''} rescored{left}.")
    return done


def _judge(run: RunRecord, root: Path) -> Judge | None:
    """The judge a run was scored with, built again from its settings; its verdicts come from
    the results folder's verdict cache, so a rescore of unchanged replies asks it nothing."""
    if not run.judge:
        return None
    from evalharness.judge import build_judge, judge_spec

    return build_judge(judge_spec(json.loads(run.judge)["settings"], run.seed), root)


def _asked_differently(
    bench: Benchmark, run: RunRecord, samples: Sequence[Sample], raw: pd.DataFrame
) -> str | None:
    """Why a run's raw outputs do not answer what `bench` now asks, or None if they do."""
    if data_hash(samples) != run.data_hash:
        return "its samples have changed"
    stored = json.loads(run.generation or "{}")
    config = json.loads(run.config or "{}")
    # the answer length the run set, if any; for a run stored without its config, the one it used
    key = "max_new_tokens"
    override = config[key] if key in config else stored.get(key)
    key = "max_thinking_tokens"
    thinking = config[key] if key in config else stored.get("thinking_tokens")
    if stored != generation_for(override, bench, thinking).as_dict():
        return "its generation settings have changed"
    by_id = {s.id: s for s in samples}
    forms, prompts = (raw[c] if c in raw else [None] * len(raw) for c in ("form", "prompt"))
    for sample_id, form, prompt in zip(raw["sample_id"], forms, prompts, strict=True):
        sample = by_id.get(sample_id)
        if sample is not None and not asked_the_same(sample, form, prompt):
            return "its prompts have changed"
    return None


def _reasoning_tags(run: RunRecord) -> tuple[TagPair, ...]:
    """The reasoning tags a run was asked with (the defaults for runs stored before the
    setting)."""
    stored = run.reasoning_tags
    return check_tags(json.loads(stored)) if stored is not None else DEFAULT_REASONING_TAGS


def _source(run: RunRecord) -> BenchmarkSpec:
    """The name and settings a run's benchmark was built from.

    Runs store them (`benchmark_spec`); for runs written before that column, they are read back
    from the run's resolved config, which holds them when the benchmark was named directly.
    """
    stored = run.benchmark_spec
    if stored is not None and (spec := json.loads(stored)):
        return BenchmarkSpec(spec["name"], spec["args"])
    config = json.loads(run.config)
    args = dict(config.get("benchmark_args", {}).get(run.benchmark, {}))
    if (config.get("benchmark") or {}).get("name") == run.benchmark:
        args.update(config["benchmark"].get("args", {}))
    return BenchmarkSpec(run.benchmark, args)
