"""The lmms-eval bridge: its tasks as our benchmarks, its model classes as our models.

    evalharness run benchmark=lmms:<task> model=...                 any lmms-eval task
    evalharness run benchmark=lmms:<task> benchmark.args.include_path=DIR   tasks of your own
    evalharness run model=lmms:qwen2_vl model.args.model_args="pretrained=PATH,device_map=cpu"

A task runs through our runner (batching, resume, parquet, board) but is prompted and scored by
lmms-eval's own code: documents from its task manager, `doc_to_visual` images, `doc_to_text`
prompts with the task's prompt settings, its `generation_kwargs`, filters, `process_results` per
sample and its aggregation functions per metric. See docs/lmms-eval.md.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from evalharness.benchmarks.base import Answered, version_string
from evalharness.bridges._lmms_model import LmmsModel
from evalharness.bridges._lmms_tasks import (
    LmmsBridgeError,
    aggregate,
    as_rgb,
    config_fingerprint,
    filtered,
    is_mean,
    is_number,
    load_task,
    process,
    require_lmms,
    split_name,
    visual_sources,
)
from evalharness.errors import did_you_mean
from evalharness.stats import Aggregate, FloatArray
from evalharness.types import GenerationSettings, Sample, Scored

__all__ = ["LmmsBridgeError", "LmmsModel", "LmmsTask"]

DEFAULT_MAX_NEW_TOKENS = 128
"""When a task sets no `max_new_tokens`, lmms-eval's model wrappers mostly default to 128."""

RESERVED = frozenset({"score"})
"""Names our rows use themselves: a metric of that name is stored as `<name>_`."""


class LmmsTask:
    """An lmms-eval task (`generate_until`) run by our runner and scored by lmms-eval.

    Settings: `task` (the lmms-eval task name), `include_path` (a folder of extra task YAMLs, as
    lmms-eval's `--include_path`), `prompt_variant` (the model name whose
    `lmms_eval_specific_kwargs` to use; default: the task's `default` entry), `metric` (the
    primary metric; default: the first of the task's `metric_list`), `n` (the first n documents
    only) and `capability` (the group on the board).

    Aggregates: `score` is the primary metric. Where lmms-eval aggregates a metric by its plain
    mean over numeric per-sample values, we store those values and compute the mean with our
    clustered bootstrap CI (items sharing an image resample together). Every metric is also
    recorded as `lmms_eval:<metric>`, the value of lmms-eval's own aggregation function over the
    run's samples; for aggregations that are not a mean of per-sample numbers (corpus scores,
    medians, judge summaries) that is the only value, and it has no CI (NaN), because it cannot
    be recomputed from resampled column sums.
    """

    description = "A task of lmms-eval (benchmark=lmms:<task>), scored by lmms-eval's own code"

    def __init__(
        self,
        task: str,
        include_path: str | None = None,
        *,
        prompt_variant: str | None = None,
        metric: str | None = None,
        n: int | None = None,
        capability: str = "",
    ) -> None:
        lmms_version = require_lmms()
        if n is not None and n < 1:
            raise LmmsBridgeError(f"lmms:{task}: n must be at least 1, got {n}")
        self.task_name = task
        self.name = f"lmms:{task}"
        self.capability = capability
        self.n = n
        self._task = load_task(task, include_path, prompt_variant)
        config = self._task.config
        self._aggregations: dict[str, Callable[..., Any]] = dict(self._task.aggregation())
        if not self._aggregations:
            raise LmmsBridgeError(f"lmms-eval task {task!r} has no metrics to report.")
        self.metric = metric or next(iter(self._aggregations))
        if self.metric not in self._aggregations:
            raise LmmsBridgeError(
                f"lmms-eval task {task!r} has no metric {self.metric!r}."
                f"{did_you_mean(self.metric, list(self._aggregations))}"
            )
        self.generation = generation_settings(config.generation_kwargs or {})
        self.description = (
            f"lmms-eval task {task} ({config.dataset_path}, split {split_name(self._task)})"
        )
        params = {
            "task": task,
            "prompt_variant": prompt_variant,
            "metric": self.metric,
            "n": n,
            "lmms_eval": lmms_version,
        }
        self.version = version_string("1", params, config_fingerprint(self._task))
        self._samples: list[Sample] | None = None
        self._lmms_values: dict[str, float] = {}
        self._numeric: dict[str, bool] = {}
        self._visual_cache: tuple[int, list[Any]] | None = None

    @classmethod
    def for_name(cls, task: str) -> Callable[..., LmmsTask]:
        """The factory behind the registry name `lmms:<task>`."""
        return functools.partial(cls, task)

    # --- samples ---------------------------------------------------------------------------------

    def samples(self) -> list[Sample]:
        if self._samples is None:
            self._samples = self._build_samples()
        return self._samples

    def _build_samples(self) -> list[Sample]:
        task = self._task
        # lmms-eval prompts and scores from the documents without their media columns, and reads
        # visuals from the full documents: the same here.
        docs = task.eval_docs_no_media
        count = len(docs) if self.n is None else min(self.n, len(docs))
        shots = task.config.num_fewshot or 0
        out = []
        for i in range(count):
            doc = docs[i]
            images = visual_sources(
                self._visuals(i), functools.partial(self._visual, i), f"{self.name} doc {i}"
            )
            meta = {k: v for k, v in doc.items() if isinstance(v, str | int | float | bool)}
            blob = json.dumps(doc, sort_keys=True, default=str).encode()
            meta["lmms_doc_id"] = i
            meta["lmms_doc_hash"] = hashlib.sha256(blob).hexdigest()[:16]
            out.append(
                Sample(
                    id=str(i),
                    images=images,
                    prompt=str(task.fewshot_context(doc, shots)),
                    targets=_targets(task, doc),
                    group=images[0].fingerprint() if images else "",
                    metadata=meta,
                )
            )
        self._visual_cache = None
        return out

    def _visuals(self, index: int) -> list[Any]:
        """`doc_to_visual` of one document; the last document's are kept for its next image."""
        if self._visual_cache is None or self._visual_cache[0] != index:
            visuals = self._task.doc_to_visual(self._task.eval_docs[index])
            self._visual_cache = (index, list(visuals or []))
        return self._visual_cache[1]

    def _visual(self, index: int, k: int) -> Any:
        return as_rgb(self._visuals(index)[k])

    # --- scoring ---------------------------------------------------------------------------------

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        """lmms-eval's filters and `process_results` per sample; its aggregations over all of them.

        A failed prediction is scored as an empty answer, as lmms-eval would score a model that
        said nothing.
        """
        task = self._task
        docs = task.eval_docs_no_media
        ids = [int(a.sample.metadata["lmms_doc_id"]) for a in answered]
        texts = ["" if a.prediction.error else (a.prediction.text or "") for a in answered]
        responses = filtered(task, ids, texts)
        results = [process(task, docs[i], r) for i, r in zip(ids, responses, strict=True)]
        for m, fn in self._aggregations.items():
            items = [r[m] for r in results if m in r]
            self._lmms_values[m] = aggregate(fn, items)
            self._numeric[m] = all(is_number(x) for x in items)
        return [self._scored(r, res) for r, res in zip(responses, results, strict=True)]

    def _scored(self, response: Any, result: Mapping[str, Any]) -> Scored:
        numbers = {_column(m): float(v) for m, v in result.items() if is_number(v)}
        others = {m: v for m, v in result.items() if not is_number(v)}
        primary: Any = result.get(self.metric)
        # Inputs of corpus-level aggregations (dicts, lists) are kept beside the answer.
        extracted = (
            json.dumps({"response": response, **others}, sort_keys=True, default=str)
            if others
            else str(response)
        )
        return Scored(
            extracted=extracted,
            score=float(primary) if is_number(primary) else math.nan,
            metrics=numbers,
        )

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        aggs = [
            Aggregate.mean("score")
            if self._is_mean(self.metric)
            else self._lmms("score", self.metric)
        ]
        for m in self._aggregations:
            if self._is_mean(m):
                aggs.append(Aggregate.mean(_column(m), m))
            aggs.append(self._lmms(f"lmms_eval:{m}", m))
        return aggs

    def _is_mean(self, metric: str) -> bool:
        return is_mean(self._aggregations[metric]) and self._numeric.get(metric, True)

    def _lmms(self, name: str, metric: str) -> Aggregate:
        """lmms-eval's own aggregate of `metric`, computed when the run was scored; no CI."""

        def value(sums: FloatArray) -> FloatArray:
            if sums.ndim == 1:  # the point estimate over all rows
                return np.asarray(self._lmms_values.get(metric, math.nan), dtype=np.float64)
            return np.full(sums.shape[:-1], np.nan)  # resamples: not computable from sums

        return Aggregate(name, ("__one__",), value)


def _column(metric: str) -> str:
    return f"{metric}_" if metric in RESERVED else metric


def _targets(task: Any, doc: Mapping[str, Any]) -> tuple[str, ...]:
    """The task's target(s), for display only (lmms-eval scores against the document itself).

    Our runner asks open questions only of samples with a target, so there is always one.
    """
    try:
        target = task.doc_to_target(doc)
    except Exception:  # many tasks name no target: their scorers read the document
        return ("",)
    values = target if isinstance(target, list | tuple) else [target]
    return tuple(str(v) for v in values) or ("",)


def generation_settings(kwargs: Mapping[str, Any]) -> GenerationSettings:
    """Our decoding settings from a task's `generation_kwargs` (max_new_tokens, temperature, until)."""
    until = kwargs.get("until") or ()
    stops = (until,) if isinstance(until, str) else tuple(str(s) for s in until)
    return GenerationSettings(
        max_new_tokens=int(kwargs.get("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)),
        temperature=float(kwargs.get("temperature", 0.0) or 0.0),
        stop=stops,
    )
