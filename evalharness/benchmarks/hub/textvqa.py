"""textvqa: TextVQA validation questions that need reading text in the image; VQA accuracy.

Reads the `lmms-lab/textvqa` (= `facebook/textvqa`) schema: `question`, `answers` (ten strings),
`question_id`, `image_id` and an embedded `image`. OCR tokens are not shown to the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row, VQABenchmark
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class TextVQA(VQABenchmark):
    """TextVQA (val): questions about text in photos; VQA accuracy over ten human answers."""

    name = "textvqa"
    description = "TextVQA val: questions about text in photos; VQA accuracy over ten answers."
    schema = "lmms-lab/textvqa"
    columns = ("question", "answers", "question_id", "image_id", "image")

    path: str = "lmms-lab/textvqa"
    split: str = "validation"

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
