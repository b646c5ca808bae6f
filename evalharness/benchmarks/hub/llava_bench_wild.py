"""llava_bench_wild: LLaVA-Bench (in-the-wild), 60 open-ended questions on 24 photos, graded by a
judge model against a reference answer.

Reads the `lmms-lab/llava-bench-in-the-wild` schema: `question_id`, `question`, an embedded
`image`, `caption` (a human description of the image), `gpt_answer` (the reference answer),
`category` ("conv", "detail", "complex") and `image_id`. Split `train`.

Open-ended: a reply has no single right string, so it is scored only by a judge (`judge=`), which
sees the question, the caption (a text-only judge cannot see the image), the reference answer
and the rubric (`RUBRIC`), and grades 0, 0.5 or 1. The published evaluation instead has GPT-4
rate both the reply and the reference answer from 1 to 10 for helpfulness, relevance, accuracy
and level of detail, and reports the ratio of the two ratings; our grades are on another scale
and not comparable with published numbers. Without a judge every reply is unreadable (route
`unreadable`) and scores 0: run it with a judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored

RUBRIC = """Judge the reply's helpfulness, relevance, accuracy and level of detail against the
reference answer, using what the image shows. 1: as helpful and accurate as the reference, with
nothing wrong about the image; 0.5: partly right or much less complete, with no serious error;
0: wrong, irrelevant, or stating something about the image that is not true."""


@dataclass(kw_only=True, eq=False)
class LlavaBenchWild(HubBenchmark):
    """LLaVA-Bench (in-the-wild): open-ended questions on photos, graded by a judge model."""

    name = "llava_bench_wild"
    capability = "vqa"
    description = "LLaVA-Bench in-the-wild: open-ended questions on photos; a judge's rubric grade."
    generation = GenerationSettings(max_new_tokens=256)
    schema = "lmms-lab/llava-bench-in-the-wild"
    columns = ("question_id", "question", "image", "caption", "gpt_answer", "category", "image_id")
    scoring = "rubric-grade"
    rubric: ClassVar[str] = RUBRIC
    """Open-ended: with a judge, each reply is graded by it against this rubric."""

    path: str = "lmms-lab/llava-bench-in-the-wild"
    split: str = "train"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return Sample(
            id=str(row["question_id"]),
            images=(image,),
            prompt=str(row["question"]),
            targets=(str(row["gpt_answer"]),),
            category=str(row.get("category") or ""),
            group=str(row.get("image_id") or row["question_id"]),
            metadata={"judge_context": str(row.get("caption") or "")},
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        """No rule reads an open-ended reply: unreadable until a judge grades it."""
        return Scored(extracted=None, score=0.0, metrics={"correct": 0.0})

    def graded(self, scored: Scored, grade: float) -> Scored:
        return Scored(
            scored.extracted, grade, {"correct": float(grade == 1.0), "judge_grade": grade}
        )
