"""A rule-following fake judge (a model class, plugged in through the registry as a plugin's
would be) and a benchmark of option items whose replies the rules read or cannot read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from model_helpers import FakeModel

from evalharness import registry
from evalharness.benchmarks.base import BaseBenchmark
from evalharness.judge import JudgeSpec, build_judge
from evalharness.judge._judge import Judge
from evalharness.models.base import ModelSpec
from evalharness.runner.execute import RunResult, run_benchmark
from evalharness.runner.progress import Progress
from evalharness.runner.spec import BenchmarkSpec, RunSpec
from evalharness.store import ResultsStore
from evalharness.types import Prediction, Request, Sample, Scored

CHOICES = ("cat", "dog", "bird")

REPLIES = {
    "plain": "B",
    "stated": "The answer is B.",
    "wrong": "C",
    "torn": "Either A or B. pick:B",
    "torn_wrong": "A or B. pick:A",
    "undecided": "Either A or C.",
}
"""Replies by sample id: the rules read the first three and none of the others; the fake judge
follows a stated `pick:X`, and says none where there is none."""


class RuleJudge(FakeModel):
    """A judge that follows a rule: it answers the `pick:X` the reply states, "none" where it
    states none; `JUNK` in a reply makes it answer outside the labels, `SLOW` a timeout, `BOOM`
    a crash of its whole call."""

    name = "rule_judge"
    asked: ClassVar[list[str]] = []  # every prompt it was sent, in all instances

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for r in requests:
            RuleJudge.asked.append(r.text)
            reply = r.text.split("<<<", 1)[1].split(">>>", 1)[0]
            if "BOOM" in reply:
                raise RuntimeError("judge crashed")
            if "SLOW" in reply:
                out.append(Prediction(error="APIError: timed out after 0.1 s"))
                continue
            if "JUNK" in reply:
                out.append(Prediction(text="purple"))
                continue
            picked = re.search(r"pick:(\w+)", reply)
            out.append(Prediction(text=f"Answer: {picked.group(1)}" if picked else "none"))
        return out


registry.models.register("rule_judge", RuleJudge)


class Options(BaseBenchmark):
    """Option items about an animal (B, dog, is right)."""

    name = "animal_options"
    capability = "vqa"
    version = "1"

    def __init__(self, ids: Sequence[str] = tuple(REPLIES)) -> None:
        self.ids = list(ids)

    def samples(self) -> Sequence[Sample]:
        return [
            Sample(id=i, images=(), prompt="Which animal?", choices=CHOICES, target_index=1)
            for i in self.ids
        ]

    def score_open(self, sample: Sample, text: str) -> Scored:
        raise AssertionError("option items only")


class Replier(FakeModel):
    """The evaluated model: answers each item with its reply in `replies`."""

    name = "replier"

    def __init__(self, replies: dict[str, str] | None = None) -> None:
        super().__init__()
        self.replies = replies or REPLIES
        self.calls = 0

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        self.calls += len(requests)
        return [Prediction(text=self.replies[r.sample.id]) for r in requests]


registry.benchmarks.register("animal_options", Options)


def judge_of(results: Path, agreement: float = 0.0, **kw: object) -> Judge:
    spec = JudgeSpec(ModelSpec(name="rule_judge"), agreement=agreement, batch_size=1, **kw)  # type: ignore[arg-type]
    return build_judge(spec, results)


def run(
    results: Path,
    judge: Judge | None,
    model: Replier | None = None,
    bench: Options | None = None,
) -> RunResult:
    spec = RunSpec(model=ModelSpec(name="replier"), benchmarks=(), progress=False)
    return run_benchmark(
        spec,
        model or Replier(),
        bench or Options(),
        ResultsStore(results),
        Progress(1, False),
        source=BenchmarkSpec("animal_options", {} if bench is None else {"ids": bench.ids}),
        judge=judge,
    )
