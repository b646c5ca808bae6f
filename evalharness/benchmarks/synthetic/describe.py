"""synth_describe: describe every shape in the image; graded by a judge against a rubric, and
checked against the scene generator's truth.

An open-ended benchmark: a description has no single right string, so its score is a judge's
grade by the rubric (`rubric`; `judge=` on the command line). The generator knows what is in
the image, so every reply also gets a grade by rule from the truth (`truth`): 1 when it names
every colour-shape pair in the image and none that is absent, 0.5 when it names some and none
absent, 0 otherwise. Without a judge the truth grade is the score (route `rule`); with one, the
judge's grade is (route `judge`) and `judge_vs_truth` says how often the two grades are equal:
a check of the judge that no hub benchmark can give.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from evalharness.benchmarks.synthetic.caption import grouped
from evalharness.benchmarks.synthetic.questions import Question
from evalharness.benchmarks.synthetic.scene import COLORS, SHAPES, distinct_kinds, make_scene
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, Sample, Scored

PROMPT = "Describe every shape in the image: say the colour and the kind of each one."
RUBRIC = """1: the reply names the colour and kind of every shape in the reference, and names no
shape that is not in it (counts may be left out); 0.5: it names some of the reference's shapes
correctly and none that is not in it; 0: it names none of them, or names a shape (a colour-kind
pair) that is not in the reference."""

_PAIR = re.compile(
    r"\b(" + "|".join(COLORS) + r")\s+(" + "|".join(SHAPES) + r")(?:e?s)?\b", re.IGNORECASE
)


def mentioned(text: str) -> set[tuple[str, str]]:
    """The colour-shape pairs a reply names ("two red circles" names (red, circle))."""
    return {(c.lower(), s.lower()) for c, s in _PAIR.findall(text)}


def truth_grade(text: str, truth: set[tuple[str, str]]) -> float:
    """The rubric's grade, by rule from the scene's truth."""
    said = mentioned(text)
    if not said & truth or said - truth:
        return 0.0
    return 1.0 if truth <= said else 0.5


@dataclass(kw_only=True, eq=False)
class DescribeSuite(SyntheticSuite):
    """Describe the shapes; graded by a judge with a rubric, checked against the truth."""

    name = "synth_describe"
    capability = "captioning"
    description = "Describe every shape: a judge's rubric grade, checked against the scene's truth."
    generation = GenerationSettings(max_new_tokens=64)
    templates = (PROMPT, RUBRIC)
    scoring = "rubric-grade;truth=colour-shape-pairs"
    rubric: ClassVar[str] = RUBRIC
    """Open-ended: with a judge, each reply is graded by it against this rubric."""

    max_objects: int = 4
    """Most objects in an image (at least 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require(self.max_objects >= 1, "max_objects", "max_objects is at least 1")

    def build(self) -> Iterator[Sample]:
        for i in range(self.n):
            rng = self.rng(i)
            kinds = distinct_kinds(rng, rng.integer(1, self.max_objects), self.spec)
            scene = make_scene(rng, kinds, self.spec)
            pairs = [(o.color, o.shape) for o in sorted(scene.objects, key=lambda o: o.cx)]
            q = Question(
                kind="describe", prompt=PROMPT, answers=(grouped(pairs),), answer_kind="option"
            )
            yield self.make_sample(q, i, scene, pairs=";".join(f"{c} {s}" for c, s in pairs))

    def score_open(self, sample: Sample, text: str) -> Scored:
        truth = {tuple(p.split(" ", 1)) for p in str(sample.metadata["pairs"]).split(";")}
        grade = truth_grade(text, truth)  # type: ignore[arg-type]
        said = sorted(mentioned(text))
        extracted = ", ".join(f"{c} {s}" for c, s in said) or None
        return Scored(extracted, grade, {"truth": grade, "correct": float(grade == 1.0)})

    def graded(self, scored: Scored, grade: float) -> Scored:
        """The judge's grade as the score, the truth's kept beside it."""
        truth = scored.metrics.get("truth", 0.0)
        metrics = {
            **scored.metrics,
            "judge_grade": grade,
            "judge_vs_truth": float(grade == truth),
            "correct": float(grade == 1.0),
        }
        return Scored(scored.extracted, grade, metrics)

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            *super().aggregates(samples),
            Aggregate.mean("truth", bounded=True),
            Aggregate.mean("judge_vs_truth", bounded=True),
        ]
