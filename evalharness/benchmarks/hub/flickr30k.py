"""flickr30k: Flickr30k test images (31k, the whole set as `lmms-lab/flickr30k` ships it), five
captions each.

Reads the `lmms-lab/flickr30k` schema: `img_id`, `caption` (the reference captions), `filename`
and an embedded `image`. For the 1k-image Karpathy test split, pass its rows as `data_files`.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import CaptionBenchmark, Row
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class Flickr30k(CaptionBenchmark):
    """Flickr30k (test): one-sentence captions of everyday scenes; CIDEr, BLEU-4, ROUGE-L."""

    name = "flickr30k"
    description = "Flickr30k test: captions of people and everyday scenes; CIDEr, BLEU-4, ROUGE-L."
    schema = "lmms-lab/flickr30k"
    columns = ("img_id", "caption", "image")

    path: str = "lmms-lab/flickr30k"
    split: str = "test"

    def keep(self, row: Row) -> bool:
        return bool(row["caption"])

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return self.caption_sample(
            str(row["img_id"]), row["caption"], image, filename=row.get("filename")
        )
