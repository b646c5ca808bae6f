"""Reference models: `oracle` (the target), `prior` (majority answer per question type) and
`random` (uniform over options or valid answers). They are marked as references on the board and
bracket every real model's score: random is the floor, prior the "no image, no question" floor,
oracle a sanity check that scoring works (it must score 1.0).

All answers are functions of (seed, sample id) and, for `prior` and `random`, of what they learnt
from the benchmark's samples, never of batch order, so resumed and uninterrupted runs agree. What
they learnt is part of their identity (`fitted`, a hash): the same benchmark with other samples
(another `n`) is a new run, not one whose stored answers are taken over. Asked how likely the
first token of some words is (`Request.first_token_words`), they are sure of their reply.
"""

from __future__ import annotations

import hashlib
import json
import random as _random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from evalharness.models.base import ModelInfo, ModelSpec
from evalharness.models.settings import NoSettings, parse
from evalharness.types import LETTERS, Capability, FirstTokens, Prediction, Request, Sample


class _Reference:
    capabilities: frozenset[Capability] = frozenset({"generate", "choice"})
    reference = True
    description = ""

    settings_type: ClassVar[type[NoSettings]] = NoSettings

    def __init__(self, spec: ModelSpec) -> None:
        # a setting that would change nothing must not look as if it did
        self.settings = parse(NoSettings, spec)
        self.spec = spec
        self.fitted: str | None = None
        """A hash of what `fit` learnt (None before it runs): answers depend on it."""

    def identity(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.spec.name}
        if self.fitted is not None:
            out["fitted"] = self.fitted
        return out

    def info(self) -> ModelInfo:
        return ModelInfo("reference", 0)

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return [_certain(r, self.answer(r)) for r in requests]

    def answer(self, request: Request) -> Prediction:
        raise NotImplementedError


def _certain(request: Request, prediction: Prediction) -> Prediction:
    """A reference is sure of its reply: asked for first-token probabilities, it gives 1 to the
    words its reply begins with (case aside) and 0 to the others."""
    if not request.first_token_words or prediction.text is None:
        return prediction
    said = prediction.text.strip().lower()
    probs: dict[str, float | None] = {
        w: float(bool(w) and said.startswith(w.lower())) for w in request.first_token_words
    }
    return replace(prediction, first_tokens=FirstTokens(probs))


def _digest(learnt: Any) -> str:
    return hashlib.sha256(json.dumps(learnt, sort_keys=True).encode()).hexdigest()[:16]


def _one_hot(n: int, index: int) -> list[float]:
    return [1.0 if i == index else 0.0 for i in range(n)]


def _choice_answer(request: Request, index: int) -> Prediction:
    """Pick option `index`: as scores in choice mode, as its letter when asked to generate."""
    if request.mode == "choice":
        return Prediction(choice_scores=_one_hot(len(request.choices), index))
    return Prediction(text=LETTERS[index])


class OracleModel(_Reference):
    """Returns the target: a sanity check that must score 1.0."""

    description = "Returns the target: a sanity check that must score 1.0."

    def answer(self, request: Request) -> Prediction:
        s = request.sample
        if request.form == "choice" and s.target_index is not None:
            return _choice_answer(request, s.target_index)
        return Prediction(text=s.target)


class RandomModel(_Reference):
    """Uniform over options, else a random valid answer (chance level)."""

    description = "Uniform over options, else a random valid answer (chance level)."

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        self._pool: dict[str, list[str]] = {}

    def fit(self, samples: Sequence[Sample]) -> None:
        pool: dict[str, set[str]] = defaultdict(set)
        for s in samples:
            if s.targets:
                pool[s.category].add(s.targets[0])
        self._pool = {k: sorted(v) for k, v in pool.items()}
        self.fitted = _digest(sorted(self._pool.items()))

    def _rng(self, sample: Sample) -> _random.Random:
        digest = hashlib.sha256(f"{self.spec.seed}:{sample.id}".encode()).digest()
        return _random.Random(int.from_bytes(digest[:8], "big"))

    def answer(self, request: Request) -> Prediction:
        s = request.sample
        rng = self._rng(s)
        if request.form == "choice":
            return _choice_answer(request, rng.randrange(len(s.choices or ())))
        space = list(s.answer_space or self._pool.get(s.category) or s.targets or [""])
        return Prediction(text=rng.choice(space))


class PriorModel(_Reference):
    """The most frequent target per question type of the benchmark (ignores image and question)."""

    description = "Most frequent target per question type of the benchmark."

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        self._text: dict[str, str] = {}
        self._index: dict[tuple[str, int], int] = {}

    def fit(self, samples: Sequence[Sample]) -> None:
        texts: dict[str, Counter[str]] = defaultdict(Counter)
        indices: dict[tuple[str, int], Counter[int]] = defaultdict(Counter)
        for s in samples:
            if s.targets:
                texts[s.category][s.targets[0]] += 1
            if s.choices is not None and s.target_index is not None:
                indices[(s.category, len(s.choices))][s.target_index] += 1
        # ties break by the sorted value, so the prior does not depend on sample order
        self._text = {
            k: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for k, c in texts.items()
        }
        self._index = {
            k: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for k, c in indices.items()
        }
        self.fitted = _digest([sorted(self._text.items()), sorted(self._index.items())])

    def answer(self, request: Request) -> Prediction:
        s = request.sample
        if request.form == "choice":
            return _choice_answer(request, self._index.get((s.category, len(s.choices or ())), 0))
        return Prediction(text=self._text.get(s.category, ""))
