"""Cross-harness parity: a stored run's raw answers scored again by the equivalent lmms-eval task.

`evalharness parity RUN_ID --task TASK` reads the run's stored raw answers, finds each sample's
document in the lmms-eval task (by a document field that equals our sample id), and scores the
answer with the task's own filters and `process_results` through the lmms-eval bridge. Each sample
then has three readings side by side: our official one, our robust one and lmms-eval's; the table
goes to `<results>/parity/<run_id>.parquet`, and `evalharness leaderboard` shows the samples where
they disagree (parity.html). No model is asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evalharness.benchmarks.protocols import OFFICIAL, ROBUST
from evalharness.errors import EvalharnessError, did_you_mean
from evalharness.store import METRIC_PREFIX, ResultsStore, load_runs

PARITY_DIR = "parity"
KINDS = ("official ≠ lmms-eval", "robust ≠ lmms-eval", "official ≠ robust")
"""The kinds of disagreement counted per run: two readings whose scores differ."""
_PAIRS = (("official", "lmms_eval"), ("robust", "lmms_eval"), ("official", "robust"))
TOLERANCE = 1e-9


@dataclass(frozen=True)
class ParityReport:
    """What `parity` found: per kind, how many samples disagree, of `n` compared."""

    run_id: str
    benchmark: str
    task: str
    n: int
    unmatched: int
    counts: dict[str, int]
    path: Path


def parity(
    results_dir: str | Path,
    run_id: str,
    task: str,
    *,
    include_path: str | None = None,
    key: str = "",
    metric: str | None = None,
) -> ParityReport:
    """Score run `run_id`'s stored answers with lmms-eval task `task` and write the comparison.

    `key` is the document field whose value is our sample id (default: the task's first field
    named like "question_id" or "questionId", else the document index); `metric` the lmms-eval
    metric to compare (default: the task's first)."""
    from evalharness.bridges._lmms_tasks import filtered, is_number, load_task, process

    root = Path(results_dir)
    runs = load_runs(root)
    ids = [str(r) for r in runs["run_id"]] if not runs.empty else []
    if run_id not in ids:
        raise EvalharnessError(f"no run {run_id!r} in {root}.{did_you_mean(run_id, ids)}")
    run = runs[runs["run_id"].astype(str) == run_id].iloc[0].to_dict()
    samples = ResultsStore(root, create=False).read_samples(run_id)
    lmms = load_task(task, include_path, None)
    docs = lmms.eval_docs_no_media
    field = key or _id_field(docs[0] if len(docs) else {})
    index = {str(doc[field]) if field else str(i): i for i, doc in enumerate(docs)}
    names = [m["metric"] for m in (lmms.config.metric_list or [])]
    metric = metric or (names[0] if names else None)
    if metric is None:
        raise EvalharnessError(f"lmms-eval task {task!r} lists no metric to compare.")
    rows = [r for r in samples.to_dict("records") if str(r["sample_id"]) in index]
    doc_ids = [index[str(r["sample_id"])] for r in rows]
    texts = [_text(r) for r in rows]
    responses = filtered(lmms, doc_ids, texts) if rows else []
    out = []
    for r, i, response in zip(rows, doc_ids, responses, strict=True):
        result = process(lmms, docs[i], response)
        value = result.get(metric)
        score = _number(r.get("score"))
        out.append(
            {
                "run_id": run_id,
                "benchmark": run["benchmark"],
                "model": run["model"],
                "task": task,
                "metric": metric,
                "sample_id": str(r["sample_id"]),
                "prompt": r.get("prompt"),
                "prediction": r.get("prediction"),
                "target": r.get("target"),
                "official": _number(r.get(METRIC_PREFIX + OFFICIAL, score)),
                "robust": _number(r.get(METRIC_PREFIX + ROBUST, score)),
                "lmms_eval": _number(value) if is_number(value) else math.nan,
                "lmms_response": str(response),
            }
        )
    frame = pd.DataFrame(out)
    counts = {kind: _differ(frame, a, b) for kind, (a, b) in zip(KINDS, _PAIRS, strict=True)}
    path = root / PARITY_DIR / f"{run_id}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return ParityReport(
        run_id, str(run["benchmark"]), task, len(frame), len(samples) - len(frame), counts, path
    )


def _id_field(doc: Any) -> str:
    for name in ("question_id", "questionId", "id", "idx"):
        if name in doc:
            return name
    return ""


def _text(row: dict[str, Any]) -> str:
    prediction = row.get("prediction")
    failed = isinstance(row.get("error"), str)
    return "" if failed or not isinstance(prediction, str) else prediction


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _differ(frame: pd.DataFrame, a: str, b: str) -> int:
    if frame.empty:
        return 0
    x, y = frame[a].astype(float), frame[b].astype(float)
    both = x.notna() & y.notna()
    return int(((x - y).abs() > TOLERANCE)[both].sum() + (x.isna() != y.isna()).sum())


def describe(report: ParityReport) -> list[str]:
    """The report as lines for the terminal."""
    lines = [
        f"{report.benchmark} (run {report.run_id}) against lmms-eval's {report.task}: "
        f"{report.n} samples compared"
        + (f", {report.unmatched} not in the task" if report.unmatched else "")
    ]
    lines += [f"  {kind}: {count}" for kind, count in report.counts.items()]
    lines.append(f"written: {report.path} (shown by `evalharness leaderboard` as parity.html)")
    return lines
