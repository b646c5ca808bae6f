"""Which stored answers a run keeps instead of asking the model again.

A resumed run keeps its own rows: same resume key (run key + the sample's content hash), no
error. A new run also takes over the rows of a complete run of another version of its benchmark
whose key differs from its own in the version alone: a benchmark's version changes with its
extraction and scoring as well as with its questions, so after an upgrade that only reads
answers differently, rerunning a command costs no model time. Such a row is taken when its
sample is unchanged, it has no error and it was asked with the prompt this version asks.

A run also takes over the rows of itself as stored under the key earlier versions of the
harness gave it (`plan.former_key_fields`: the model identity held the model's kind and size
before `Model.info()`), whatever that run's status: after an upgrade, an interrupted run goes on
from its answers and a finished one asks nothing again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalharness.benchmarks.base import Benchmark
from evalharness.errors import EvalharnessError
from evalharness.runner.spec import stable_hash
from evalharness.store import ResultsStore, stored_text
from evalharness.types import Sample, request_text


def sample_key(run_key: str, sample: Sample) -> str:
    """A stored row's resume key (`cache_key`): its run's key and its sample's content."""
    return stable_hash([run_key, sample.content_hash()], 24)


def reusable(
    stored: pd.DataFrame, samples: Sequence[Sample], key: Callable[[Sample], str]
) -> dict[str, dict[str, Any]]:
    """The stored rows a run keeps, by sample id: same resume key, no error."""
    done: dict[str, dict[str, Any]] = {}
    if stored.empty:
        return done
    sample_by_id = {s.id: s for s in samples}
    for rec in stored.to_dict("records"):
        sample = sample_by_id.get(rec["sample_id"])
        if (
            sample is not None
            and key(sample) == rec.get("cache_key")
            and not isinstance(rec.get("error"), str)
        ):
            done[rec["sample_id"]] = rec
    return done


def asked_the_same(sample: Sample, form: Any, prompt: Any) -> bool:
    """Was a stored row asked what this code asks of `sample`? A row the model was not asked
    (no form, no prompt) has nothing to differ in. The stored prompt is in its stored form."""
    if form not in ("open", "choice") or not isinstance(prompt, str):
        return True
    return stored_text(request_text(sample, form)) == prompt


def older_answers(
    store: ResultsStore,
    benchmark: Benchmark,
    samples: Sequence[Sample],
    key_fields: Mapping[str, Any],
    run_id: str,
    key: Callable[[Sample], str],
    former: Sequence[Mapping[str, Any]] = (),
) -> tuple[dict[str, dict[str, Any]], str]:
    """This run's rows, by sample id, taken from the newest complete run of another version of
    `benchmark` whose key differs from this run's in the version alone, or in having no judge
    (`key_fields` are this run's key fields), or from this run under one of its `former` keys
    (any status), and that run's id ("" when none); rows come back as this run's (id, key,
    version). The model's answers do not depend on the judge.
    """
    mine = [
        run
        for run in _runs(store)
        if run.get("benchmark") == benchmark.name and run.get("run_id") != run_id
    ]
    mine.sort(key=lambda run: str(run.get("finished_at") or ""), reverse=True)
    by_id = {s.id: s for s in samples}
    new = {"run_id": run_id, "benchmark_version": benchmark.version}
    keys: dict[tuple[str, bool], dict[str, str]] = {}  # the keys taken from, by run id
    for run in mine:
        kind = (str(run.get("benchmark_version")), run.get("status") == "complete")
        if kind not in keys:
            found = _keys_taken(key_fields, former, benchmark.version, *kind)
            keys[kind] = {k[:16]: k for k in found}
        old_key = keys[kind].get(str(run.get("run_id")))
        if old_key is None:
            continue  # another model, setting or seed
        stored = store.read_samples(run["run_id"], spare=True)
        kept = reusable(stored, samples, functools.partial(sample_key, old_key))
        taken = {
            i: {**row, **new, "cache_key": key(by_id[i])}
            for i, row in kept.items()
            if asked_the_same(by_id[i], row.get("form"), row.get("prompt"))
        }
        if taken:
            return taken, str(run["run_id"])
    return {}, ""


def _keys_taken(
    key_fields: Mapping[str, Any],
    former: Sequence[Mapping[str, Any]],
    version: str,
    stored: str,
    complete: bool,
) -> list[str]:
    """The keys of the stored runs of version `stored` whose answers this run (of `version`)
    takes, complete or not (see `older_answers`)."""

    def unjudged(fields: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if k != "judge"}

    if complete:
        keyed = [key_fields, *former]
        candidates = [*keyed, *(unjudged(f) for f in keyed)]
    elif stored == version:
        candidates = list(former)  # this run as stored before: it goes on from its answers
    else:
        candidates = []
    return [stable_hash({**fields, "version": stored}, length=32) for fields in candidates]


_COLUMNS = ("run_id", "benchmark", "benchmark_version", "status", "finished_at")
_read: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
"""Run rows read before, by file, with the file's inode and modification time: a sweep's jobs
look here once a run, and would otherwise read every run file each time."""


def _runs(store: ResultsStore) -> list[dict[str, Any]]:
    """The key columns of every run in the store; a file that cannot be read is passed over
    (reading results reports it; here it only means its answers are not taken over)."""
    folder = store.root / "runs"
    rows = []
    for path in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
        try:
            stat = path.stat()  # a run file is replaced whole (a new inode) when rewritten
            stamp = (stat.st_ino, stat.st_mtime_ns)
            hit = _read.get(path)
            if hit is None or hit[0] != stamp:
                hit = (stamp, store.read_run(path.stem, columns=_COLUMNS) or {})
                _read[path] = hit
        except (OSError, EvalharnessError):  # damaged or vanished: not ours to report here
            continue
        rows.append(hit[1])
    return rows
