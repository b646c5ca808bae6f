"""ai2d: AI2D test, grade-school science diagrams with multiple-choice questions.

Reads the `lmms-lab/ai2d` schema (split "test"): `question`, `options` (a list of strings),
`answer` (the correct option's position as a string, "0" to "3") and an embedded `image`.
The rows carry no ids: an item is named by its row. The model sees VLMEvalKit's prompt
(its AI2D_TEST is this split).
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row
from evalharness.benchmarks.hub._choice import ChoiceBenchmark
from evalharness.types import LETTERS, ImageSource, Sample


def letter_of(position: object, n: int) -> str:
    """The letter of option `position` ("2" → "C"), or the value itself when it is none of the
    `n` options' positions (the sample then records the error)."""
    text = str(position).strip()
    return LETTERS[int(text)] if text.isdigit() and int(text) < n else text


@dataclass(kw_only=True, eq=False)
class AI2D(ChoiceBenchmark):
    """AI2D (test): science diagrams, multiple choice; accuracy."""

    name = "ai2d"
    description = "AI2D test: multiple-choice questions on science diagrams; accuracy."
    schema = "lmms-lab/ai2d"
    columns = ("question", "options", "answer", "image")

    path: str = "lmms-lab/ai2d"
    split: str = "test"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        options = [str(o) for o in row["options"] or []]
        return self.choice_sample(
            f"{index:05d}",
            image,
            str(row["question"]),
            options,
            letter_of(row["answer"], len(options)),
            row=index,
        )
