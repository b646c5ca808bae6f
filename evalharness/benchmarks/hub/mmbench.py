"""mmbench: MMBench (dev, English), single-answer questions over 20 abilities, with CircularEval.

Reads the `lmms-lab/MMBench` schema (config "en", split "dev"): `index`, `question`, `hint`,
`A` to `D` (absent options empty), `answer` (a letter), `category`, `L2-category`, `source`,
`split` and an embedded `image`. As in MMBench's own release, each question comes several times
with its options rotated: the copy of question `i` holds `index` i + k·1 000 000, and its
`answer` follows its options.

The official number (VLMEvalKit's `mcq_circular_eval`, exact matching) is CircularEval: a
question counts only if every copy of it is answered right. `vanilla` is the plain single pass
over the first copies, `all_rows` the accuracy over every copy (each by the headline reading);
`official` and `robust` are the circular accuracy by each reading. Per ability (`category`) and
per ability group (`L2-category`) the circular accuracy, as VLMEvalKit's `report_acc` lists them.
The samples run question by question, and `n` counts questions, each with all its copies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import Row
from evalharness.benchmarks.hub._choice import ChoiceBenchmark, absent
from evalharness.benchmarks.protocols import OFFICIAL, ROBUST
from evalharness.stats import Aggregate
from evalharness.store import META_PREFIX
from evalharness.types import ImageSource, Sample, Scored

ROTATION = 1_000_000
"""Index offset of each rotated copy of a question."""


@dataclass(kw_only=True, eq=False)
class MMBench(ChoiceBenchmark):
    """MMBench (dev, English): multiple choice; CircularEval, single pass, per ability."""

    name = "mmbench"
    description = "MMBench dev (English): 20 abilities, multiple choice; CircularEval accuracy."
    schema = "lmms-lab/MMBench"
    columns = ("index", "question", "hint", "A", "B", "answer", "category", "L2-category", "image")
    scoring = "vlmevalkit-circular"

    path: str = "lmms-lab/MMBench"
    split: str = "dev"
    subset: str | None = "en"
    n: int | None = None
    """Use only the first `n` questions, each with every rotated copy of it."""

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        key = int(row["index"])
        options = [row[c] for c in "ABCD" if c in row and not absent(row[c])]
        return self.choice_sample(
            key,
            image,
            str(row["question"]),
            options,
            row["answer"],
            hint=row.get("hint"),
            category=str(row["category"]),
            group=key % ROTATION,  # every copy of a question moves together
            question_index=key % ROTATION,
            first=key < ROTATION,
            l2_category=str(row["L2-category"]),
            source=row.get("source"),
        )

    def _load(self) -> list[Sample]:
        # copies follow their question, so a run capped by `limit` holds whole questions, and
        # `n` counts questions (all their copies), wherever the copies sit in the file
        n, self.n = self.n, None
        try:
            rows = super()._load()
        finally:
            self.n = n
        ordered = sorted(rows, key=lambda s: (int(s.group), int(s.id)))
        if n is None:
            return ordered
        kept = set(list(dict.fromkeys(s.group for s in ordered))[:n])
        return [s for s in ordered if s.group in kept]

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        scored = super().score(answered)
        questions: dict[str, list[int]] = {}
        for i, a in enumerate(answered):
            questions.setdefault(a.sample.group, []).append(i)
        out = []
        for a, s in zip(answered, scored, strict=True):
            first = float(bool(a.sample.metadata["first"]))
            copies = questions[a.sample.group]
            # the question's first copy carries whether every copy is right (by the headline
            # reading, and by each protocol's), so the circular accuracy is a ratio of column
            # sums like every other aggregate
            extra = {"first": first, "first_right": first * s.score}
            for column, key in (("circular_right", "score"), *_PROTOCOLS):
                every = all(_value(scored[j], key) == 1.0 for j in copies)
                extra[column] = first * float(every)
            out.append(Scored(s.extracted, s.score, {**s.metrics, **extra}))
        return out

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        circular = Aggregate.ratio("circular_right", "first", "score", bounded=True)
        aggs = [
            circular,
            Aggregate.ratio("first_right", "first", "vanilla", bounded=True),
            Aggregate.mean("score", "all_rows", bounded=True),
        ]
        for column, prefix in (("category", "score"), (META_PREFIX + "l2_category", "l2")):
            values = sorted({_field(s, column) for s in samples})
            aggs += [
                dataclasses.replace(circular, name=f"{prefix}[{v}]", where=(column, v))
                for v in values
            ]
        return aggs

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        """Each protocol's number is its circular accuracy."""
        return [
            Aggregate.ratio(column, "first", protocol, bounded=True)
            for column, protocol in _PROTOCOLS
        ]


_PROTOCOLS = (("circular_official", OFFICIAL), ("circular_robust", ROBUST))
"""Per protocol: the column holding its circular hit, and the metric holding its reading."""


def _value(scored: Scored, key: str) -> float:
    return scored.score if key == "score" else float(scored.metrics[key])


def _field(sample: Sample, column: str) -> str:
    return sample.category if column == "category" else str(sample.metadata["l2_category"])
