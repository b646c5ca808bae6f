"""countbenchqa: CountBenchQA, "How many X are in the image?" on web images with 2 to 10 objects.

Reads the `vikhyatk/CountBenchQA` schema: `question`, `number` (int) and an embedded `image`
(its `text` column, the original alt-text, often states the count and is never shown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from evalharness import extract
from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.benchmarks.protocols import Official
from evalharness.metrics import count_exact
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored

COUNTS = tuple(str(i) for i in range(2, 11))
"""CountBench's counts: every image shows 2 to 10 of the object."""


@dataclass(kw_only=True, eq=False)
class CountBenchQA(HubBenchmark):
    """CountBenchQA: count the objects (2 to 10); exact-count accuracy and mean absolute error."""

    name = "countbenchqa"
    capability = "counting"
    description = "CountBenchQA: count 2 to 10 objects in web images; exact accuracy, abs. error."
    generation = GenerationSettings(max_new_tokens=16)
    schema = "vikhyatk/CountBenchQA"
    columns = ("question", "number", "image")
    # the dataset author's evaluation prompt (moondream's eval/countbenchqa.py)
    template = (
        "Look at the image carefully and count the objects. Answer with just a number, "
        "without any additional text. {question}"
    )
    scoring = "count-exact"

    official = Official(
        "vikhyat/moondream: moondream/eval/countbenchqa.py",
        (
            "the whole reply, stripped and lower-cased, must be the count's digits: 'Three', "
            "'3.' or 'There are 3.' score 0",
        ),
    )

    path: str = "vikhyatk/CountBenchQA"
    split: str = "test"

    def official_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=count_exact(text, sample.target))

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return Sample(
            id=f"{index:04d}",
            images=(image,),
            prompt=self.prompt(question=row["question"]),
            targets=(str(int(row["number"])),),
            answer_space=COUNTS,
            group=f"{index:04d}",
            metadata={"row": index},
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        value = extract.number(text)
        truth = int(sample.target)
        correct = float(value is not None and value == truth)
        # an unreadable answer has no error size; it counts as wrong in the accuracy only
        error = math.nan if value is None else abs(float(value) - truth)
        return Scored(
            extracted=None if value is None else str(value),
            score=correct,
            metrics={"correct": correct, "abs_error": error},
        )

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            Aggregate.mean("score", bounded=True),
            Aggregate.mean("abs_error", "mean_abs_error"),
        ]
