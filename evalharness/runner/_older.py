"""A new run takes over the answers of a run of another version of its benchmark that asked the
same: after an upgrade that only reads answers differently, rerunning a command costs no model
time.

A benchmark's version changes with its extraction and scoring as well as with its questions, and
the version is part of a run's key, so a new version is a new run. The raw answers of the older
run still answer the new one where the model, its settings, the sample and the prompt it was
shown are all the same; those rows are taken over, and the rest are asked as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evalharness.benchmarks.base import Benchmark
from evalharness.runner.spec import stable_hash
from evalharness.store import ResultsStore, load_runs
from evalharness.types import Sample, request_text


def older_answers(
    store: ResultsStore,
    benchmark: Benchmark,
    samples: Sequence[Sample],
    key_fields: Mapping[str, Any],
    run_id: str,
    key: Callable[[Sample], str],
) -> dict[str, dict[str, Any]]:
    """This run's rows, by sample id, taken from the newest complete run of another version of
    `benchmark` whose key differs from this run's in the version alone (`key_fields` are this
    run's key fields). A row is taken when its sample is unchanged, it has no error and it was
    asked with the prompt this version asks; rows come back as this run's (id, key, version).
    """
    runs = load_runs(store.root) if (store.root / "runs").is_dir() else None
    if runs is None or runs.empty:
        return {}
    mine = runs[
        (runs["benchmark"] == benchmark.name)
        & (runs["status"] == "complete")
        & (runs["benchmark_version"] != benchmark.version)
    ].sort_values("finished_at", ascending=False)
    by_id = {s.id: s for s in samples}
    for run in mine.to_dict("records"):
        old_key = stable_hash({**key_fields, "version": run["benchmark_version"]}, length=32)
        if old_key[:16] != run["run_id"]:
            continue  # another model, setting or seed
        taken = {}
        for row in store.read_samples(run["run_id"], spare=True).to_dict("records"):
            sample = by_id.get(row["sample_id"])
            if sample is None or isinstance(row.get("error"), str):
                continue
            if row.get("cache_key") != stable_hash([old_key, sample.content_hash()], 24):
                continue  # the sample itself has changed
            form = row.get("form")
            if form in ("open", "choice") and row.get("prompt") != request_text(sample, form):
                continue  # asked in other words
            new = {
                "run_id": run_id,
                "cache_key": key(sample),
                "benchmark_version": benchmark.version,
            }
            taken[sample.id] = {**row, **new}
        if taken:
            return taken
    return {}
