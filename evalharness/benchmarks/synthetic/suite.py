"""What the synthetic suites share: knobs as dataclass fields, the version, seeding, sample ids and
exact-match scoring of open answers in both the open and the option form.

A suite is a keyword-only dataclass: its fields are its knobs, every field goes into `version`, so
changing any knob (or a prompt template, or the scoring) gives a new version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from evalharness.benchmarks.base import (
    Answered,
    BaseBenchmark,
    BenchmarkSettingError,
    score_choice,
    version_string,
)
from evalharness.benchmarks.synthetic.questions import TEMPLATES, AnswerKind, Question, read_answer
from evalharness.benchmarks.synthetic.render import RENDERER_VERSION, scene_image
from evalharness.benchmarks.synthetic.scene import (
    SCENE_VERSION,
    PlacementError,
    Rng,
    Scene,
    SceneSpec,
)
from evalharness.errors import quoted
from evalharness.types import Sample, Scored


@dataclass(kw_only=True, eq=False)
class SyntheticSuite(BaseBenchmark):
    """Base of the procedural suites. `n` counts images; an image may carry several questions."""

    n: int = 200
    """Images to generate; each may carry several questions."""
    seed: int = 0
    """Seed of the generator: another seed gives other images (and another data hash)."""
    image_size: int = 224
    """Side of the square images, in pixels."""
    clutter: float = 0.0
    """Gray noise lines and dots behind the objects: 0 (none) to 1 (busy)."""
    overlap: float = 0.0
    """How far objects may overlap, as a share of the sum of their radii (0 = never touch)."""

    base_version: ClassVar[str] = "1"
    """Bump by hand when the generator or scoring code changes behaviour."""
    templates: ClassVar[tuple[str, ...]] = tuple(TEMPLATES.values())
    scoring: ClassVar[str] = "exact"

    def __post_init__(self) -> None:
        self._check_types()
        self.require(self.n >= 0, "n", "n counts images: 0 or more")
        self.require(self.image_size >= 64, "image_size", "image_size is at least 64 px")
        self.require(0 <= self.clutter <= 1, "clutter", "clutter goes from 0 (none) to 1 (busy)")
        self.require(0 <= self.overlap < 1, "overlap", "overlap is at least 0 and below 1")
        self.spec = SceneSpec(self.image_size, self.clutter, self.overlap)
        params = {
            "suite": self.name,
            "scene": SCENE_VERSION,
            "renderer": RENDERER_VERSION,
            **self.knobs(),
        }
        self.version = version_string(self.base_version, params, *self.templates, self.scoring)
        self._samples: list[Sample] | None = None

    def _check_types(self) -> None:
        """Each knob has its default's type (a whole number where a float is meant is made one)."""
        for f in dataclasses.fields(self):
            value, default = getattr(self, f.name), f.default
            if isinstance(default, bool):
                ok, kind = isinstance(value, bool), "true or false"
            elif isinstance(default, int):
                ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
            elif isinstance(default, float):
                ok, kind = (
                    isinstance(value, int | float) and not isinstance(value, bool),
                    "a number",
                )
                if ok:
                    setattr(self, f.name, float(value))
            else:
                ok, kind = True, ""
            if not ok:
                raise BenchmarkSettingError(f"{self.name}: {f.name} must be {kind}, got {value!r}.")

    def require(self, ok: bool, knobs: str, rule: str) -> None:
        """Refuse the knobs (names, space-separated) when `ok` is false, saying the `rule`."""
        if not ok:
            given = ", ".join(f"{k}={getattr(self, k)!r}" for k in knobs.split())
            raise BenchmarkSettingError(f"{self.name}: {rule} (given {given}).")

    def knobs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    # --- generation ------------------------------------------------------------------------

    def build(self) -> Iterator[Sample]:
        raise NotImplementedError

    def samples(self) -> list[Sample]:
        if self._samples is None:
            try:
                self._samples = list(self.build())
            except PlacementError as exc:
                raise BenchmarkSettingError(
                    f"{self.name}: {quoted(exc)}. The knobs ask for more objects than the image holds: "
                    "lower the object counts, or raise image_size or overlap."
                ) from exc
            ids = [s.id for s in self._samples]
            assert len(set(ids)) == len(ids), f"{self.name}: duplicate sample ids"
        return self._samples

    def rng(self, index: int, stream: str = "scene") -> Rng:
        """Randomness for one image, independent of every other image and of generation order."""
        return Rng(self.name, self.seed, index, stream)

    def image_id(self, index: int) -> str:
        return f"{self.name}-{index:05d}"

    def make_sample(
        self,
        q: Question,
        index: int,
        scene: Scene,
        variant: str = "",
        **meta: Any,
    ) -> Sample:
        """A sample asking `q` about image `index`; `variant` tells apart questions on one image."""
        image_id = self.image_id(index)
        return Sample(
            id=f"{image_id}-{variant}" if variant else image_id,
            images=(scene_image(scene),),
            prompt=q.prompt,
            targets=q.answers,
            choices=q.choices,
            target_index=q.target_index,
            choice_texts=q.choice_texts,
            answer_space=q.answer_space,
            category=q.kind,
            group=image_id,
            metadata={
                "scene": scene.graph,
                "answer_kind": q.answer_kind,
                "n_objects": len(scene.objects),
                **q.meta,
                **meta,
            },
        )

    # --- scoring ---------------------------------------------------------------------------

    def read(self, sample: Sample, text: str) -> str | None:
        """The canonical answer in a reply, read according to the sample's answer kind."""
        kind: AnswerKind = sample.metadata["answer_kind"]
        return read_answer(kind, text, sample.choices or ())

    def score_open(self, sample: Sample, text: str) -> Scored:
        got = self.read(sample, text)
        correct = float(got is not None and got == sample.targets[0])
        return Scored(
            extracted=got,
            score=correct,
            metrics={"correct": correct, **self.more_metrics(sample, got)},
        )

    def more_metrics(self, sample: Sample, extracted: str | None) -> dict[str, float]:
        """Per-sample metrics beyond `correct`, for the suite's aggregates."""
        return {}

    def score_one(self, a: Answered) -> Scored:
        # an option picked for a question that also has an open answer is scored as that answer,
        # so both forms give the same metric columns (count error, confusion counts, …)
        if a.form == "choice" and a.sample.targets and a.prediction.error is None:
            picked = score_choice(a.sample, a.prediction).extracted
            return self.score_open(a.sample, picked or "")
        return super().score_one(a)
