"""hallusionbench: HallusionBench's yes/no questions on images (language hallucination and
visual illusion), scored by rule (the official scorer asks GPT-4 instead).

Reads the `lmms-lab/HallusionBench` schema: `category` (VD visual dependent, VS visual
supplement), `subcategory`, `set_id`, `figure_id`, `question_id`, `question`, `gt_answer`
("1" yes, "0" no), `visual_input` ("0" when the question comes without an image) and `image`.
Questions without an image are skipped: this harness evaluates image questions.

Aggregates, as the benchmark defines them: aAcc (all questions), qAcc (a question counts only if
it is answered right on every figure it is asked about), fAcc (a figure counts only if every
question about it is answered right). Without the imageless variants, qAcc here is over the
image versions of each question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import Row, YesNoBenchmark
from evalharness.stats import Aggregate
from evalharness.types import ImageSource, Sample, Scored


def _key(sample: Sample, *fields: str) -> str:
    return "_".join(str(sample.metadata[f]) for f in fields)


@dataclass(kw_only=True, eq=False)
class HallusionBench(YesNoBenchmark):
    """HallusionBench (image questions): yes/no; aAcc, qAcc (per question), fAcc (per figure)."""

    name = "hallusionbench"
    capability = "hallucination"
    description = "HallusionBench image questions: yes/no; all-, question- and figure-accuracy."
    schema = "lmms-lab/HallusionBench"
    columns = (
        "category",
        "subcategory",
        "set_id",
        "figure_id",
        "question_id",
        "question",
        "gt_answer",
        "visual_input",
        "image",
    )
    skip_imageless = True
    # lmms-eval asks the question as it is
    template = "{question}"
    scoring = "hallusionbench-rule"

    path: str = "lmms-lab/HallusionBench"
    split: str = "image"

    def keep(self, row: Row) -> bool:
        return str(row["visual_input"]) != "0"

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        meta = {
            f: str(row[f])
            for f in (
                "category",
                "subcategory",
                "set_id",
                "figure_id",
                "question_id",
                "visual_input",
            )
        }
        return Sample(
            id="_".join(
                meta[f] for f in ("category", "subcategory", "set_id", "figure_id", "question_id")
            ),
            images=(image,),
            prompt=self.prompt(question=row["question"]),
            targets=("yes" if str(row["gt_answer"]).strip() == "1" else "no",),
            answer_space=self.labels,
            category=meta["category"],
            # a set's figures and questions move together in the bootstrap
            group="_".join(meta[f] for f in ("category", "subcategory", "set_id")),
            metadata=meta,
        )

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        scored = super().score(answered)
        # The first item of each question (figure) group carries whether the whole group is
        # right, so qAcc and fAcc are ratios of column sums like every other aggregate.
        extra: list[dict[str, float]] = [{} for _ in answered]
        for kind, fields in (("q", ("question_id",)), ("f", ("figure_id",))):
            groups: dict[str, list[int]] = {}
            for i, a in enumerate(answered):
                key = _key(a.sample, "category", "subcategory", "set_id", *fields)
                groups.setdefault(key, []).append(i)
            for members in groups.values():
                right = all(scored[i].score == 1.0 for i in members)
                for i in members:
                    extra[i][f"{kind}_first"] = float(i == members[0])
                    extra[i][f"{kind}_right"] = float(i == members[0] and right)
        return [
            Scored(s.extracted, s.score, {**s.metrics, **e})
            for s, e in zip(scored, extra, strict=True)
        ]

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            *super().aggregates(samples),
            Aggregate.ratio("q_right", "q_first", "qAcc", bounded=True),
            Aggregate.ratio("f_right", "f_first", "fAcc", bounded=True),
            Aggregate.mean("pred_yes", "yes_ratio", bounded=True),
        ]
