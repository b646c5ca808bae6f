"""scienceqa_img: ScienceQA test, the questions that come with an image (2 017).

Reads the `lmms-lab/ScienceQA` schema (config "ScienceQA-IMG", split "test"): `question`,
`choices` (a list), `answer` (the correct choice's position, an integer), `hint` (the context,
often empty), `subject` (natural, social or language science), `grade`, `topic`, `category`,
`skill` and an embedded `image`. Rows without an image are skipped (the config holds none).
The model sees VLMEvalKit's prompt (its ScienceQA_TEST), the hint as "Hint: …". Accuracy
overall and per subject, ScienceQA's own breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row
from evalharness.benchmarks.hub._choice import ChoiceBenchmark
from evalharness.benchmarks.hub.ai2d import letter_of
from evalharness.types import ImageSource, Sample


@dataclass(kw_only=True, eq=False)
class ScienceQAImg(ChoiceBenchmark):
    """ScienceQA-IMG (test): science questions with an image and a context; accuracy."""

    name = "scienceqa_img"
    description = "ScienceQA test, image questions: multiple choice with context; accuracy."
    schema = "lmms-lab/ScienceQA"
    columns = ("question", "choices", "answer", "hint", "subject", "image")
    skip_imageless = True

    path: str = "lmms-lab/ScienceQA"
    split: str = "test"
    subset: str | None = "ScienceQA-IMG"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        options = [str(o) for o in row["choices"] or []]
        return self.choice_sample(
            f"{index:05d}",
            image,
            str(row["question"]),
            options,
            letter_of(row["answer"], len(options)),
            hint=row.get("hint"),
            category=str(row["subject"]),
            row=index,
            grade=row.get("grade"),
            topic=row.get("topic"),
            skill=row.get("skill"),
        )
