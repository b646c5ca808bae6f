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

The official reading (tianyi-lab/HallusionBench, utils.py: `evaluate_by_chatgpt`,
`assign_correctness`, `get_eval_all`, `get_eval_pair_all`, `get_eval_fig`) has GPT-4 judge each
reply correct, incorrect or uncertain. With a judge model (`judge=`) the official reading is
that judge's, asked in the script's words with the item's detailed answer (`gt_answer_details`)
and read as the script reads its reply (`metrics.hallusionbench_verdict`); without one the rule
reading stands in for it (an unreadable reply is "uncertain"). Either way the verdict is stored
per sample (`official_verdict`: the script's code, 0 wrong, 1 right, 2 uncertain;
`official_judged`: whether the judge gave it). Its quirks are kept: an uncertain reply to a
visual-supplement question asked without an image counts as right, and such questions are left
out of fAcc.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalharness.benchmarks import protocols
from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import Row, YesNoBenchmark
from evalharness.benchmarks.protocols import OFFICIAL, PREFIX, ROBUST, Official
from evalharness.metrics import (
    HALLUSIONBENCH_VERDICTS,
    hallusionbench_code,
    hallusionbench_judge_prompt,
    hallusionbench_verdict,
)
from evalharness.stats import Aggregate
from evalharness.types import ImageSource, Sample, Scored

if TYPE_CHECKING:
    from evalharness.judge import Ask

QUESTION = ("category", "subcategory", "set_id", "question_id")
FIGURE = ("category", "subcategory", "set_id", "figure_id")


# the judge's question is part of the official reading: a change to it is a new version
_JUDGE = hashlib.sha256(hallusionbench_judge_prompt("", "", "").encode()).hexdigest()[:8]


def _key(sample: Sample, *fields: str) -> str:
    return "_".join(str(sample.metadata[f]) for f in fields)


def _no_figure(sample: Sample) -> bool:
    """A visual-supplement question asked without its figure."""
    return str(sample.metadata["category"]) == "VS" and str(sample.metadata["figure_id"]) == "0"


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
        "gt_answer_details",
        "gt_answer",
        "visual_input",
        "image",
    )
    # rows without an image are chosen by `keep` (the `imageless` setting)
    skip_imageless = False
    # lmms-eval asks the question as it is
    template = "{question}"
    scoring = f"hallusionbench-rule;judge-prompt={_JUDGE}"

    official = Official(
        "tianyi-lab/HallusionBench: utils.py (evaluate_by_chatgpt, assign_correctness, "
        "get_eval_all, get_eval_pair_all, get_eval_fig)",
        (
            "GPT-4 judges each reply there: here the run's judge model (`judge=`), asked in the "
            "script's words; without one the rule reading does (unreadable = uncertain)",
            "a judge's reply containing 'incorrect' is wrong, else one containing 'correct' is "
            "right, anything else uncertain",
            "an uncertain reply to a visual-supplement question without an image counts as right",
            "fAcc leaves out the visual-supplement questions without an image",
        ),
        version="2",
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
        # the official judge's reference answer (the model never sees it)
        meta["gt_answer_details"] = str(row["gt_answer_details"] or "")
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
        """The rule reading in the judge's place: no yes/no read is "uncertain"."""
        row = self.score_open(sample, text)
        incorrect, correct, uncertain = HALLUSIONBENCH_VERDICTS
        if row.extracted is None:
            return self._official(sample, uncertain, judged=False)
        return self._official(sample, correct if row.score == 1.0 else incorrect, judged=False)

    def _official(self, sample: Sample, verdict: str, *, judged: bool) -> Scored:
        """The script's correctness of a verdict (`assign_correctness`)."""
        code = hallusionbench_code(verdict)
        correct = float(code == 1 or (code == 2 and _no_figure(sample)))
        metrics = {"correct": correct, "verdict": float(code), "judged": float(judged)}
        return Scored(None, correct, metrics)

    def official_ask(self, answered: Answered, rule: Scored) -> tuple[Ask, str] | None:
        """The script's question to its judge about a reply, and the rule reading's verdict."""
        from evalharness.judge import Ask

        if answered.form != "open" or answered.prediction.error is not None:
            return None
        sample = answered.sample
        # the question as asked (the template is the dataset's question as it is)
        prompt = hallusionbench_judge_prompt(
            sample.prompt, sample.metadata["gt_answer_details"], answered.prediction.text or ""
        )
        ask = Ask(prompt, HALLUSIONBENCH_VERDICTS, "official", reader=hallusionbench_verdict)
        return ask, HALLUSIONBENCH_VERDICTS[int(rule.metrics[PREFIX + "verdict"])]

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        return self.score_judged(answered, [None] * len(answered))

    def score_judged(
        self, answered: Sequence[Answered], verdicts: Sequence[str | None]
    ) -> list[Scored]:
        """Both readings of every reply, the official one the judge's verdict where there is
        one; then qAcc's and fAcc's group columns, which depend on every reply of a group."""
        scored = []
        for a, verdict in zip(answered, verdicts, strict=True):
            robust = self.score_one(a)
            if verdict is None or a.prediction.error is not None:
                scored.append(self.read_both(a, robust))
            else:
                official = self._official(a.sample, verdict, judged=True)
                scored.append(protocols.both(robust, official, self.headline))
        # The first item of each question (figure) group carries whether the whole group is
        # right, so qAcc and fAcc are ratios of column sums like every other aggregate; each
        # reading gets its own columns (the official ones prefixed).
        extra: list[dict[str, float]] = [{} for _ in answered]
        for reading, prefix in ((ROBUST, ""), (OFFICIAL, PREFIX)):
            right = [s.metrics.get(reading, s.score) == 1.0 for s in scored]
            for kind, fields in (("q", QUESTION), ("f", FIGURE)):
                groups: dict[str, list[int]] = {}
                for i, a in enumerate(answered):
                    if kind == "f" and _no_figure(a.sample):
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
