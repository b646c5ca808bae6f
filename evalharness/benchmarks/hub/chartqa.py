"""chartqa: ChartQA test, questions about charts, by humans and generated ("augmented").

Reads the `lmms-lab/ChartQA` schema: `type` ("human_test" or "augmented_test"), `question`,
`answer` and an embedded `image`. The prompt is lmms-eval's: the question, then "Answer the
question using a single word or phrase."

Scoring is relaxed accuracy as the ChartQA paper defines it and Pix2Struct implements it: where
both the reply and the answer read as numbers (a trailing "%" divides by 100), the reply is
right within 5 % of the answer; otherwise it must equal the answer, ignoring case. The reply is
compared as it stands (surrounding white space removed): "12 apples" is not the number 12.
`relaxed_human` and `relaxed_augmented` are the two splits' accuracies, `score` over both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from evalharness.benchmarks.base import BenchmarkSettingError
from evalharness.benchmarks.hub._base import SHORT_ANSWER, HubBenchmark, Row
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored

PARTS = {"human": "human_test", "augmented": "augmented_test"}


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("%")) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return None


def relaxed_correct(reply: str, answer: str, tolerance: float = 0.05) -> bool:
    """ChartQA's relaxed accuracy of one reply: numbers within `tolerance` of a non-zero answer
    (relative), anything else by case-insensitive equality."""
    said, truth = _number(reply), _number(answer)
    if said is not None and truth:
        return abs(said - truth) / abs(truth) <= tolerance
    return reply.lower() == answer.lower()


@dataclass(kw_only=True, eq=False)
class ChartQA(HubBenchmark):
    """ChartQA (test): chart questions; relaxed accuracy (5 % on numbers), human and augmented."""

    name = "chartqa"
    capability = "charts"
    description = "ChartQA test: questions about charts; relaxed accuracy, human and augmented."
    generation = GenerationSettings(max_new_tokens=16)
    schema = "lmms-lab/ChartQA"
    columns = ("type", "question", "answer", "image")
    template = SHORT_ANSWER
    scoring = "relaxed-accuracy-0.05"

    path: str = "lmms-lab/ChartQA"
    split: str = "test"
    part: Literal["both", "human", "augmented"] = "both"
    """Which questions: both splits, or only the human-written or the generated ones."""

    def __post_init__(self) -> None:
        if self.part not in ("both", *PARTS):
            raise BenchmarkSettingError(
                f"chartqa: part must be both, human or augmented, got {self.part!r}"
            )
        super().__post_init__()

    def keep(self, row: Row) -> bool:
        return self.part == "both" or str(row["type"]) == PARTS[self.part]

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        kind = str(row["type"])
        return Sample(
            id=f"{index:05d}",
            images=(image,),
            prompt=self.prompt(question=row["question"]),
            targets=(str(row["answer"]),),
            category="human" if kind == "human_test" else "augmented",
            group=f"{index:05d}",
            metadata={"type": kind},
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        reply = text.strip()
        right = float(relaxed_correct(reply, sample.target))
        return Scored(reply, right, {"correct": right})

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        aggs = [Aggregate.mean("score", bounded=True)]
        for part in ("human", "augmented"):
            if any(s.category == part for s in samples):
                aggs.append(
                    Aggregate.mean("score", f"relaxed_{part}", ("category", part), bounded=True)
                )
        return aggs
