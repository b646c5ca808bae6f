"""pope: POPE object-hallucination probing on COCO ("Is there a X in the image?").

Reads the `lmms-lab/POPE` schema: `question`, `answer` (yes/no), `category` (random, popular or
adversarial: how the absent objects were drawn), `question_id`, `image_source` and an embedded
`image`. Accuracy, precision, recall, F1 and the share of "yes" predictions, over all rows and
per category, as the POPE paper reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.hub._base import SHORT_ANSWER, Row, YesNoBenchmark
from evalharness.metrics import pope_aggregates
from evalharness.stats import Aggregate
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class POPE(YesNoBenchmark):
    """POPE: does the object exist? Accuracy, precision, recall, F1, yes-ratio per category."""

    name = "pope"
    capability = "hallucination"
    description = "POPE: object existence yes/no on COCO; accuracy, F1 and yes-ratio per split."
    schema = "lmms-lab/POPE"
    columns = ("question", "answer", "category", "question_id", "image_source", "image")
    template = SHORT_ANSWER
    scoring = "pope"

    path: str = "lmms-lab/POPE"
    split: str = "test"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        category = str(row["category"])
        return Sample(
            # question ids restart in each category's file, so the category is part of the id
            id=f"{category}-{row['question_id']}",
            images=(image,),
            prompt=self.prompt(question=str(row["question"]).strip()),
            targets=(str(row["answer"]).strip().lower(),),
            answer_space=self.labels,
            category=category,
            group=str(row["image_source"]),
            metadata={"question_id": row["question_id"], "image_source": row["image_source"]},
        )

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        aggs = [Aggregate.mean("score", bounded=True), *pope_aggregates()]
        for c in sorted({s.category for s in samples}):
            aggs += pope_aggregates(f"{c}/", where=("category", c))
        return aggs
