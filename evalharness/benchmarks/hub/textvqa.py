"""textvqa: TextVQA validation questions that need reading text in the image; VQA accuracy.

Reads the `lmms-lab/textvqa` (= `facebook/textvqa`) schema: `question`, `answers` (ten strings),
`question_id`, `image_id` and an embedded `image`. OCR tokens are not shown to the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row, VQABenchmark
from evalharness.benchmarks.protocols import Official
from evalharness.metrics import textvqa_accuracy
from evalharness.types import ImageSource, Sample, Scored


@dataclass(kw_only=True, eq=False)
class TextVQA(VQABenchmark):
    """TextVQA (val): questions about text in photos; VQA accuracy over ten human answers."""

    name = "textvqa"
    description = "TextVQA val: questions about text in photos; VQA accuracy over ten answers."
    schema = "lmms-lab/textvqa"
    columns = ("question", "answers", "question_id", "image_id", "image")

    official = Official(
        "facebookresearch/mmf: mmf/utils/m4c_evaluators.py (TextVQAAccuracyEvaluator)",
        (
            "reads the raw reply: no answer extraction",
            "drops ',' and '?' and splits \"'s\" off before the VQA normalisation",
            "its contraction table as it is ('whys' -> \"why's\"; no 'im', 'ive')",
            "needs exactly ten answers (the evaluator asserts): NaN otherwise",
        ),
    )

    path: str = "lmms-lab/textvqa"
    split: str = "validation"

    def official_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=textvqa_accuracy(text, sample.targets))

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return self.vqa_sample(
            row["question_id"],
            image,
            row["question"],
            row["answers"],
            group=row["image_id"],
            question_id=row["question_id"],
            image_id=row["image_id"],
        )
