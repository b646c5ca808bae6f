"""coco_caption: COCO Captions, 2017 validation images with five human captions each.

Reads the `lmms-lab/COCO-Caption2017` schema: `id` (COCO image id), `answer` (the reference
captions), `question_id` (the image's file name) and an embedded `image`.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import CaptionBenchmark, Row
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class COCOCaption(CaptionBenchmark):
    """COCO Captions (2017 val): one-sentence captions; CIDEr, BLEU-4, ROUGE-L, METEOR."""

    name = "coco_caption"
    description = "COCO Captions 2017 val: one-sentence captions; CIDEr, BLEU-4, ROUGE-L, METEOR."
    schema = "lmms-lab/COCO-Caption2017"
    columns = ("id", "answer", "image")

    path: str = "lmms-lab/COCO-Caption2017"
    split: str = "val"

    def keep(self, row: Row) -> bool:
        return bool(row["answer"])  # the test split ships no references

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return self.caption_sample(
            str(row["id"]), row["answer"], image, file_name=row.get("question_id")
        )
