"""ocrbench: OCRBench, 1000 questions on reading text: recognition, scene-text and document VQA,
key information extraction and handwritten formulas.

Reads the `echo840/OCRBench` schema: `dataset` (the source set, e.g. "IIIT5K", "HME100k"),
`question`, `question_type` (one of the ten categories below), `answer` (accepted answers, a
list) and an embedded `image`. The question is asked as it stands.

Scoring is the official one (OCRBench's `example.py`): an item is right when an accepted answer,
lower-cased, stripped and with line breaks as spaces, occurs in the reply treated the same way;
for the handwritten formulas (HME100k) every space and line break is removed on both sides and
case is kept. `final_score` is the number right (out of 1000 on
the full set), each category's likewise; `score`, which the board shows, is the share right
(final score / 1000 on the full set, the OpenVLM leaderboard's normalisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.stats import Aggregate, FloatArray
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored

RECOGNITION = (
    "Regular Text Recognition",
    "Irregular Text Recognition",
    "Artistic Text Recognition",
    "Handwriting Recognition",
    "Digit String Recognition",
    "Non-Semantic Text Recognition",
)
CATEGORIES = (
    *RECOGNITION,
    "Scene Text-centric VQA",
    "Doc-oriented VQA",
    "Key Information Extraction",
    "Handwritten Mathematical Expression Recognition",
)


def ocrbench_correct(reply: str, answers: Sequence[str], dataset: str) -> bool:
    """Whether an accepted answer occurs in the reply, as OCRBench's evaluation decides."""
    if dataset == "HME100k":

        def squeeze(text: str) -> str:
            return text.strip().replace("\n", " ").replace(" ", "")
    else:

        def squeeze(text: str) -> str:
            return text.lower().strip().replace("\n", " ")

    said = squeeze(reply)
    return any(squeeze(a) in said for a in answers)


def _sum(sums: FloatArray) -> FloatArray:
    out: FloatArray = sums[..., 0]
    return out


@dataclass(kw_only=True, eq=False)
class OCRBench(HubBenchmark):
    """OCRBench: text recognition and text-centric VQA; final score out of 1000, by category."""

    name = "ocrbench"
    capability = "ocr"
    description = "OCRBench: reading text in 10 categories; final score out of 1000."
    generation = GenerationSettings(max_new_tokens=128)
    schema = "echo840/OCRBench"
    columns = ("dataset", "question", "question_type", "answer", "image")
    scoring = "ocrbench-official"

    path: str = "echo840/OCRBench"
    split: str = "test"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        answers = row["answer"]
        answers = [str(a) for a in answers] if isinstance(answers, list) else [str(answers)]
        return Sample(
            id=f"{index:04d}",
            images=(image,),
            prompt=str(row["question"]).strip(),
            targets=tuple(answers),
            category=str(row["question_type"]),
            group=f"{index:04d}",
            metadata={"dataset": str(row["dataset"])},
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        right = float(ocrbench_correct(text, sample.targets, str(sample.metadata["dataset"])))
        recognition = right if sample.category in RECOGNITION else 0.0
        return Scored(text.strip() or None, right, {"correct": right, "recognition": recognition})

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        present = [c for c in CATEGORIES if any(s.category == c for s in samples)]
        others = sorted({s.category for s in samples} - set(CATEGORIES))
        aggs = [
            Aggregate.mean("score", bounded=True),
            Aggregate("final_score", ("score",), _sum),
        ]
        if any(c in RECOGNITION for c in present):
            aggs.append(Aggregate("text_recognition", ("recognition",), _sum))
        aggs += [
            Aggregate(f"score[{c}]", ("score",), _sum, where=("category", c))
            for c in [*present, *others]
        ]
        return aggs
