"""mmstar: MMStar, 1 500 multiple-choice questions that need the image (Chen et al., 2024).

Reads the `Lin-Chen/MMStar` schema (split "val"): `index`, `question` (the question followed by
"Options: A: …, B: …, C: …, D: …"), `answer` (a letter), `category` (six core abilities),
`l2_category` (18 detailed axes), `meta_info` and an embedded `image`. The options are read
out of the question; the model sees VLMEvalKit's prompt, MMStar's official evaluation.
Accuracy overall, per core ability and per axis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row
from evalharness.benchmarks.hub._choice import ChoiceBenchmark
from evalharness.stats import Aggregate, by_category
from evalharness.store import META_PREFIX
from evalharness.types import ImageSource, Sample

_OPTIONS = re.compile(r"\n?Options:\s*", re.IGNORECASE)
_LABEL = re.compile(r"(?:^|,\s+)([A-F]):\s*")


def split_options(text: str) -> tuple[str, list[str]]:
    """The question and its options, from MMStar's "… Options: A: x, B: y" form; no options
    when the text has none in that form."""
    parts = _OPTIONS.split(text, maxsplit=1)
    if len(parts) < 2:
        return text.strip(), []
    stem, listed = parts
    labels = list(_LABEL.finditer(listed))
    if [m.group(1) for m in labels] != list("ABCDEF"[: len(labels)]):
        return text.strip(), []
    ends = [m.start() for m in labels[1:]] + [len(listed)]
    return stem.strip(), [
        listed[m.end() : end].strip() for m, end in zip(labels, ends, strict=True)
    ]


@dataclass(kw_only=True, eq=False)
class MMStar(ChoiceBenchmark):
    """MMStar: vision-indispensable multiple choice; accuracy per core ability and axis."""

    name = "mmstar"
    description = "MMStar: 1,500 vision-indispensable multiple-choice questions; accuracy."
    schema = "Lin-Chen/MMStar"
    columns = ("index", "question", "answer", "category", "l2_category", "image")

    path: str = "Lin-Chen/MMStar"
    split: str = "val"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        question, options = split_options(str(row["question"]))
        return self.choice_sample(
            row["index"],
            image,
            question,
            options,
            row["answer"],
            category=str(row["category"]),
            index=row["index"],
            l2_category=str(row["l2_category"]),
        )

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        axes = sorted({str(s.metadata["l2_category"]) for s in samples})
        return [
            *super().aggregates(samples),
            *by_category("score", META_PREFIX + "l2_category", axes, "l2", bounded=True),
        ]
