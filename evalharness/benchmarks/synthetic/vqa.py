"""synth_vqa: mixed short questions (colour, shape, existence, count, comparison), VQA accuracy.

Scenes draw their objects from a few shapes and colours, so that repeats (and so counts above one
and comparisons) are common. The question makers here are shared with synth_adherence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from evalharness import extract
from evalharness.benchmarks.synthetic.questions import (
    TEMPLATES,
    Question,
    color_question,
    compare_question,
    count_question,
    exists_question,
    shape_question,
)
from evalharness.benchmarks.synthetic.scene import (
    COLORS,
    SHAPES,
    Rng,
    Scene,
    SceneSpec,
    make_scene,
    random_size,
)
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.metrics import vqa_accuracy
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, Sample, Scored

SUFFIX = "Answer with a single word or number."
"""Appended to every question, as VQAv2 evaluations of generative models do."""


def mixed_scene(rng: Rng, spec: SceneSpec, min_objects: int, max_objects: int) -> Scene:
    """Objects drawn (with repeats) from 2-3 shapes and 2-3 colours."""
    shapes = rng.sample(SHAPES, rng.integer(2, 3))
    colors = rng.sample(COLORS, rng.integer(2, 3))
    k = rng.integer(min_objects, max_objects)
    kinds = [(rng.choice(shapes), rng.choice(colors), random_size(rng, spec)) for _ in range(k)]
    return make_scene(rng, kinds, spec)


def _color(scene: Scene, rng: Rng, max_count: int) -> Question | None:
    unique = [o for o in scene.objects if scene.count(o.shape) == 1]
    return color_question(scene, rng.choice(unique), rng) if unique else None


def _shape(scene: Scene, rng: Rng, max_count: int) -> Question | None:
    unique = [o for o in scene.objects if scene.count(color=o.color) == 1]
    return shape_question(scene, rng.choice(unique), rng) if unique else None


def _exists(scene: Scene, rng: Rng, max_count: int) -> Question:
    """Half present objects, half absent ones that share the shape or colour of a present one."""
    o = rng.choice(scene.objects)
    if rng.chance(0.5):
        return exists_question(scene, o.shape, o.color)
    near_misses = [
        (s, c)
        for s in SHAPES
        for c in COLORS
        if (s == o.shape or c == o.color) and not scene.has(s, c)
    ]
    shape, color = rng.choice(near_misses)
    return exists_question(scene, shape, color)


def _count(scene: Scene, rng: Rng, max_count: int) -> Question:
    shape = rng.choice(scene.objects).shape if rng.chance(0.85) else rng.choice(SHAPES)
    return count_question(scene, shape, None, range(max_count + 1))


def _compare(scene: Scene, rng: Rng, max_count: int) -> Question | None:
    pairs = [(a, b) for a in SHAPES for b in SHAPES if a != b and scene.count(a) != scene.count(b)]
    present = [(a, b) for a, b in pairs if scene.count(a) and scene.count(b)]
    if not pairs:
        return None
    a, b = rng.choice(present or pairs)
    return compare_question(scene, a, b)


ASK: dict[str, Callable[[Scene, Rng, int], Question | None]] = {
    "color": _color,
    "shape": _shape,
    "exists": _exists,
    "count": _count,
    "compare": _compare,
}
"""Question makers by type; None where the scene cannot support the type."""


@dataclass(kw_only=True, eq=False)
class VQASuite(SyntheticSuite):
    """Short-answer questions of five types, scored with VQA accuracy."""

    name = "synth_vqa"
    capability = "vqa"
    description = "Mixed short questions: colour, shape, existence, count, comparison."
    difficulty = "true_count"
    generation = GenerationSettings(max_new_tokens=8)
    templates = (*TEMPLATES.values(), SUFFIX)
    scoring = "vqa_accuracy+lenient"

    min_objects: int = 3
    """Fewest objects in an image."""
    max_objects: int = 7
    """Most objects in an image."""
    questions: int = 3
    """Questions per image, of different types."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rule = "need 1 <= min_objects <= max_objects"
        self.require(1 <= self.min_objects <= self.max_objects, "min_objects max_objects", rule)
        rule = f"questions per image: 1 to {len(ASK)}"
        self.require(1 <= self.questions <= len(ASK), "questions", rule)

    def build(self) -> Iterator[Sample]:
        for i in range(self.n):
            rng = self.rng(i)
            scene = mixed_scene(rng, self.spec, self.min_objects, self.max_objects)
            asked = 0
            for kind in rng.shuffled(ASK):
                q = ASK[kind](scene, rng, self.max_objects)
                if q is not None:
                    q = dataclasses.replace(q, prompt=f"{q.prompt} {SUFFIX}")
                    yield self.make_sample(q, i, scene, kind)
                    asked += 1
                if asked == self.questions:
                    break

    def score_open(self, sample: Sample, text: str) -> Scored:
        accuracy = vqa_accuracy(extract.open_answer(text), sample.targets)
        lenient = super().score_open(sample, text)
        return Scored(
            extracted=lenient.extracted,
            score=accuracy,
            metrics={"vqa_accuracy": accuracy, "correct": lenient.score},
        )

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            *super().aggregates(samples),
            Aggregate.mean("correct", "lenient_accuracy", bounded=True),
        ]
