"""synth_spatial: left / right / above / below and nearest, each relation asked twice.

Every relation question comes as a pair on the same image: "Is the red circle to the left of the
blue square?" and its reversal "Is the blue square to the right of the red circle?" (and likewise
the open "Where is A relative to B?" / "Where is B relative to A?"). A model that understands the
relation answers both alike; `consistency` is the share of pairs answered consistently, whatever
the truth, and `pair_accuracy` the share answered both correctly.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.synthetic.questions import Question, article, one_of, yes_no_question
from evalharness.benchmarks.synthetic.scene import (
    INVERSE,
    RELATIONS,
    Obj,
    Relation,
    Scene,
    distinct_kinds,
    make_scene_where,
    nearest,
    relation,
)
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.stats import Aggregate, by_category
from evalharness.store import META_PREFIX
from evalharness.types import GenerationSettings, Sample, Scored

PHRASES: dict[str, str] = {
    "left": "to the left of",
    "right": "to the right of",
    "above": "above",
    "below": "below",
}
TEMPLATES = {
    "yes_no": "Is the {a} {phrase} the {b}?",
    "where": "Where is the {a} relative to the {b}? Answer left, right, above or below.",
    "nearest": "Which object is nearest to the {a}?",
}
MIN_GAP = 0.15
"""Least centre distance along the relation's axis, as a share of the image side."""


def yes_no_item(a: Obj, b: Obj, asked: Relation, truth: bool) -> Question:
    statement = f"{article(a.name)} {PHRASES[asked]} {article(b.name)}"
    negation = f"{article(a.name)} {PHRASES[INVERSE[asked]]} {article(b.name)}"
    prompt = TEMPLATES["yes_no"].format(a=a.name, phrase=PHRASES[asked], b=b.name)
    return yes_no_question("yes_no", prompt, truth, statement, negation)


def where_item(a: Obj, b: Obj, true: Relation) -> Question:
    prompt = TEMPLATES["where"].format(a=a.name, b=b.name)
    texts = [f"{article(a.name)} {PHRASES[r]} {article(b.name)}" for r in RELATIONS]
    return one_of("where", prompt, true, RELATIONS, "relation", texts=texts)


def nearest_item(scene: Scene, i: int, j: int) -> Question:
    a = scene.objects[i]
    options = [o.name for k, o in enumerate(scene.objects) if k != i]
    texts = [f"the {o} is nearest to the {a.name}" for o in options]
    prompt = TEMPLATES["nearest"].format(a=a.name)
    return one_of("nearest", prompt, scene.objects[j].name, options, "option", texts=texts)


@dataclass(kw_only=True, eq=False)
class SpatialSuite(SyntheticSuite):
    """Spatial relations between two named objects, each asked in both directions, plus nearest."""

    name = "synth_spatial"
    capability = "spatial"
    description = "Left/right/above/below and nearest, each relation asked in both directions."
    generation = GenerationSettings(max_new_tokens=8)
    templates = (*TEMPLATES.values(), *PHRASES.values())
    scoring = "exact+pair_consistency"

    distractors: int = 2
    """Other objects in each image besides the two related ones (nearest needs at least one)."""

    def build(self) -> Iterator[Sample]:
        gap = MIN_GAP * self.image_size

        def clear(scene: Scene) -> bool:
            a, b = scene.objects[:2]
            return relation(a, b, gap) is not None and nearest(scene.objects, 0) is not None

        for i in range(self.n):
            rng = self.rng(i)
            kinds = distinct_kinds(rng, 2 + self.distractors, self.spec)
            scene = make_scene_where(rng, kinds, self.spec, clear)
            a, b = scene.objects[:2]
            rel = relation(a, b, gap)
            near = nearest(scene.objects, 0)
            assert rel is not None and near is not None
            asked = rel if rng.chance(0.5) else INVERSE[rel]
            truth = asked == rel
            items = [
                ("yn-a", yes_no_item(a, b, asked, truth), rel, "yn"),
                ("yn-b", yes_no_item(b, a, INVERSE[asked], truth), INVERSE[rel], "yn"),
                ("where-a", where_item(a, b, rel), rel, "where"),
                ("where-b", where_item(b, a, INVERSE[rel]), INVERSE[rel], "where"),
            ]
            for variant, q, true_rel, pair in items:
                pair_id = f"{self.image_id(i)}-{pair}"
                yield self.make_sample(q, i, scene, variant, relation=true_rel, pair=pair_id)
            if self.distractors > 0:
                yield self.make_sample(
                    nearest_item(scene, 0, near),
                    i,
                    scene,
                    "nearest",
                    relation="nearest",
                )

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        scored = [self.score_one(a) for a in answered]
        pairs: dict[str, list[int]] = defaultdict(list)
        for k, a in enumerate(answered):
            if "pair" in a.sample.metadata:
                pairs[a.sample.metadata["pair"]].append(k)
        for members in pairs.values():
            if len(members) != 2:  # a lone half of a pair says nothing about consistency
                continue
            first, second = (scored[k] for k in members)
            kind = answered[members[0]].sample.category
            consistent = _consistent(kind, first.extracted, second.extracted)
            both = float(first.score == 1.0 and second.score == 1.0)
            for k in members:  # both halves carry the pair's value, so means over rows = over pairs
                extra = {"pair_consistent": consistent, "pair_correct": both}
                scored[k] = dataclasses.replace(scored[k], metrics={**scored[k].metrics, **extra})
        return scored

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        rels = [
            r for r in (*RELATIONS, "nearest") if any(s.metadata["relation"] == r for s in samples)
        ]
        return [
            *super().aggregates(samples),
            Aggregate.mean("pair_consistent", "consistency", bounded=True),
            Aggregate.mean("pair_correct", "pair_accuracy", bounded=True),
            *by_category("score", META_PREFIX + "relation", rels, "accuracy", bounded=True),
        ]


def _consistent(kind: str, first: str | None, second: str | None) -> float:
    """Do the two answers agree? A reversed yes/no question has the same answer; a reversed
    'where' question the opposite relation."""
    if first is None or second is None:
        return 0.0
    if kind == "where":
        return float(INVERSE.get(first) == second)
    return float(first == second)
