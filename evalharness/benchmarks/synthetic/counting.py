"""synth_counting: "How many blue triangles are there?" among distractors that share the shape or
the colour, so that counting the shape or the colour alone gives the wrong number."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from evalharness.benchmarks.synthetic.questions import count_question
from evalharness.benchmarks.synthetic.scene import (
    COLORS,
    SHAPES,
    Kind,
    Rng,
    make_scene,
    random_size,
)
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.stats import Aggregate
from evalharness.store import META_PREFIX
from evalharness.types import GenerationSettings, Sample


@dataclass(kw_only=True, eq=False)
class CountingSuite(SyntheticSuite):
    """Count objects of one colour and shape: exact accuracy, mean absolute error, off by one."""

    name = "synth_counting"
    capability = "counting"
    description = "Count coloured shapes among same-shape and same-colour distractors."
    difficulty = "true_count"
    generation = GenerationSettings(max_new_tokens=8)
    scoring = "exact+abs_error+off_by_one"

    min_count: int = 1
    """Fewest objects of the kind asked about."""
    max_count: int = 8
    """Most objects of the kind asked about."""
    distractors: int = 4
    """Up to this many other objects per image: same shape or colour as the target, or neither."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rule = "need 0 <= min_count <= max_count"
        self.require(0 <= self.min_count <= self.max_count, "min_count max_count", rule)
        self.require(self.distractors >= 0, "distractors", "distractors is 0 or more")

    def build(self) -> Iterator[Sample]:
        counts = range(self.min_count, self.max_count + 1)
        for i in range(self.n):
            rng = self.rng(i)
            shape, color = rng.choice(SHAPES), rng.choice(COLORS)
            k = rng.choice(counts)
            kinds = [(shape, color, random_size(rng, self.spec)) for _ in range(k)]
            n_distractors = rng.integer(0, self.distractors)
            kinds += [self._distractor(rng, shape, color) for _ in range(n_distractors)]
            scene = make_scene(rng, rng.shuffled(kinds), self.spec)
            q = count_question(scene, shape, color, counts)
            yield self.make_sample(q, i, scene, distractors=n_distractors)

    def _distractor(self, rng: Rng, shape: str, color: str) -> Kind:
        """Same shape in another colour, same colour in another shape, or neither, equally often."""
        other_shape = rng.choice([s for s in SHAPES if s != shape])
        other_color = rng.choice([c for c in COLORS if c != color])
        d_shape, d_color = rng.choice(
            [(shape, other_color), (other_shape, color), (other_shape, other_color)]
        )
        return d_shape, d_color, random_size(rng, self.spec)

    def more_metrics(self, sample: Sample, extracted: str | None) -> dict[str, float]:
        if extracted is None:  # no number: wrong, but no size of error to average
            return {"abs_error": math.nan, "off_by_one": 0.0}
        err = abs(int(extracted) - int(sample.metadata["true_count"]))
        return {"abs_error": float(err), "off_by_one": float(err == 1)}

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        counts = sorted({int(s.metadata["true_count"]) for s in samples})
        return [
            Aggregate.mean("score", bounded=True),
            Aggregate.mean("abs_error", "mae"),
            Aggregate.mean("off_by_one", "off_by_one_rate", bounded=True),
            *[
                Aggregate.mean(
                    "score", f"accuracy[count={k}]", (META_PREFIX + "true_count", k), bounded=True
                )
                for k in counts
            ],
        ]
