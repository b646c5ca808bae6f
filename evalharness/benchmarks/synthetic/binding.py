"""synth_binding: which colour goes with which shape, and which object comes first.

Each image holds two objects of different shapes and colours (plus optional distractors) in a
clear spatial relation, and carries four items:
- "What color is the square?" and "What shape is the red object?" (open, or as options);
- two captions that differ only in which colour is bound to which shape
  ("a red circle and a blue square" / "a blue circle and a red square");
- two captions that differ only in word order of a relation
  ("the circle is to the left of the square" / "the square is to the left of the circle").
The caption items are option-only: generative models see them as lettered options.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from evalharness.benchmarks.synthetic.questions import (
    Question,
    article,
    color_question,
    shape_question,
)
from evalharness.benchmarks.synthetic.scene import (
    Obj,
    Rng,
    Scene,
    distinct_kinds,
    make_scene_where,
    relation,
)
from evalharness.benchmarks.synthetic.spatial import MIN_GAP, PHRASES
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.types import GenerationSettings, Sample

CAPTION_PROMPT = "Which caption describes the image?"
TEMPLATES = {
    "binding": "{a} and {b}",
    "order": "the {a} is {phrase} the {b}",
}


def caption_pair(kind: str, true: str, false: str, rng: Rng) -> Question:
    """Two captions, one true, in random order; answered by picking one."""
    options = (true, false) if rng.chance(0.5) else (false, true)
    return Question(
        kind=kind,
        prompt=CAPTION_PROMPT,
        answers=(),
        answer_kind="option",
        choices=options,
        target_index=options.index(true),
    )


def binding_pair(a: Obj, b: Obj, rng: Rng) -> Question:
    """The true caption and the one with the two colours swapped."""
    fmt = TEMPLATES["binding"].format
    true = fmt(a=article(a.name), b=article(b.name))
    swapped = fmt(a=article(f"{b.color} {a.shape}"), b=article(f"{a.color} {b.shape}"))
    return caption_pair("swap_binding", true, swapped, rng)


def order_pair(a: Obj, b: Obj, phrase: str, rng: Rng) -> Question:
    """'the circle is left of the square' against the same words with the two objects swapped."""
    fmt = TEMPLATES["order"].format
    return caption_pair(
        "swap_order",
        fmt(a=a.shape, phrase=phrase, b=b.shape),
        fmt(a=b.shape, phrase=phrase, b=a.shape),
        rng,
    )


@dataclass(kw_only=True, eq=False)
class BindingSuite(SyntheticSuite):
    """Attribute binding (colour of a shape, shape of a colour) and caption pairs that differ only
    in binding or in word order."""

    name = "synth_binding"
    capability = "binding"
    description = (
        "Colour-shape binding and word order: attribute questions and swapped-caption pairs."
    )
    generation = GenerationSettings(max_new_tokens=8)
    templates = (CAPTION_PROMPT, *TEMPLATES.values(), *PHRASES.values())

    distractors: int = 1
    """Extra objects; all objects have different shapes and different colours (at most 4)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rule = "distractors must be 0 to 4: each object needs its own shape"
        self.require(0 <= self.distractors <= 4, "distractors", rule)

    def build(self) -> Iterator[Sample]:
        gap = MIN_GAP * self.image_size

        def clear(scene: Scene) -> bool:
            return relation(scene.objects[0], scene.objects[1], gap) is not None

        for i in range(self.n):
            rng = self.rng(i)
            kinds = distinct_kinds(
                rng, 2 + self.distractors, self.spec, unique_shapes=True, unique_colors=True
            )
            scene = make_scene_where(rng, kinds, self.spec, clear)
            a, b = scene.objects[:2]
            rel = relation(a, b, gap)
            assert rel is not None
            asked, other = (a, b) if rng.chance(0.5) else (b, a)
            items = [
                ("color", color_question(scene, asked, rng)),
                ("shape", shape_question(scene, other, rng)),
                ("binding", binding_pair(a, b, rng)),
                ("order", order_pair(a, b, PHRASES[rel], rng)),
            ]
            for variant, q in items:
                yield self.make_sample(q, i, scene, variant, relation=rel)
