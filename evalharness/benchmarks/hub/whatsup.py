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

Besides accuracy, pair accuracy (both images of a left/right, on/under or in-front/behind pair
right) and set accuracy (all four images of an object pair right), as the release's evaluation
reports them. Its official reading (`Controlled_Images.evaluate_scores`) breaks ties between
caption scores in release order, which favours the correct caption (always first); ours breaks
them in the shuffled order the options were shown in.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.benchmarks.hub._load import DatasetUnavailableError, Source
from evalharness.benchmarks.protocols import OFFICIAL, PREFIX, ROBUST, Official
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored

PAIRS = (("left", "right"), ("on", "under"), ("in-front", "behind"))
"""The relations whose two images make a pair; an object pair's set is its four images."""


def set_key(image_path: str) -> tuple[tuple[str, str], str]:
    """(object pair, relation) from a release file name such as `mug_left_of_table.jpeg`, read as
    the release's evaluation does: the first and the last word of the name (the last without its
    five-character ".jpeg"), and the second word."""
    parts = image_path.split("/")[-1].split("_")
    return (parts[0], parts[-1][:-5]), parts[1] if len(parts) > 1 else ""


def pairs_and_sets(paths: Sequence[str], correct: Sequence[float]) -> list[tuple[float, float]]:
    """Per item (pairs right, set right), both on the first item of its object pair, else 0."""
    sets: dict[tuple[str, str], dict[str, float]] = {}
    first: dict[tuple[str, str], int] = {}
    for i, (path, right) in enumerate(zip(paths, correct, strict=True)):
        key, relation = set_key(path)
        sets.setdefault(key, {})[relation] = right
        first.setdefault(key, i)
    out = [(0.0, 0.0)] * len(paths)
    for key, i in first.items():
        rights = sets[key]
        pairs = sum(
            float(rights.get(a, 0.0) == 1.0 and rights.get(b, 0.0) == 1.0) for a, b in PAIRS
        )
        whole = float(len(rights) == 4 and all(v == 1.0 for v in rights.values()))
        out[i] = (pairs, whole)
    return out


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

    official = Official(
        "amitakamath/whatsup_vlms: dataset_zoo/aro_datasets.py (Controlled_Images.evaluate_scores)",
        (
            "ties between caption scores go to the first caption in release order, the correct "
            "one (numpy's argmax); ours go to the first in the order shown",
            "pair and set accuracy divide by the number of images / 2 and / 4, whether or not "
            "every pair and set is complete",
            "object pairs and relations come from the file name's words; a '.jpg' name loses "
            "a character of its last word",
        ),
    )

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

    def official_choice(self, a: Answered, robust: Scored) -> Scored:
        scores = a.prediction.choice_scores
        choices = a.sample.choices
        if a.prediction.error is not None or scores is None or choices is None:
            return robust  # a letter in a reply: the release's evaluation reads scores only
        order = shuffled_order(a.sample.metadata["image_path"], len(choices))
        released = [0.0] * len(choices)
        for shown, position in enumerate(order):
            released[position] = scores[shown]
        pick = released.index(max(released))  # the first of the highest, in release order
        correct = float(pick == 0)
        return Scored(choices[order.index(pick)], correct, {"correct": correct})

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        scored = super().score(answered)
        paths = [str(a.sample.metadata["image_path"]) for a in answered]
        extra: list[dict[str, float]] = [{"pair_weight": 0.5, "set_weight": 0.25} for _ in answered]
        for reading, column in ((ROBUST, ""), (OFFICIAL, PREFIX)):
            correct = [s.metrics.get(reading, s.score) for s in scored]
            for i, (pairs, whole) in enumerate(pairs_and_sets(paths, correct)):
                extra[i][f"{column}pairs_right"] = pairs
                extra[i][f"{column}set_right"] = whole
        return [
            Scored(s.extracted, s.score, {**s.metrics, **e})
            for s, e in zip(scored, extra, strict=True)
        ]

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            *super().aggregates(samples),
            Aggregate.ratio("pairs_right", "pair_weight", "pair_accuracy", bounded=True),
            Aggregate.ratio("set_right", "set_weight", "set_accuracy", bounded=True),
        ]

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            Aggregate.ratio(
                PREFIX + "pairs_right", "pair_weight", "official/pair_accuracy", bounded=True
            ),
            Aggregate.ratio(
                PREFIX + "set_right", "set_weight", "official/set_accuracy", bounded=True
            ),
        ]
