"""mathvista: MathVista testmini, mathematical reasoning over figures, plots, tables and photos.

Reads the `AI4Math/MathVista` schema: `pid`, `question`, `query` (the official prompt: a hint
on the answer's form, the question and its options), `choices` (a list, or null for free-form
questions), `answer`, `question_type` ("multi_choice" or "free_form"), `answer_type`
("text", "integer", "float" or "list"), `precision` (decimals of float answers), `unit`,
`metadata` (task, category, skills, …) and the embedded image `decoded_image` (`image` names
its file). The model is asked the official `query`.

Answers are read as the official evaluation reads them, rules first (`metrics.mathvista_rule`):
an exact option, a bare number, or (with `quick_extract`) `The answer is "X".`. A reply the
rules cannot read goes, officially, to a GPT judge; here to the run's judge model where one is
set (`judge=`; its answer is read by the same rules), else it is recorded as unreadable (`route`
metrics: `rule` or `unreadable`, per sample; the run's `read_status` says rule, judge or
unreadable) and counts as wrong, so `unreadable` says how much a judge could still change: the `official` protocol, the default. The `robust` protocol
reads what the rules cannot with the harness's extraction (an option, a number), route
`extracted`, and leaves `unreadable` only what that cannot read either. What was read is
normalised to the answer's type as the official does (`metrics.mathvista_normalise`: a letter
or the nearest option; numbers rounded to the item's precision) and must equal the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalharness import extract
from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.benchmarks.protocols import OFFICIAL, Official
from evalharness.metrics import mathvista_normalise, mathvista_rule
from evalharness.stats import Aggregate, by_category
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored


def _precision(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


@dataclass(kw_only=True, eq=False)
class MathVista(HubBenchmark):
    """MathVista (testmini): maths on figures; official rule extraction, the rest unreadable."""

    name = "mathvista"
    capability = "math"
    description = "MathVista testmini: maths over figures; accuracy by rule-read answers."
    generation = GenerationSettings(max_new_tokens=512)
    schema = "AI4Math/MathVista"
    columns = (
        "pid",
        "query",
        "choices",
        "answer",
        "question_type",
        "answer_type",
        "precision",
        "metadata",
        "decoded_image",
    )
    image_column = "decoded_image"
    scoring = "mathvista"
    official = Official(
        "lupantech/MathVista: evaluation/extract_answer.py, evaluation/calculate_score.py",
        (
            "a reply its rules cannot read goes to a GPT judge: recorded here as unreadable and "
            "wrong until a judge is set",
            "an empty reply, or any text, is matched to the nearest option by edit distance",
        ),
    )

    path: str = "AI4Math/MathVista"
    split: str = "testmini"
    quick_extract: bool = True
    """Also read `The answer is "X".` by rule (the official `--quick_extract`)."""

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        meta = row.get("metadata") or {}
        choices = [str(c) for c in (row.get("choices") or [])]
        return Sample(
            id=str(row["pid"]),
            images=(image,),
            prompt=str(row["query"]),
            targets=(str(row["answer"]),),
            # a judge names one of the options, which the official rules then read exactly
            answer_space=tuple(choices) if choices else None,
            category=str(meta.get("task") or ""),
            group=str(row["pid"]),
            metadata={
                "question_type": str(row["question_type"]),
                "answer_type": str(row["answer_type"]),
                "choices": choices,
                "precision": _precision(row.get("precision")),
                "source": str(meta.get("source") or ""),
            },
        )

    def read_both(self, a: Answered, robust: Scored) -> Scored:
        """Both readings; under the official protocol the answer read is the official rules',
        so a reply they cannot read is the one a judge model (`judge=`) is asked about, and the
        judge's answer is read by the same rules (the run's `read_status`: rule, judge or
        unreadable)."""
        both = super().read_both(a, robust)
        if self.headline != OFFICIAL:
            return both
        text = "" if a.prediction.error is not None else (a.prediction.text or "")
        return Scored(self.official_open(a.sample, text).extracted, both.score, both.metrics)

    def official_open(self, sample: Sample, text: str) -> Scored:
        """The official rules; a reply they cannot read waits for the judge (unreadable)."""
        read = self._rules(sample, text)
        if read is None:  # the official evaluation would ask its judge here
            return Scored(None, 0.0, {"correct": 0.0, "rule": 0.0, "unreadable": 1.0})
        return self._judged(sample, read, {"rule": 1.0, "unreadable": 0.0})

    def score_open(self, sample: Sample, text: str) -> Scored:
        """The official rules first; what they cannot read, the harness's extraction reads (an
        option, or a number for integer and float answers)."""
        read = self._rules(sample, text)
        if read is not None:
            return self._judged(sample, read, {"rule": 1.0, "extracted": 0.0, "unreadable": 0.0})
        meta = sample.metadata
        found: str | None = None
        if meta["question_type"] == "multi_choice":
            index = extract.choice(text, list(meta["choices"]))
            found = None if index is None else meta["choices"][index]
        elif meta["answer_type"] in ("integer", "float"):
            value = extract.number(text)
            found = None if value is None else str(value)
        if found is None:
            return Scored(
                None, 0.0, {"correct": 0.0, "rule": 0.0, "extracted": 0.0, "unreadable": 1.0}
            )
        return self._judged(sample, found, {"rule": 0.0, "extracted": 1.0, "unreadable": 0.0})

    def _rules(self, sample: Sample, text: str) -> str | None:
        meta = sample.metadata
        return mathvista_rule(
            text,
            meta["question_type"],
            meta["answer_type"],
            meta["choices"],
            quick=self.quick_extract,
        )

    def _judged(self, sample: Sample, read: str, route: dict[str, float]) -> Scored:
        meta = sample.metadata
        value = mathvista_normalise(
            read, meta["question_type"], meta["answer_type"], meta["choices"], meta["precision"]
        )
        right = float(value is not None and value == sample.target)
        return Scored(value, right, {"correct": right, **route})

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        tasks = sorted({s.category for s in samples if s.category})
        return [
            Aggregate.mean("score", bounded=True),
            Aggregate.mean("official_unreadable", "unreadable", bounded=True),
            Aggregate.mean("unreadable", "robust_unreadable", bounded=True),
            *by_category("score", "category", tasks, "score", bounded=True),
        ]
