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
from evalharness.benchmarks.protocols import PREFIX, Official
from evalharness.metrics import pope_aggregates, pope_official_aggregates, pope_row, pope_says_no
from evalharness.stats import Aggregate
from evalharness.types import ImageSource, Sample, Scored


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

    official = Official(
        "AoiDragon/POPE: evaluate.py",
        (
            "a reply is 'no' when the text before its first '.' has the word 'No', 'no' or "
            "'not' (commas dropped, split on single spaces), and 'yes' otherwise: an empty or "
            "unreadable reply counts as yes, 'No!' or 'no\\n' as yes, 'Not' as yes",
            "precision, recall and F1 divide by zero when nothing is read as yes, no object is "
            "present or no answer is a true positive: NaN with that reason here",
        ),
    )

    path: str = "lmms-lab/POPE"
    split: str = "test"

    def official_open(self, sample: Sample, text: str) -> Scored:
        says_yes = not pope_says_no(text)
        row = pope_row(says_yes, sample.target == self.labels[0])
        return Scored(
            extracted=self.labels[0 if says_yes else 1], score=row["correct"], metrics=row
        )

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        # the script runs on one category's answers at a time; "official/…" pools them
        aggs = pope_official_aggregates("official/", PREFIX)
        for c in sorted({s.category for s in samples}):
            aggs += pope_official_aggregates(f"official/{c}/", PREFIX, where=("category", c))
        return aggs

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
