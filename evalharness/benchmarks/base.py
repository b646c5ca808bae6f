"""The benchmark protocol and a base class that does the parts every benchmark shares.

A benchmark names itself and its version, yields samples, and turns raw predictions into scored
rows. Scoring is separate from prediction so stored raw outputs can be re-scored at any time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from evalharness import extract
from evalharness.benchmarks import protocols
from evalharness.benchmarks.protocols import Official
from evalharness.errors import EvalharnessError
from evalharness.stats import Aggregate, by_category
from evalharness.types import Form, GenerationSettings, Prediction, Sample, Scored


@dataclass(frozen=True)
class Answered:
    """A sample with the model's prediction and the form in which its answer is read."""

    sample: Sample
    prediction: Prediction
    form: Form


class BenchmarkSettingError(EvalharnessError, ValueError):
    """A benchmark knob has an invalid value; the message names it and the valid values."""


@runtime_checkable
class Benchmark(Protocol):
    name: str
    version: str
    capability: str
    """Capability group on the board: vqa, captioning, counting, spatial, binding, hallucination, …"""
    description: str
    generation: GenerationSettings

    def samples(self) -> Sequence[Sample]: ...

    def score(self, answered: Sequence[Answered]) -> list[Scored]: ...

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]: ...


def version_string(base: str, params: dict[str, Any], *parts: str) -> str:
    """`base` (bumped by hand when code changes) plus a hash of the parameters, the templates and
    the answer extraction's version (`extract.VERSION`).

    Any changed knob, prompt, scoring setting or extraction rule gives a new version, so results
    of different versions are never averaged together.
    """
    blob = json.dumps([params, parts, extract.VERSION], sort_keys=True, default=str).encode()
    return f"{base}+{hashlib.sha256(blob).hexdigest()[:8]}"


class BaseBenchmark:
    """Shared behaviour: choice-form scoring, default aggregates (mean score, by category).

    Subclasses set `name`, `capability`, `description`, `generation` and `version`, implement
    `samples()` and `score_open()`, and may extend `aggregates()`. One whose items carry a
    numeric metadata field that grades their difficulty (a true count, a level) names it in
    `difficulty`: the leaderboard then plots each model's score against it.

    A benchmark whose official script reads answers otherwise sets `official` and implements
    `official_open()` (and `official_aggregates()` for numbers beyond the mean): every answer is
    then read both ways (`evalharness.benchmarks.protocols`), and its `protocol` setting, where
    it has one, picks the headline reading.
    """

    name: str = ""
    capability: str = ""
    description: str = ""
    difficulty: ClassVar[str] = ""
    """The metadata field that grades an item's difficulty (numbers, 2 to 40 distinct values),
    or "" for none. Each run stores its column (`difficulty_column`) for the leaderboard."""
    generation: GenerationSettings = GenerationSettings()
    version: str = "0"
    official: ClassVar[Official | None] = None
    """The official script's scoring, where it differs from ours (None: ours only)."""

    def samples(self) -> Sequence[Sample]:
        raise NotImplementedError

    def score_open(self, sample: Sample, text: str) -> Scored:
        """Score a free-text answer to an open question."""
        raise NotImplementedError

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        return [self.read_both(a, self.score_one(a)) for a in answered]

    @property
    def headline(self) -> str:
        """The protocol whose reading is the score: the `protocol` setting, else the default."""
        return protocols.headline(self.name, getattr(self, "protocol", ""), self.official)

    def read_both(self, a: Answered, robust: Scored) -> Scored:
        """`robust` with the official reading beside it, where the benchmark has one. The official
        reading sees the raw reply; an answer picked among options goes to `official_choice`. A
        failed prediction is no reply at all, so it is read as ours reads it, wrong in every
        column: read as an empty reply, some scripts would credit it (POPE reads "" as yes)."""
        if self.official is None:
            return robust
        if a.prediction.error is not None:
            official = robust
        elif a.form == "choice":
            official = self.official_choice(a, robust)
        else:
            official = self.official_reply(a)
        return protocols.both(robust, official, self.headline)

    def official_reply(self, a: Answered) -> Scored:
        """An open answer as the official script reads it: by default its reply's text
        (`official_open`); a script that reads more of the prediction (first-token
        probabilities) overrides this."""
        return self.official_open(a.sample, a.prediction.text or "")

    def official_open(self, sample: Sample, text: str) -> Scored:
        """Score a free-text reply as the official script does (benchmarks with `official`)."""
        raise NotImplementedError

    def official_choice(self, a: Answered, robust: Scored) -> Scored:
        """An option answer as the official script reads it; by default as we read it."""
        return robust

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        """The official reading's numbers beyond its mean ("official"), over its `official_*`
        columns; an aggregate named "official" here replaces that mean."""
        return []

    def score_one(self, a: Answered) -> Scored:
        p = a.prediction
        if p.error is not None:
            return Scored(extracted=None, score=0.0, metrics={"correct": 0.0})
        if a.form == "choice":
            return score_choice(a.sample, p)
        return self.score_open(a.sample, p.text or "")

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        """The mean score, and per category where there are several. The score is taken to lie
        in [0, 1] (`Aggregate.bounded`); a benchmark scoring on another scale overrides this."""
        cats = sorted({s.category for s in samples if s.category})
        aggs = [Aggregate.mean("score", bounded=True)]
        if len(cats) > 1:
            aggs += by_category("score", "category", cats, "score", bounded=True)
        return aggs


def score_choice(sample: Sample, prediction: Prediction) -> Scored:
    """Score an option item from per-option scores (argmax) or from a letter/option in the text."""
    assert sample.choices is not None
    idx: int | None
    if prediction.choice_scores is not None:
        scores = prediction.choice_scores
        idx = max(range(len(scores)), key=lambda i: scores[i]) if scores else None
    else:
        idx = extract.choice(prediction.text or "", list(sample.choices))
    correct = float(idx is not None and idx == sample.target_index)
    return Scored(
        extracted=None if idx is None else sample.choices[idx],
        score=correct,
        metrics={"correct": correct},
    )
