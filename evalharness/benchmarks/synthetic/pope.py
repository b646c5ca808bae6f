"""synth_pope: "Is there a green star in the image?", POPE-style object-hallucination probing.

Each image gets, per sampling strategy, as many questions about objects that are present as about
objects that are absent. Absent objects are drawn three ways:
- random: any absent object;
- popular: the absent objects that appear most often in the suite's images;
- adversarial: absent objects that share a shape or colour with one in the image and co-occur
  most with the image's objects elsewhere in the suite.
Scenes are built so that popularity and co-occurrence mean something: objects are drawn from a
skewed (Zipf-like) popularity, and each new object shares a shape or colour with an earlier one
with probability `cooccur`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from evalharness.benchmarks.synthetic.questions import exists_question
from evalharness.benchmarks.synthetic.scene import (
    COLORS,
    SHAPES,
    Rng,
    Scene,
    make_scene,
    random_size,
)
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.metrics import pope_aggregates, pope_row
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, Sample, Scored

Combo = tuple[str, str]
"""(shape, colour)."""
STRATEGIES = ("random", "popular", "adversarial")


@dataclass(kw_only=True, eq=False)
class PopeSuite(SyntheticSuite):
    """Yes/no object existence with random, popular and adversarial negatives."""

    name = "synth_pope"
    capability = "hallucination"
    description = "POPE-style object existence: random, popular and adversarial absent objects."
    generation = GenerationSettings(max_new_tokens=8)
    scoring = "pope"

    min_objects: int = 3
    """Fewest objects in an image."""
    max_objects: int = 6
    """Most objects in an image."""
    questions: int = 1
    """Present-object and absent-object questions each, per strategy and image."""
    skew: float = 1.0
    """Zipf exponent of object popularity (0 = uniform)."""
    cooccur: float = 0.6
    """Chance that a new object shares a shape or colour with an earlier one in its image."""

    def __post_init__(self) -> None:
        super().__post_init__()
        ok = 1 <= self.questions <= self.min_objects <= self.max_objects
        rule = "need 1 <= questions <= min_objects <= max_objects"
        self.require(ok, "questions min_objects max_objects", rule)

    def build(self) -> Iterator[Sample]:
        all_combos = [(s, c) for s in SHAPES for c in COLORS]
        combos = Rng(self.name, self.seed, "popularity").shuffled(all_combos)
        weights = {c: 1.0 / (rank + 1) ** self.skew for rank, c in enumerate(combos)}
        scenes = [self._scene(i, combos, weights) for i in range(self.n)]
        freq: Counter[Combo] = Counter()
        cooc: Counter[tuple[Combo, Combo]] = Counter()
        for scene in scenes:
            present = _combos(scene)
            freq.update(present)
            cooc.update((a, b) for a in present for b in present if a != b)
        for i, scene in enumerate(scenes):
            rng = self.rng(i, "questions")
            present = _combos(scene)
            absent = [c for c in combos if c not in present]
            negatives = {
                "random": rng.sample(absent, self.questions),
                "popular": sorted(absent, key=lambda c: (-freq[c], c))[: self.questions],
                "adversarial": _adversarial(absent, present, freq, cooc)[: self.questions],
            }
            positives = rng.shuffled(sorted(present))
            for s, strategy in enumerate(STRATEGIES):
                n = self.questions
                asked = [(positives[(s * n + j) % len(positives)], "p") for j in range(n)]
                asked += [(c, "n") for c in negatives[strategy]]
                for j, ((shape, color), sign) in enumerate(rng.shuffled(asked)):
                    q = dataclasses.replace(exists_question(scene, shape, color), kind=strategy)
                    variant = f"{strategy}-{j}{sign}"
                    yield self.make_sample(q, i, scene, variant, strategy=strategy)

    def _scene(self, i: int, combos: list[Combo], weights: dict[Combo, float]) -> Scene:
        rng = self.rng(i)
        chosen: list[Combo] = []
        for _ in range(rng.integer(self.min_objects, self.max_objects)):
            pool = [c for c in combos if c not in chosen]
            if chosen and rng.chance(self.cooccur):
                shape, color = rng.choice(chosen)
                pool = [c for c in pool if c[0] == shape or c[1] == color] or pool
            chosen.append(rng.weighted(pool, [weights[c] for c in pool]))
        kinds = [(shape, color, random_size(rng, self.spec)) for shape, color in chosen]
        return make_scene(rng, kinds, self.spec)

    def score_open(self, sample: Sample, text: str) -> Scored:
        got = self.read(sample, text)
        row = pope_row(None if got is None else got == "yes", sample.targets[0] == "yes")
        return Scored(extracted=got, score=row["correct"], metrics=row)

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        aggs = [Aggregate.mean("score", bounded=True), *pope_aggregates()]
        for strategy in STRATEGIES:
            aggs += pope_aggregates(f"{strategy}/", where=("category", strategy))
        return aggs


def _combos(scene: Scene) -> set[Combo]:
    return {(o.shape, o.color) for o in scene.objects}


def _adversarial(
    absent: list[Combo],
    present: set[Combo],
    freq: Counter[Combo],
    cooc: Counter[tuple[Combo, Combo]],
) -> list[Combo]:
    """Absent objects that share a shape or colour with a present one, those that co-occur most
    with the present objects first (then the most frequent)."""
    related = [a for a in absent if any(a[0] == p[0] or a[1] == p[1] for p in present)] or absent

    def rank(a: Combo) -> tuple[int, int, Combo]:
        return (-sum(cooc[a, p] for p in present), -freq[a], a)

    return sorted(related, key=rank)
