"""synth_caption: describe the image; references written from the scene graph.

Open form: ROUGE-L (primary: bounded, so scores share the [0, 1] scale of every other suite and a
reference caption scores 1), CIDEr, BLEU-4 and METEOR per image, from one pycocoevalcap pass over
the whole run (CIDEr's n-gram weights depend on every image), plus CHAIR-style hallucination:
shapes, colours and colour-shape pairs a caption names that the image lacks. The aggregates are
the corpus values the COCO toolkit reports: means of the per-image ROUGE-L and CIDEr, and BLEU-4
and METEOR from each image's statistics pooled over the run.

Option form (image-text matching models): pick the true caption among four, where the three
foils change one colour, one shape, one count or swap two colours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from evalharness.benchmarks.base import Answered, BaseBenchmark
from evalharness.benchmarks.synthetic.questions import Question, article, number_word, quantity
from evalharness.benchmarks.synthetic.scene import (
    COLORS,
    SHAPES,
    Obj,
    Rng,
    distinct_kinds,
    make_scene,
    random_size,
)
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.metrics import (
    CAPTION_METRICS,
    caption_corpus_aggregates,
    chair,
    chair_aggregates,
    colour_shape_vocabulary,
    object_vocabulary,
    score_captions,
)
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, Sample, Scored

PROMPT = "Describe the image in one sentence."
REFERENCES = (
    "{grouped}.",
    "{total} on a white background: {grouped}.",
    "an image showing {grouped}.",
    "a white background with {by_size}.",
    "{layout}.",
)
"""Reference caption templates, filled from the scene graph."""

Pair = tuple[str, str]
"""(colour, shape)."""

# CHAIR vocabularies: shapes, colours, and colour-shape pairs (which catch wrong binding)
VOCABULARIES = {
    "shape": object_vocabulary(),
    "color": object_vocabulary({c: () for c in COLORS}),
    "object": colour_shape_vocabulary(COLORS),
}
CHAIR_COLUMNS = ("mentioned", "hallucinated", "present", "covered", "chair_s")
EMPTY = Scored(extracted=None, score=0.0)


def listing(phrases: Sequence[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def grouped(pairs: Sequence[Pair]) -> str:
    """'two red circles and a blue square', in order of first appearance."""
    counts = Counter(pairs)
    return listing([quantity(n, f"{c} {s}", article) for (c, s), n in counts.items()])


def references(objects: Sequence[Obj]) -> tuple[str, ...]:
    by_x = sorted(objects, key=lambda o: (o.cx, o.cy))
    pairs = [(o.color, o.shape) for o in by_x]
    by_size = sorted(by_x, key=lambda o: o.size != "large")
    total = f"{number_word(len(objects))} shape{'s' if len(objects) > 1 else ''}"
    if len(by_x) == 1:
        layout = f"{article(by_x[0].name)} on a white background"
    else:
        layout = f"{article(by_x[0].name)} on the left and {article(by_x[-1].name)} on the right"
        if len(by_x) > 2:
            layout += f", with {grouped(pairs[1:-1])} between them"
    fields = {
        "grouped": grouped(pairs),
        "total": total,
        "by_size": listing([article(f"{o.size} {o.name}") for o in by_size]),
        "layout": layout,
    }
    return tuple(t.format(**fields) for t in REFERENCES)


def _unused(pool: Sequence[str], used: Sequence[str], current: str) -> list[str]:
    """Values absent from the image, or if every one is present, at least not the current one."""
    return [v for v in pool if v not in used] or [v for v in pool if v != current]


def foil_pairs(pairs: list[Pair], rng: Rng) -> list[list[Pair]]:
    """Object lists one change away from the truth: a colour, a shape, a count, or a colour swap."""
    k = rng.below(len(pairs))
    color, shape = pairs[k]
    new_color = rng.choice(_unused(COLORS, [c for c, _ in pairs], color))
    new_shape = rng.choice(_unused(SHAPES, [s for _, s in pairs], shape))
    without_k = [p for i, p in enumerate(pairs) if i != k]
    out = [
        [*pairs[:k], (new_color, shape), *pairs[k + 1 :]],
        [*pairs[:k], (color, new_shape), *pairs[k + 1 :]],
        [*pairs, pairs[k]] if len(pairs) < 3 or rng.chance(0.5) else without_k,
    ]
    swaps = [
        (i, j)
        for i, a in enumerate(pairs)
        for j, b in enumerate(pairs[:i])
        if a[0] != b[0] and a[1] != b[1]
    ]
    if swaps:
        i, j = rng.choice(swaps)
        swapped = list(pairs)
        swapped[i], swapped[j] = (pairs[j][0], pairs[i][1]), (pairs[i][0], pairs[j][1])
        out.append(swapped)
    return out


@dataclass(kw_only=True, eq=False)
class CaptionSuite(SyntheticSuite):
    """One-sentence captions against scene-graph references; or the true caption among four."""

    name = "synth_caption"
    capability = "captioning"
    description = (
        "Caption simple scenes: CIDEr, BLEU-4, ROUGE-L, METEOR, CHAIR; or pick the true caption."
    )
    generation = GenerationSettings(max_new_tokens=48)
    templates = (PROMPT, *REFERENCES)
    scoring = "coco-caption+chair;primary=rouge-l;corpus-bleu-meteor"

    min_objects: int = 1
    """Fewest objects in an image."""
    max_objects: int = 5
    """Most objects in an image."""
    meteor: bool = True
    """Score METEOR too. It runs in a Java process that loads paraphrase tables: seconds to start,
    once per process (later scorings reuse it)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rule = "need 1 <= min_objects <= max_objects"
        self.require(1 <= self.min_objects <= self.max_objects, "min_objects max_objects", rule)

    def build(self) -> Iterator[Sample]:
        for i in range(self.n):
            rng = self.rng(i)
            k = rng.integer(self.min_objects, self.max_objects)
            kinds = distinct_kinds(rng, rng.integer(1, k), self.spec)
            kinds += [
                (*rng.choice(kinds)[:2], random_size(rng, self.spec)) for _ in range(k - len(kinds))
            ]
            scene = make_scene(rng, kinds, self.spec)
            refs = references(scene.objects)
            truth = [(o.color, o.shape) for o in sorted(scene.objects, key=lambda o: (o.cx, o.cy))]
            foils = [
                grouped(f)
                for f in rng.shuffled(foil_pairs(truth, rng))
                if Counter(f) != Counter(truth)
            ]
            options = rng.shuffled([grouped(truth), *list(dict.fromkeys(foils))[:3]])
            q = Question(
                kind="caption",
                prompt=PROMPT,
                answers=refs,
                answer_kind="option",
                choices=tuple(options),
                target_index=options.index(grouped(truth)),
            )
            yield self.make_sample(q, i, scene)

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        # options are scored one by one (picked right or not); open captions all together below
        scored = [
            BaseBenchmark.score_one(self, a) if a.form == "choice" else EMPTY for a in answered
        ]
        open_rows = [k for k, a in enumerate(answered) if a.form == "open"]
        if not open_rows:
            return scored
        # a failed prediction is scored as an empty caption: 0, not missing, and every image's
        # references weigh in CIDEr's n-gram weights whichever predictions failed
        captions = {answered[k].sample.id: answered[k].prediction.text or "" for k in open_rows}
        refs = {answered[k].sample.id: list(answered[k].sample.targets) for k in open_rows}
        scores = score_captions(captions, refs, metrics=self._metrics())
        for k in open_rows:
            sample = answered[k].sample
            values = {**scores.per_image[sample.id], **scores.stats[sample.id]}
            if answered[k].prediction.error is None:  # no caption, no hallucination rate
                values.update(hallucination(captions[sample.id], sample))
            scored[k] = Scored(
                extracted=captions[sample.id], score=values["ROUGE-L"], metrics=values
            )
        return scored

    def _metrics(self) -> list[str]:
        return [m for m in CAPTION_METRICS if self.meteor or m != "METEOR"]

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            Aggregate.mean("score", bounded=True),  # ROUGE-L
            Aggregate.mean("CIDEr"),
            Aggregate.mean("ROUGE-L", bounded=True),
            *caption_corpus_aggregates(self.meteor),
            *[
                agg
                for v in VOCABULARIES
                for agg in chair_aggregates(f"{v}_", column_prefix=f"{v}_")
            ],
            Aggregate.mean("correct", "choice_accuracy", bounded=True),
        ]


def hallucination(caption: str, sample: Sample) -> dict[str, float]:
    """CHAIR counts of the caption, for shapes, colours and colour-shape pairs."""
    objects = sample.metadata["scene"]["objects"]
    present = {
        "shape": {o["shape"] for o in objects},
        "color": {o["color"] for o in objects},
        "object": {f"{o['color']} {o['shape']}" for o in objects},
    }
    out: dict[str, float] = {}
    for v, vocabulary in VOCABULARIES.items():
        counts = chair(caption, present[v], vocabulary)
        out.update({f"{v}_{c}": counts[c] for c in CHAIR_COLUMNS})
    return out
