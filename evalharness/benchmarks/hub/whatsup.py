"""whatsup: What'sUp (Kamath et al., 2023), pick the caption with the right spatial preposition
("A mug on / under / left of / right of a table") for photos that differ only in that relation.

What'sUp has no common hub copy in its release format, so this adapter reads the release files
as published with the paper: a JSON list of {`image_path`, `caption_options`} where the first
option is the correct one (`controlled_images_dataset.json`, subset A, or
`controlled_clevr_dataset.json`, subset B). Set `path` to that JSON file (or its folder with
`data_files`) and `image_root` to the folder the image paths are relative to (by default the
JSON file's folder; leading folders of the paths are tried off in turn).

Generative models see the options shuffled (a fixed order per image), since the correct one is
always first in the files; image-text matching models score the captions themselves.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.benchmarks.hub._load import DatasetUnavailableError, Source
from evalharness.types import GenerationSettings, ImageSource, Sample


def shuffled_order(key: str, n: int) -> list[int]:
    """A permutation of range(n) fixed by `key`."""
    order = list(range(n))
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    random.Random(seed).shuffle(order)
    return order


@dataclass(kw_only=True, eq=False)
class WhatsUp(HubBenchmark):
    """What'sUp: choose the caption with the right spatial preposition (4 options)."""

    name = "whatsup"
    capability = "spatial"
    description = "What'sUp: pick the caption with the right preposition (on/under/left/right)."
    generation = GenerationSettings(max_new_tokens=8)
    schema = "What'sUp release (image_path, caption_options)"
    columns = ("image_path", "caption_options")
    image_column = "image_path"
    template = "Which caption describes the image?"
    scoring = "choice-accuracy"

    path: str = ""
    split: str = "test"

    def source(self) -> Source:
        if not self.path:
            raise DatasetUnavailableError(
                "whatsup: What'sUp is not on the hub in its release format; download the release "
                "and set benchmark.args.path=/folder/controlled_images_dataset.json (and "
                "benchmark.args.image_root=/folder if the images live elsewhere)"
            )
        return super().source()

    def images_folder(self) -> str | None:
        if self.image_root is not None:
            return self.image_root
        local = Path(self.path).expanduser()
        return str(local if local.is_dir() else local.parent)

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        options = [str(c) for c in row["caption_options"]]
        path = str(row["image_path"])
        order = shuffled_order(path, len(options))
        return Sample(
            id=Path(path).stem,
            images=(image,),
            prompt=self.prompt(),
            choices=tuple(options[i] for i in order),
            target_index=order.index(0),
            group=path,
            metadata={"image_path": path},
        )
