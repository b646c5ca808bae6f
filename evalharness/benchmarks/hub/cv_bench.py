"""CV-Bench (Cambrian-1), multiple choice: one adapter per task (cvbench_count and
cvbench_relation, 2D; cvbench_depth and cvbench_distance, 3D) and `cvbench`, all four with the
benchmark's own overall number.

Reads the `nyu-visionx/CV-Bench` schema (configs "2D", "3D", and the default one with both;
split "test"): `idx`, `task` ("Count", "Relation", "Depth", "Distance"), `question`, `choices`,
`answer` ("(A)", "(B)", …), `source` (ADE20K or COCO for 2D, Omni3D for 3D) and an embedded
`image`. The question goes to the model with the harness's lettered options (the same letters,
in the dataset's order), not the dataset's pre-formatted `prompt`.

Besides plain accuracy, `accuracy_2d` is CV-Bench's own 2D number: the mean of the per-source
accuracies (ADE20K and COCO), so the source with more questions does not dominate. Every adapter's
official number pools as the dataset card's evaluation does (its README's formula and code, which
work per source and leave reading the answer to the evaluator: options are read the same way in
both readings): `cvbench`'s is the mean of the 2D accuracy and the 3D (Omni3D) accuracy; a 2D
task's is its 2D accuracy (the mean of its ADE20K and COCO accuracies), a 3D task's its Omni3D
accuracy. Where a source the number needs has no items, the card's mean over no rows is NaN, and
so is the official number (its note says why).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.benchmarks.hub._load import DatasetSchemaError
from evalharness.benchmarks.protocols import Official
from evalharness.stats import Aggregate, FloatArray
from evalharness.types import LETTERS, GenerationSettings, ImageSource, Sample, Scored

SOURCES = ("ADE20K", "COCO", "Omni3D")
CARD = "nyu-visionx/CV-Bench (dataset card, README.md: Evaluation)"
NO_ITEMS = "a source the card's formula needs (ADE20K, COCO or Omni3D) has no items here"


def _mean_of_ratios(sums: FloatArray) -> FloatArray:
    """Mean over sources of correct / count; the last axis holds (correct, count) pairs."""
    correct, count = sums[..., 0::2], sums[..., 1::2]
    ratios = np.where(count > 0, correct / np.where(count > 0, count, 1.0), np.nan)
    with warnings.catch_warnings():  # a resample without any source's items gives NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        out: FloatArray = np.nanmean(ratios, axis=-1)
    return out


def _source_accuracies(sums: FloatArray) -> FloatArray:
    correct, count = sums[..., 0::2], sums[..., 1::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(count > 0, correct / np.where(count > 0, count, 1.0), np.nan)
    return out


def _mean_of_sources(sums: FloatArray) -> FloatArray:
    """The mean of the sources' accuracies, NaN where one has no items (as the card's pandas
    mean of no rows is)."""
    out: FloatArray = np.mean(_source_accuracies(sums), axis=-1)
    return out


def _accuracy_2d(sums: FloatArray) -> FloatArray:  # ADE20K and COCO (correct, count) pairs
    acc = _source_accuracies(sums)
    out: FloatArray = (acc[..., 0] + acc[..., 1]) / 2
    return out


def _overall(sums: FloatArray) -> FloatArray:  # ADE20K, COCO, Omni3D (correct, count) pairs
    acc = _source_accuracies(sums)
    out: FloatArray = ((acc[..., 0] + acc[..., 1]) / 2 + acc[..., 2]) / 2
    return out


def _columns(*sources: str) -> tuple[str, ...]:
    return tuple(c for s in sources for c in (f"{s}_correct", f"{s}_n"))


TWO_D = (
    "a 2D task's number is the mean of its ADE20K and COCO accuracies, not the accuracy over "
    "its items"
)
THREE_D = (
    "a 3D task's number is the card's 3D accuracy (Omni3D's), which is the accuracy over the "
    "task's items: both readings agree"
)


@dataclass(kw_only=True, eq=False)
class CVBench2D(HubBenchmark):
    """One task of CV-Bench: multiple choice; accuracy and the mean of per-source accuracies."""

    task: ClassVar[str] = ""
    sources: ClassVar[tuple[str, ...]] = ("ADE20K", "COCO")
    """The sources whose accuracies the task's official number averages."""
    generation = GenerationSettings(max_new_tokens=8)
    schema = "nyu-visionx/CV-Bench"
    columns = ("idx", "task", "question", "choices", "answer", "source", "image")
    scoring = "choice-accuracy"

    path: str = "nyu-visionx/CV-Bench"
    split: str = "test"
    subset: str | None = "2D"

    def keep(self, row: Row) -> bool:
        return not self.task or str(row["task"]) == self.task

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        choices = tuple(str(c) for c in row["choices"])
        letter = str(row["answer"]).strip().strip("()").strip().upper()
        if len(letter) != 1 or LETTERS.find(letter) not in range(len(choices)):
            raise DatasetSchemaError(
                f"{self.name}: item {row['idx']} answer {row['answer']!r} names no option"
            )
        return Sample(
            id=str(row["idx"]),
            images=(image,),
            prompt=self.prompt(question=row["question"]),
            choices=choices,
            target_index=LETTERS.index(letter),
            category=str(row["source"]),
            group=str(row.get("filename") or row["idx"]),
            metadata={"idx": row["idx"], "task": row["task"], "source": row["source"]},
        )

    def score_one(self, a: Answered) -> Scored:
        scored = super().score_one(a)
        per_source: dict[str, float] = {}
        for s in SOURCES:
            mine = a.sample.category == s
            per_source[f"{s}_correct"] = scored.score if mine else 0.0
            per_source[f"{s}_n"] = float(mine)
        return Scored(scored.extracted, scored.score, {**scored.metrics, **per_source})

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        present = [s for s in SOURCES if any(x.category == s for x in samples)]
        columns = tuple(c for s in present for c in (f"{s}_correct", f"{s}_n"))
        aggs = super().aggregates(samples)
        return (
            [*aggs, Aggregate("accuracy_2d", columns, _mean_of_ratios, bounded=True)]
            if columns
            else aggs
        )

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        # an option answer reads the same both ways; the official number pools it otherwise
        columns = _columns(*self.sources)
        return [
            Aggregate("official", columns, _mean_of_sources, bounded=True, undefined=NO_ITEMS),
            Aggregate.mean("score", "robust", bounded=True),
        ]


@dataclass(kw_only=True, eq=False)
class CVBenchCount(CVBench2D):
    """CV-Bench 2D counting: how many X are in the image? Multiple choice."""

    name = "cvbench_count"
    capability = "counting"
    description = "CV-Bench 2D counting (ADE20K, COCO): multiple choice; accuracy."
    task = "Count"
    official = Official(CARD, (TWO_D,))


@dataclass(kw_only=True, eq=False)
class CVBenchRelation(CVBench2D):
    """CV-Bench 2D spatial relation: where is X relative to Y? Multiple choice."""

    name = "cvbench_relation"
    capability = "spatial"
    description = "CV-Bench 2D spatial relations (ADE20K, COCO): multiple choice; accuracy."
    task = "Relation"
    official = Official(CARD, (TWO_D,))


@dataclass(kw_only=True, eq=False)
class CVBenchDepth(CVBench2D):
    """CV-Bench 3D depth order: which of two objects is closer to the camera? (Omni3D)"""

    name = "cvbench_depth"
    capability = "spatial"
    description = "CV-Bench 3D depth order (Omni3D): which object is closer; accuracy."
    task = "Depth"
    sources = ("Omni3D",)
    official = Official(CARD, (THREE_D,))

    subset: str | None = "3D"


@dataclass(kw_only=True, eq=False)
class CVBenchDistance(CVBench2D):
    """CV-Bench 3D relative distance: which object is closer to a third one? (Omni3D)"""

    name = "cvbench_distance"
    capability = "spatial"
    description = "CV-Bench 3D relative distance (Omni3D): which object is closer; accuracy."
    task = "Distance"
    sources = ("Omni3D",)
    official = Official(CARD, (THREE_D,))

    subset: str | None = "3D"


@dataclass(kw_only=True, eq=False)
class CVBench(CVBench2D):
    """All of CV-Bench (2D and 3D tasks); officially the mean of its 2D and 3D accuracies."""

    name = "cvbench"
    capability = "spatial"
    description = "CV-Bench, all four tasks: 2D accuracy, 3D accuracy and their mean."
    task = ""
    official = Official(
        CARD,
        (
            "the overall number is the mean of the 2D accuracy (itself the mean of the ADE20K "
            "and COCO accuracies) and the 3D (Omni3D) accuracy, not the accuracy over items",
        ),
    )

    subset: str | None = None

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            Aggregate.mean("score", bounded=True),
            Aggregate("accuracy_2d", _columns("ADE20K", "COCO"), _accuracy_2d, bounded=True),
            Aggregate.mean("Omni3D_correct", "accuracy_3d", ("category", "Omni3D"), bounded=True),
        ]

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        # an option answer reads the same both ways; the official number pools it otherwise
        columns = _columns("ADE20K", "COCO", "Omni3D")
        return [
            Aggregate("official", columns, _overall, bounded=True, undefined=NO_ITEMS),
            Aggregate.mean("score", "robust", bounded=True),
        ]
