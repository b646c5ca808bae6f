"""vsr and vsr_zeroshot: Visual Spatial Reasoning, "does this caption match the image?" (true or
false) for captions that state a spatial relation between two objects in a COCO image.

Reads the `cambridgeltl/vsr_random` / `vsr_zeroshot` schema: `caption`, `label` (1 true, 0
false), `relation` and `image`. The hub copies ship the image *file name* only (COCO 2017 train
and val images), so `image_root` must name the folder that holds them (train2017 and val2017
merged, or VSR's own image zip); a copy with embedded
images (an `image` column of images) needs no `image_root`. The random split shares images and
relations with its training split; the zero-shot split holds out relations.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row, YesNoBenchmark
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class VSR(YesNoBenchmark):
    """VSR (random split, test): is the spatial caption true of the image? Accuracy by relation."""

    name = "vsr"
    capability = "spatial"
    description = "VSR random split: is a spatial caption true of the image? Accuracy by relation."
    schema = "cambridgeltl/vsr_random"
    columns = ("caption", "label", "relation", "image")
    labels = ("true", "false")
    # the caption-matching prompt TRI-ML/vlm-evaluation gives InstructBLIP (less its " Answer:");
    # its VSR harness itself asks whether the statement is "True" or "False"
    template = 'Does the following caption match the image (true or false)? Caption: "{caption}"'
    scoring = "true-false"

    path: str = "cambridgeltl/vsr_random"
    split: str = "test"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return Sample(
            id=f"{index:05d}",
            images=(image,),
            prompt=self.prompt(caption=row["caption"]),
            targets=(self.labels[0] if int(row["label"]) == 1 else self.labels[1],),
            answer_space=self.labels,
            category=str(row["relation"]),
            group=str(row.get("image") or index),
            metadata={"relation": row["relation"], "image_file": row.get("image")},
        )


@dataclass(kw_only=True, eq=False)
class VSRZeroShot(VSR):
    """VSR (zero-shot split, test): relations unseen in training; accuracy by relation."""

    name = "vsr_zeroshot"
    description = "VSR zero-shot split: spatial captions with held-out relations; accuracy."
    schema = "cambridgeltl/vsr_zeroshot"

    path: str = "cambridgeltl/vsr_zeroshot"
