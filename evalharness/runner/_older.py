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
from pathlib import Path
from typing import Any

from evalharness.benchmarks.base import Benchmark
from evalharness.runner.spec import stable_hash
from evalharness.store import ResultsStore
from evalharness.types import Sample, request_text


def older_answers(
    store: ResultsStore,
    benchmark: Benchmark,
    samples: Sequence[Sample],
    key_fields: Mapping[str, Any],
    run_id: str,
    key: Callable[[Sample], str],
) -> tuple[dict[str, dict[str, Any]], str]:
    """This run's rows, by sample id, taken from the newest complete run of another version of
    `benchmark` whose key differs from this run's in the version alone (`key_fields` are this
    run's key fields), and that run's id ("" when none). A row is taken when its sample is
    unchanged, it has no error and it was asked with the prompt this version asks; rows come
    back as this run's (id, key, version).
    """
    mine = [
        run
        for run in _runs(store.root / "runs")
        if run.get("benchmark") == benchmark.name
        and run.get("status") == "complete"
        and run.get("benchmark_version") != benchmark.version
    ]
    mine.sort(key=lambda run: str(run.get("finished_at") or ""), reverse=True)
    by_id = {s.id: s for s in samples}
    for run in mine:
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
            return taken, str(run["run_id"])
    return {}, ""


_COLUMNS = ["run_id", "benchmark", "benchmark_version", "status", "finished_at"]
_read: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
"""Run rows read before, by file, with the file's inode and modification time: a sweep's jobs
look here once a run, and would otherwise read every run file each time."""


def _runs(folder: Path) -> list[dict[str, Any]]:
    """The key columns of every run in a `runs` folder; a file that cannot be read is passed
    over (reading results reports it; here it only means its answers are not taken over)."""
    import pyarrow.parquet as pq

    rows = []
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        try:
            stat = path.stat()  # a run file is replaced whole (a new inode) when rewritten
            stamp = (stat.st_ino, stat.st_mtime_ns)
            hit = _read.get(path)
            if hit is None or hit[0] != stamp:
                with pq.ParquetFile(path) as file:
                    names = file.schema_arrow.names
                    table = file.read(columns=[c for c in _COLUMNS if c in names])
                hit = (stamp, table.to_pylist()[0] if table.num_rows else {})
                _read[path] = hit
        except Exception:  # damaged or vanished: not ours to report here
            continue
        rows.append(hit[1])
    return rows
