"""mme: MME, two yes/no questions per image over 14 subtasks (10 perception, 4 cognition).

Reads the `lmms-lab/MME` schema: `question_id` (the image, e.g. "code_reasoning/0020.png"),
`question` (ending "Please answer yes or no."), `answer` ("Yes"/"No"), `category` (the subtask)
and an embedded `image`. The question is asked as it stands, as the official evaluation does.

Scoring is the official `calculation.py`: a reply is "yes" or "no" when it is exactly that, else
when its first four characters (lower-cased) hold "yes" (else "no"); anything else is "other",
which is wrong. Per subtask, acc is the share of questions right and acc+ the share of images
with both questions right; the subtask scores 100·(acc + acc+), up to 200. Perception (up to
2000) and cognition (up to 800) are the sums over their subtasks, `total` their sum.

`score`, the number the board shows, is the total as a share of its maximum over the subtasks
present (total / 2800 on the full set): the normalisation the OpenVLM leaderboard uses
(MME / 28, in percent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import HubBenchmark, Row
from evalharness.benchmarks.hub._load import DatasetSchemaError
from evalharness.stats import Aggregate, FloatArray
from evalharness.types import GenerationSettings, ImageSource, Sample, Scored

PERCEPTION = (
    "existence",
    "count",
    "position",
    "color",
    "posters",
    "celebrity",
    "scene",
    "landmark",
    "artwork",
    "OCR",
)
COGNITION = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")
SUBTASKS = PERCEPTION + COGNITION
_PARTS = ("right", "n", "pair_right", "pairs")
"""Per-subtask columns: questions right, questions, images with both right, images."""


def mme_label(reply: str) -> str:
    """ "yes", "no" or "other", as the official `parse_pred_ans` reads a reply."""
    text = reply.lower()
    if text in ("yes", "no"):
        return text
    head = text[:4]
    if "yes" in head:
        return "yes"
    if "no" in head:
        return "no"
    return "other"


def _subtask_scores(sums: FloatArray) -> FloatArray:
    """100·(acc + acc+) per subtask; the last axis holds each subtask's four `_PARTS` sums."""
    right, n, pair_right, pairs = (sums[..., i::4] for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = 100.0 * (right / n + pair_right / pairs)
    return out


def _total(sums: FloatArray) -> FloatArray:
    out: FloatArray = _subtask_scores(sums).sum(axis=-1)
    return out


def _share(sums: FloatArray) -> FloatArray:
    scores = _subtask_scores(sums)
    out: FloatArray = scores.sum(axis=-1) / (200.0 * scores.shape[-1])
    return out


@dataclass(kw_only=True, eq=False)
class MME(HubBenchmark):
    """MME: yes/no pairs per image; perception and cognition as sums of acc and acc+."""

    name = "mme"
    capability = "perception"
    description = "MME: yes/no question pairs, 14 subtasks; perception /2000, cognition /800."
    generation = GenerationSettings(max_new_tokens=16)
    schema = "lmms-lab/MME"
    columns = ("question_id", "question", "answer", "category", "image")
    scoring = "mme-official"

    path: str = "lmms-lab/MME"
    split: str = "test"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._seen: Counter[str] = Counter()

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        category, image_id = str(row["category"]), str(row["question_id"])
        answer = str(row["answer"]).strip().lower().replace(".", "")
        if category not in SUBTASKS:
            raise DatasetSchemaError(f"mme: row {index} has unknown category {category!r}")
        if answer not in ("yes", "no"):
            raise DatasetSchemaError(f"mme: row {index} answer {row['answer']!r} is not yes/no")
        # the hub's question ids name the subtask's folder and the image: "count/0001.png"
        group = image_id if image_id.startswith(f"{category}/") else f"{category}/{image_id}"
        self._seen[group] += 1
        return Sample(
            id=f"{group}#{self._seen[group]}",
            images=(image,),
            prompt=str(row["question"]),
            targets=(answer,),
            answer_space=("yes", "no"),
            category=category,
            group=group,
            metadata={
                "question_id": image_id,
                "part": "perception" if category in PERCEPTION else "cognition",
            },
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        label = mme_label(text)
        right = float(label == sample.target)
        return Scored(None if label == "other" else label, right, {"correct": right})

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        scored = [
            Scored(None, 0.0, {"correct": 0.0})
            if a.prediction.error is not None
            else self.score_one(a)
            for a in answered
        ]
        # the first question of each image carries whether both are right, so acc+ is a
        # ratio of column sums like every other aggregate
        images: dict[str, list[int]] = {}
        for i, a in enumerate(answered):
            images.setdefault(a.sample.group, []).append(i)
        first = {
            members[0]: all(scored[i].score == 1.0 for i in members) for members in images.values()
        }
        out = []
        for i, (a, s) in enumerate(zip(answered, scored, strict=True)):
            metrics = dict(s.metrics)
            for task in SUBTASKS:
                mine = a.sample.category == task
                metrics[f"{task}/right"] = s.score if mine else 0.0
                metrics[f"{task}/n"] = float(mine)
                metrics[f"{task}/pair_right"] = float(mine and first.get(i, False))
                metrics[f"{task}/pairs"] = float(mine and i in first)
            out.append(Scored(s.extracted, s.score, metrics))
        return out

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        present = {s.category for s in samples}

        def columns(tasks: Sequence[str]) -> tuple[str, ...]:
            return tuple(f"{t}/{p}" for t in tasks if t in present for p in _PARTS)

        aggs = [Aggregate("score", columns(SUBTASKS), _share, bounded=True)]
        aggs.append(Aggregate("total", columns(SUBTASKS), _total))
        for part, tasks in (("perception", PERCEPTION), ("cognition", COGNITION)):
            if columns(tasks):
                aggs.append(Aggregate(part, columns(tasks), _total))
        aggs += [Aggregate(f"score[{t}]", columns([t]), _total) for t in SUBTASKS if t in present]
        aggs.append(Aggregate.mean("correct", "accuracy", bounded=True))
        return aggs
