"""seedbench_img: SEED-Bench's image questions (nine dimensions, 14 k multiple choice).

Reads the `lmms-lab/SEED-Bench` schema (split "test"): `question`, `choice_a` to `choice_d`,
`answer` (a letter), `question_id`, `question_type_id` (the dimension, 1 to 12), `data_type`
("image" or "video"), `data_id` and `image` (a list of images per row; an image question has
one). Video questions are skipped.

`mc_scoring=generate` is VLMEvalKit's protocol (its SEEDBench_IMG: lettered options, exact
matching); `mc_scoring=loglik` is SEED-Bench's own, which ranks the options by their
likelihood after the question. Accuracy overall and per dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalharness.benchmarks.hub._base import Row
from evalharness.benchmarks.hub._choice import ChoiceBenchmark
from evalharness.types import ImageSource, Sample

DIMENSIONS = {
    1: "Scene Understanding",
    2: "Instance Identity",
    3: "Instance Attributes",
    4: "Instance Location",
    5: "Instances Counting",
    6: "Spatial Relation",
    7: "Instance Interaction",
    8: "Visual Reasoning",
    9: "Text Understanding",
}
"""SEED-Bench's image dimensions by `question_type_id` (10 to 12 are video ones)."""


@dataclass(kw_only=True, eq=False)
class SEEDBenchImg(ChoiceBenchmark):
    """SEED-Bench (image part): multiple choice over nine dimensions; accuracy per dimension."""

    name = "seedbench_img"
    description = "SEED-Bench image questions: nine dimensions, multiple choice; accuracy."
    schema = "lmms-lab/SEED-Bench"
    columns = (
        "question",
        "choice_a",
        "choice_b",
        "choice_c",
        "choice_d",
        "answer",
        "question_id",
        "question_type_id",
        "data_type",
        "image",
    )

    path: str = "lmms-lab/SEED-Bench"
    split: str = "test"

    def keep(self, row: Row) -> bool:
        return str(row["data_type"]) == "image"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        kind = int(row["question_type_id"])
        return self.choice_sample(
            row["question_id"],
            image,
            str(row["question"]),
            [row[f"choice_{c}"] for c in "abcd"],
            row["answer"],
            category=DIMENSIONS.get(kind, str(kind)),
            question_id=str(row["question_id"]),
            question_type_id=kind,
            data_id=str(row.get("data_id")),
        )
