"""nocaps: NoCaps validation, Open Images photos of objects beyond COCO's classes, ten captions each.

Reads the `lmms-lab/NoCaps` schema: `image_id`, `annotations_captions` (the reference captions),
`image_open_images_id` and an embedded `image`. The test split's references are hidden: its rows
have none and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import CaptionBenchmark, Row
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class NoCaps(CaptionBenchmark):
    """NoCaps (val): novel-object captioning; CIDEr, BLEU-4, ROUGE-L, METEOR."""

    name = "nocaps"
    description = "NoCaps val: captions of novel objects (Open Images); CIDEr, BLEU-4, ROUGE-L."
    schema = "lmms-lab/NoCaps"
    columns = ("image_id", "annotations_captions", "image")

    path: str = "lmms-lab/NoCaps"
    split: str = "validation"

    def keep(self, row: Row) -> bool:
        return bool(row["annotations_captions"])

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return self.caption_sample(
            str(row["image_id"]),
            row["annotations_captions"],
            image,
            open_images_id=row.get("image_open_images_id"),
        )
