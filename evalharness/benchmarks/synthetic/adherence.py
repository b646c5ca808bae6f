"""synth_adherence: the synth_vqa questions with a format instruction, scored twice.

"How many squares are there? Answer with one number." A reply complies only if the whole reply is
exactly the requested format ("3", not "There are 3."); whether it is right is read leniently, as
the other suites do. The primary score asks for both: right and in the requested format.
`compliance` and `accuracy` are reported apart, so format failures and wrong answers do not hide
each other.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from evalharness import extract
from evalharness.benchmarks.synthetic.questions import TEMPLATES, Question, read_answer
from evalharness.benchmarks.synthetic.scene import Rng, Scene
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.benchmarks.synthetic.vqa import ASK, mixed_scene
from evalharness.stats import Aggregate, by_category
from evalharness.types import GenerationSettings, Sample, Scored

INSTRUCTIONS = {
    "number": "Answer with one number.",
    "yes_no": "Answer yes or no.",
    "word": "Answer with one word.",
    "json": 'Reply in JSON with the key "answer".',
}
QUESTIONS = {"number": ("count",), "yes_no": ("exists", "compare"), "word": ("color", "shape")}
"""Question types each instruction fits; JSON fits all."""
STRICT = {
    "number": re.compile(r"[0-9]+\.?"),
    "yes_no": re.compile(r"(?:yes|no)\.?", re.IGNORECASE),
    "word": re.compile(r"[A-Za-z]+\.?"),
}
"""The whole reply (surrounding white space aside) must match; one final period is allowed."""


def complies(fmt: str, reply: str) -> bool:
    text = reply.strip()
    if fmt != "json":
        return STRICT[fmt].fullmatch(text) is not None
    try:
        obj = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(obj, dict)
        and set(obj) == {"answer"}
        and isinstance(obj["answer"], str | int | float)
    )


def formatted(fmt: str, answer: str) -> str:
    """The exactly compliant reply for a canonical answer."""
    return json.dumps({"answer": answer}) if fmt == "json" else answer


@dataclass(kw_only=True, eq=False)
class AdherenceSuite(SyntheticSuite):
    """Short questions with output-format instructions: compliance apart from correctness."""

    name = "synth_adherence"
    capability = "adherence"
    description = (
        "Format instructions (one number, yes/no, one word, JSON): compliance and accuracy."
    )
    difficulty = "true_count"
    generation = GenerationSettings(max_new_tokens=24)
    templates = (*TEMPLATES.values(), *INSTRUCTIONS.values())
    scoring = "strict_format*lenient_correct"

    min_objects: int = 3
    """Fewest objects in an image."""
    max_objects: int = 7
    """Most objects in an image."""

    def build(self) -> Iterator[Sample]:
        for i in range(self.n):
            rng = self.rng(i)
            scene = mixed_scene(rng, self.spec, self.min_objects, self.max_objects)
            for fmt in INSTRUCTIONS:
                q = self._question(scene, rng, QUESTIONS.get(fmt, tuple(ASK)))
                if q is None:  # e.g. no shape or colour is unique in this scene
                    continue
                meta = {"format": fmt, "question": q.kind, "answer": q.answers[0]}
                yield self.make_sample(self._instructed(q, fmt), i, scene, fmt, **meta)

    def _question(self, scene: Scene, rng: Rng, kinds: Sequence[str]) -> Question | None:
        """A question of one of these types (in random order) that the scene supports."""
        for kind in rng.shuffled(kinds):
            q = ASK[kind](scene, rng, self.max_objects)
            if q is not None:
                return q
        return None

    @staticmethod
    def _instructed(q: Question, fmt: str) -> Question:
        """The question with the instruction; the compliant reply is the only accepted answer,
        and there are no options (format is what is tested)."""
        space = q.answer_space or ()
        return dataclasses.replace(
            q,
            kind=fmt,
            prompt=f"{q.prompt} {INSTRUCTIONS[fmt]}",
            answers=(formatted(fmt, q.answers[0]),),
            answer_space=tuple(formatted(fmt, a) for a in space) or None,
            choices=None,
            target_index=None,
            choice_texts=None,
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        fmt = sample.metadata["format"]
        compliant = float(complies(fmt, text))
        inner = (extract.json_answer(text) if fmt == "json" else None) or text
        got = read_answer(sample.metadata["answer_kind"], inner)
        correct = float(got is not None and got == sample.metadata["answer"])
        return Scored(
            extracted=got,
            score=compliant * correct,
            metrics={"compliant": compliant, "correct": correct},
        )

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        formats = [f for f in INSTRUCTIONS if any(s.category == f for s in samples)]
        return [
            *super().aggregates(samples),
            Aggregate.mean("compliant", "compliance", bounded=True),
            Aggregate.mean("correct", "accuracy", bounded=True),
            *by_category("compliant", "category", formats, "compliance", bounded=True),
        ]
