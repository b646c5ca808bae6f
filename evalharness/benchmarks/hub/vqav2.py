"""vqav2: VQAv2 validation questions on COCO images, scored by VQA accuracy.

Reads the `lmms-lab/VQAv2` schema: `question`, `answers` (ten dicts with `answer`),
`question_id`, `image_id`, `question_type`, `answer_type` and an embedded `image`. Breakdowns
by answer type (yes/no, number, other), as the official evaluation reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row, VQABenchmark
from evalharness.types import ImageSource, Sample


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

    path: str = "lmms-lab/VQAv2"
    split: str = "validation"

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
