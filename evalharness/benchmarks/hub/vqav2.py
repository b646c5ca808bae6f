"""vqav2: VQAv2 validation questions on COCO images, scored by VQA accuracy.

Reads the `lmms-lab/VQAv2` schema: `question`, `answers` (ten dicts with `answer`),
`question_id`, `image_id`, `question_type`, `answer_type` and an embedded `image`. Breakdowns
by answer type (yes/no, number, other), as the official evaluation reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row, VQABenchmark
from evalharness.benchmarks.protocols import Official
from evalharness.metrics import vqa_eval_accuracy
from evalharness.stats import Aggregate, by_category
from evalharness.types import ImageSource, Sample, Scored


@dataclass(kw_only=True, eq=False)
class VQAv2(VQABenchmark):
    """VQAv2 (val): open questions on COCO images; VQA accuracy over ten human answers."""

    name = "vqav2"
    description = "VQAv2 val: open questions on COCO images; VQA accuracy over ten human answers."
    schema = "lmms-lab/VQAv2"
    columns = (
        "question",
        "answers",
        "question_id",
        "image_id",
        "question_type",
        "answer_type",
        "image",
    )

    official = Official(
        "GT-Vision-Lab/VQA: PythonEvaluationTools/vqaEvaluation/vqaEval.py",
        (
            "reads the raw reply: no answer extraction",
            "normalises nothing when the ten answers agree, so 'Yes' misses ten 'yes'",
            "its contraction table as it is ('whys' -> \"why's\"; no 'im', 'ive')",
            "answers get the same normalisation as the reply only when they disagree",
        ),
    )

    path: str = "lmms-lab/VQAv2"
    split: str = "validation"

    def official_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=vqa_eval_accuracy(text, sample.targets))

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        types = sorted({s.category for s in samples if s.category})
        return by_category("official", "category", types, "official", bounded=True)

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return self.vqa_sample(
            row["question_id"],
            image,
            row["question"],
            [a["answer"] for a in row["answers"]],
            group=row["image_id"],
            category=str(row["answer_type"]),
            question_id=row["question_id"],
            question_type=row["question_type"],
            answer_type=row["answer_type"],
        )
