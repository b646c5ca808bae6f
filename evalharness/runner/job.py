"""A job: one model against the benchmarks of a run spec, with a summary table at the end."""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from evalharness import registry
from evalharness.benchmarks.base import Benchmark
from evalharness.errors import EvalharnessError, did_you_mean, quoted
from evalharness.models._info import info_of
from evalharness.models.base import Model
from evalharness.models.settings import check_settings
from evalharness.runner.execute import RunResult, run_benchmark, shorten
from evalharness.runner.progress import Progress
from evalharness.runner.spec import BenchmarkSpec, RunSpec
from evalharness.store import ResultsStore


class JobError(EvalharnessError, RuntimeError):
    """The job cannot run or finished above its error threshold; the message says why."""


def benchmark_settings(name: str) -> list[inspect.Parameter] | None:
    """The settings (`benchmark.args`) a benchmark takes, with their defaults; None when its
    factory's signature cannot be read."""
    try:
        params = inspect.signature(registry.benchmarks.get(name)).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p for p in params if p.name != "self"]


def load_benchmark(spec: BenchmarkSpec) -> Benchmark:
    """Build a benchmark; a misspelt setting is refused with a suggestion before any work."""
    factory = registry.benchmarks.get(spec.name)
    settings = benchmark_settings(spec.name)
    # no introspectable signature: let the factory judge
    params = set(spec.args) if settings is None else {p.name for p in settings}
    for key in spec.args:
        if key not in params:
            raise JobError(
                f"benchmark {spec.name!r} has no setting {key!r}.{did_you_mean(key, sorted(params))}"
            )
    try:
        return factory(**dict(spec.args))
    except TypeError as exc:
        raise JobError(f"benchmark {spec.name!r}: {quoted(exc)}.") from exc


def load_model(spec: RunSpec) -> Model:
    return registry.models.create(spec.model.name, spec.model)


def named(spec: RunSpec, model: Model) -> RunSpec:
    """The spec with the model's own name (`ModelInfo.display_name`) as its label where the
    config gives none: the label is what the board shows and part of the run key."""
    name = info_of(model).display_name
    if spec.model.label or name is None:
        return spec
    return replace(spec, model=replace(spec.model, label=name))


def run_job(spec: RunSpec, out: TextIO | None = None) -> list[RunResult]:
    store = ResultsStore(spec.results_dir)
    check_settings(spec.model)  # a bad model.args setting is refused before any work
    benchmarks = [load_benchmark(b) for b in spec.benchmarks]
    judge = None
    if spec.judge is not None:
        from evalharness.judge import build_judge

        judge = build_judge(spec.judge, spec.results_dir)
    model = load_model(spec)
    spec = named(spec, model)
    check_label(spec, model)
    progress = Progress(len(benchmarks), enabled=spec.progress)
    ran = [
        run_benchmark(spec, model, b, store, progress, source=src, judge=judge)
        for b, src in zip(benchmarks, spec.benchmarks, strict=True)
    ]
    results = [r for r in ran if r is not None]  # a shard's runs that another shard aggregates
    if spec.shard is not None and len(results) < len(ran):
        print(
            f"{spec.shard}: answered; {len(ran) - len(results)} of {len(ran)} runs are "
            "aggregated by the shard that finishes last.",
            file=out or sys.stdout,
        )
    if results or spec.shard is None:
        print_summary(results, out or sys.stdout)
    failed = [r for r in results if r.error_rate > spec.max_error_rate]
    if failed:
        names = ", ".join(
            f"{r.benchmark} ({r.n_errors}/{r.n_samples - r.n_unsupported})" for r in failed
        )
        top = max((r.top_error for r in failed if r.top_error), key=lambda t: t[1], default=None)
        common = f" Most common ({top[1]} samples): {shorten(top[0])}." if top else ""
        raise JobError(
            f"error rate above max_error_rate={spec.max_error_rate} on {names}."
            f"{common} Every sample's error is in the `error` column in {spec.results_dir}."
        )
    return results


def _fmt(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.3f}"


def print_summary(results: Sequence[RunResult], out: TextIO) -> None:
    header = ["model", "benchmark", "score", "95% CI", "n", "errors", "unsupported"]
    header += ["truncated", "reused"]
    rows = []
    for r in results:
        est = r.metrics.get("score")
        score, ci = (
            ("—", "—")
            if est is None
            else (_fmt(est.value), f"[{_fmt(est.ci_low)}, {_fmt(est.ci_high)}]")
        )
        rows.append(
            (
                r.model,
                r.benchmark,
                score,
                ci,
                str(r.n_samples),
                str(r.n_errors),
                str(r.n_unsupported),
                str(r.n_truncated),
                str(r.n_reused),
            )
        )
    widths = [
        max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
        for i, h in enumerate(header)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line, file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), file=out)


ORIGIN_KEYS = ("path", "pretrained", "base_url", "model", "bridge", "model_args", "name")
"""The identity keys that say which model a run is of (where its weights or server are), as
against how it was run (dtype, settings)."""


def check_label(spec: RunSpec, model: Model) -> None:
    """Refuse a label that already names another model in the results folder.

    The board ranks the newest run per label and benchmark, so a second model under the same
    label (two folders both called `llava`, say) would silently pass for a newer run of the
    first. The same model is the same origin (`ORIGIN_KEYS` of its identity) or, for a local
    folder, the same content (`revision: local:…`) under another path.
    """
    import json

    from evalharness.store import load_runs

    try:
        runs = load_runs(spec.results_dir)
    except EvalharnessError:
        return  # an unreadable folder is refused, with its reason, when the run opens it
    if runs.empty or not {"model", "model_identity"} <= set(runs.columns):
        return
    label = spec.model_label
    mine = model.identity()
    for stored in runs.loc[runs["model"] == label, "model_identity"].dropna().unique():
        try:
            theirs = json.loads(stored)
        except ValueError:
            continue
        if not isinstance(theirs, dict) or _same_model(mine, theirs):
            continue
        raise JobError(
            f"the label {label!r} already names another model in {spec.results_dir} "
            f"({_origin_text(theirs)}; this one: {_origin_text(mine)}), and the board would rank "
            "only the newer of the two. Give this one a label of its own: model.label=NAME."
        )


def _origin(identity: dict[str, Any]) -> dict[str, Any]:
    return {k: identity[k] for k in ORIGIN_KEYS if k in identity}


def _same_model(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if _origin(a) == _origin(b):
        return True
    revision = a.get("revision")
    return (
        isinstance(revision, str)
        and revision.startswith("local:")
        and revision == b.get("revision")
    )


def _origin_text(identity: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in _origin(identity).items()) or "no path"
