"""mathvista: MathVista testmini, mathematical reasoning over figures, plots, tables and photos.

Reads the `AI4Math/MathVista` schema: `pid`, `question`, `query` (the official prompt: a hint
on the answer's form, the question and its options), `choices` (a list, or null for free-form
questions), `answer`, `question_type` ("multi_choice" or "free_form"), `answer_type`
("text", "integer", "float" or "list"), `precision` (decimals of float answers), `unit`,
`metadata` (task, category, skills, …) and the embedded image `decoded_image` (`image` names
its file). The model is asked the official `query`.

Answers are read as the official evaluation reads them, rules first (`metrics.mathvista_rule`):
an exact option, a bare number, or (with `quick_extract`) `The answer is "X".`. A reply the
rules cannot read goes, officially, to a GPT judge; here it is recorded as unreadable (`route`
metrics: `rule` or `unreadable`, per sample) and counts as wrong, so `unreadable` says how
much a judge could still change. What was read is normalised to the answer's type as the
official does (`metrics.mathvista_normalise`: a letter or the nearest option; numbers rounded
to the item's precision) and must equal the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.metrics import mathvista_normalise, mathvista_rule
from evalharness.stats import Aggregate, by_category
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored


def _precision(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


@dataclass(kw_only=True, eq=False)
class MathVista(HubBenchmark):
    """MathVista (testmini): maths on figures; official rule extraction, the rest unreadable."""

    name = "mathvista"
    capability = "math"
    description = "MathVista testmini: maths over figures; accuracy by rule-read answers."
    generation = GenerationSettings(max_new_tokens=512)
    schema = "AI4Math/MathVista"
    columns = (
        "pid",
        "query",
        "choices",
        "answer",
        "question_type",
        "answer_type",
        "precision",
        "metadata",
        "decoded_image",
    )
    image_column = "decoded_image"
    scoring = "mathvista-rules"

    path: str = "AI4Math/MathVista"
    split: str = "testmini"
    quick_extract: bool = True
    """Also read `The answer is "X".` by rule (the official `--quick_extract`)."""

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        meta = row.get("metadata") or {}
        choices = [str(c) for c in (row.get("choices") or [])]
        return Sample(
            id=str(row["pid"]),
            images=(image,),
            prompt=str(row["query"]),
            targets=(str(row["answer"]),),
            category=str(meta.get("task") or ""),
            group=str(row["pid"]),
            metadata={
                "question_type": str(row["question_type"]),
                "answer_type": str(row["answer_type"]),
                "choices": choices,
                "precision": _precision(row.get("precision")),
                "source": str(meta.get("source") or ""),
            },
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        meta = sample.metadata
        kind, answer_type, choices = meta["question_type"], meta["answer_type"], meta["choices"]
        read = mathvista_rule(text, kind, answer_type, choices, quick=self.quick_extract)
        if read is None:  # the official evaluation would ask its judge here
            return Scored(None, 0.0, {"correct": 0.0, "rule": 0.0, "unreadable": 1.0})
        value = mathvista_normalise(read, kind, answer_type, choices, meta["precision"])
        right = float(value is not None and value == sample.target)
        return Scored(value, right, {"correct": right, "rule": 1.0, "unreadable": 0.0})

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        tasks = sorted({s.category for s in samples if s.category})
        return [
            Aggregate.mean("score", bounded=True),
            Aggregate.mean("unreadable", bounded=True),
            *by_category("score", "category", tasks, "score", bounded=True),
        ]
