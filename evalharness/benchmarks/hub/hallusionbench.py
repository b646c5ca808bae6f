"""hallusionbench: HallusionBench's yes/no questions on images (language hallucination and
visual illusion), scored by rule (the official scorer asks GPT-4 instead).

Reads the `lmms-lab/HallusionBench` schema: `category` (VD visual dependent, VS visual
supplement), `subcategory`, `set_id`, `figure_id`, `question_id`, `question`, `gt_answer`
("1" yes, "0" no), `visual_input` ("0" when the question comes without an image) and `image`.
Questions without an image are skipped unless `imageless` is set; then they are asked without
one, as the benchmark's own evaluation counts them.

Aggregates, as the benchmark defines them: aAcc (all questions), qAcc (a question counts only if
it is answered right on every figure it is asked about, and without a figure where it is asked
so), fAcc (a figure counts only if every question about it is answered right).

The official reading (tianyi-lab/HallusionBench, utils.py: `assign_correctness`,
`get_eval_all`, `get_eval_pair_all`, `get_eval_fig`) has GPT-4 judge each reply right, wrong or
uncertain; here the rule reading stands in for the judge (an unreadable reply is "uncertain").
Its quirks are kept: an uncertain reply to a visual-supplement question asked without an image
counts as right, and such questions are left out of fAcc.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import Row, YesNoBenchmark
from evalharness.benchmarks.protocols import OFFICIAL, PREFIX, ROBUST, Official
from evalharness.stats import Aggregate
from evalharness.types import ImageSource, Sample, Scored

QUESTION = ("category", "subcategory", "set_id", "question_id")
FIGURE = ("category", "subcategory", "set_id", "figure_id")


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
    # rows without an image are chosen by `keep` (the `imageless` setting)
    skip_imageless = False
    # lmms-eval asks the question as it is
    template = "{question}"
    scoring = "hallusionbench-rule"

    official = Official(
        "tianyi-lab/HallusionBench: utils.py (assign_correctness, get_eval_all, "
        "get_eval_pair_all, get_eval_fig)",
        (
            "GPT-4 judges each reply there; here the rule reading does (unreadable = uncertain)",
            "an uncertain reply to a visual-supplement question without an image counts as right",
            "fAcc leaves out the visual-supplement questions without an image",
        ),
    )

    path: str = "lmms-lab/HallusionBench"
    split: str = "image"
    imageless: bool = False
    """Also ask the questions that come without an image (visual_input 0), as the benchmark's
    own aAcc and qAcc count them; a copy that keeps them in another split needs both files
    (`data_files`)."""

    def keep(self, row: Row) -> bool:
        return self.imageless or str(row["visual_input"]) != "0"

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
            images=() if meta["visual_input"] == "0" else (image,),
            prompt=self.prompt(question=row["question"]),
            targets=("yes" if str(row["gt_answer"]).strip() == "1" else "no",),
            answer_space=self.labels,
            category=meta["category"],
            # a set's figures and questions move together in the bootstrap
            group="_".join(meta[f] for f in ("category", "subcategory", "set_id")),
            metadata=meta,
        )

    def official_open(self, sample: Sample, text: str) -> Scored:
        row = self.score_open(sample, text)
        meta = sample.metadata
        unsure_without_figure = (
            row.extracted is None and meta["category"] == "VS" and meta["figure_id"] == "0"
        )
        correct = 1.0 if unsure_without_figure else row.score
        return Scored(row.extracted, correct, {"correct": correct})

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        scored = super().score(answered)
        # The first item of each question (figure) group carries whether the whole group is
        # right, so qAcc and fAcc are ratios of column sums like every other aggregate; each
        # reading gets its own columns (the official ones prefixed).
        extra: list[dict[str, float]] = [{} for _ in answered]
        for reading, prefix in ((ROBUST, ""), (OFFICIAL, PREFIX)):
            right = [s.metrics.get(reading, s.score) == 1.0 for s in scored]
            for kind, fields in (("q", QUESTION), ("f", FIGURE)):
                groups: dict[str, list[int]] = {}
                for i, a in enumerate(answered):
                    meta = a.sample.metadata
                    if kind == "f" and meta["category"] == "VS" and meta["figure_id"] == "0":
                        continue  # no figure: not in fAcc
                    groups.setdefault(_key(a.sample, *fields), []).append(i)
                for members in groups.values():
                    whole = all(right[i] for i in members)
                    for i in members:
                        extra[i][f"{prefix}{kind}_first"] = float(i == members[0])
                        extra[i][f"{prefix}{kind}_right"] = float(i == members[0] and whole)
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

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            Aggregate.ratio(PREFIX + "q_right", PREFIX + "q_first", "official/qAcc", bounded=True),
            Aggregate.ratio(PREFIX + "f_right", PREFIX + "f_first", "official/fAcc", bounded=True),
        ]
