"""docvqa: DocVQA validation, questions about scanned documents; ANLS.

Reads the `lmms-lab/DocVQA` schema (config "DocVQA"): `questionId`, `question`,
`question_types` (a list: "handwritten", "layout", "table/list", …), `docId`,
`ucsf_document_id`, `ucsf_document_page_no`, `answers` (a list) and an embedded `image`. The
prompt is lmms-eval's: the question, then "Answer the question using a single word or phrase."

Scoring is ANLS (`metrics.anls`): the normalised Levenshtein similarity of the reply to its
closest answer, 0 below the 0.5 threshold, averaged over questions; per question type too
(a question counts in each of its types).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.hub._base import SHORT_ANSWER, HubBenchmark, Row
from evalharness.benchmarks.protocols import Official
from evalharness.metrics import anls, docvqa_anls
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored


def _slug(kind: str) -> str:
    return kind.strip().replace("/", "_").replace(" ", "_")


@dataclass(kw_only=True, eq=False)
class DocVQA(HubBenchmark):
    """DocVQA (validation): questions about document images; ANLS."""

    name = "docvqa"
    capability = "documents"
    description = "DocVQA val: questions about scanned documents; ANLS."
    generation = GenerationSettings(max_new_tokens=32)
    schema = "lmms-lab/DocVQA"
    columns = ("questionId", "question", "question_types", "docId", "answers", "image")
    template = SHORT_ANSWER
    scoring = "anls"

    official = Official(
        "QwenLM/Qwen-VL: eval_mm/infographicsvqa_eval.py (the RRC's DocVQA evaluation script)",
        (
            "a similarity of exactly 0.5 is kept (ours gives 0 there)",
            "the length the distance is divided by is measured on the raw texts, upper-cased, "
            "before stripping, so surrounding spaces raise the similarity",
        ),
    )

    path: str = "lmms-lab/DocVQA"
    subset: str | None = "DocVQA"
    split: str = "validation"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        kinds = [str(k) for k in (row.get("question_types") or [])]
        return Sample(
            id=str(row["questionId"]),
            images=(image,),
            prompt=self.prompt(question=row["question"]),
            targets=tuple(str(a) for a in row["answers"]),
            category=kinds[0] if kinds else "",
            group=str(row["docId"]),
            metadata={"doc_id": row["docId"], "question_types": kinds},
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        value = anls(text.strip(), sample.targets)
        # a question counts in each of its types; rows of other types leave these columns empty
        kinds = {_slug(k) for k in sample.metadata["question_types"]}
        per_type = {c: v for k in kinds for c, v in ((f"anls/{k}", value), (f"type/{k}", 1.0))}
        return Scored(text.strip(), value, {"anls": value, **per_type})

    def official_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=docvqa_anls(text, sample.targets))

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        kinds = sorted({_slug(k) for s in samples for k in s.metadata["question_types"]})
        return [
            Aggregate.mean("score", bounded=True),
            *[Aggregate.ratio(f"anls/{k}", f"type/{k}", f"anls[{k}]", bounded=True) for k in kinds],
        ]
