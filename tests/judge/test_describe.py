"""synth_describe: open-ended descriptions graded by a judge against the benchmark's rubric, and
by rule against the scene's truth, so that the judge itself is checked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from model_helpers import FakeModel

from evalharness import registry
from evalharness.benchmarks.synthetic.describe import DescribeSuite, mentioned, truth_grade
from evalharness.judge import JudgeSpec, build_judge
from evalharness.models.base import ModelSpec
from evalharness.runner.execute import run_benchmark
from evalharness.runner.progress import Progress
from evalharness.runner.spec import BenchmarkSpec, RunSpec
from evalharness.store import ResultsStore, load_samples
from evalharness.types import Prediction, Request


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ("Two red circles and a blue square.", 1.0),
        ("A red circle.", 0.5),
        ("A red circle, a blue square and a green star.", 0.0),  # names one not there
        ("Some shapes.", 0.0),
    ],
)
def test_truth_grade(reply: str, grade: float) -> None:
    assert truth_grade(reply, {("red", "circle"), ("blue", "square")}) == grade


def test_mentioned_reads_plurals_and_case() -> None:
    assert mentioned("Two Red circles, one blue Square") == {("red", "circle"), ("blue", "square")}


class Describer(FakeModel):
    """Describes half the images right (the reference) and invents a shape in the other half."""

    name = "describer"

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for k, r in enumerate(requests):
            ref = r.sample.target
            out.append(Prediction(text=ref if k % 2 == 0 else f"{ref} and a purple hexagon"))
        return out


class GradingJudge(FakeModel):
    """Grades as the rubric says, from the reference in its prompt: agrees with the truth."""

    name = "grading_judge"
    lie = False

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for r in requests:
            ref = r.text.split("Reference answer:\n", 1)[1].split("\nRubric:", 1)[0]
            reply = r.text.split("<<<", 1)[1].split(">>>", 1)[0]
            grade = 1.0 if self.lie else truth_grade(reply, mentioned(ref))
            out.append(Prediction(text=f"{grade:g}"))
        return out


class LyingJudge(GradingJudge):
    name = "lying_judge"
    lie = True


registry.models.register("grading_judge", GradingJudge)
registry.models.register("lying_judge", LyingJudge)


def run(results: Path, judge_name: str | None) -> None:
    judge = None
    if judge_name is not None:
        judge = build_judge(JudgeSpec(ModelSpec(name=judge_name), agreement=0.0), results)
    spec = RunSpec(model=ModelSpec(name="describer"), benchmarks=(), progress=False, batch_size=4)
    bench = DescribeSuite(n=6)
    source = BenchmarkSpec("synth_describe", {"n": 6})
    run_benchmark(
        spec, Describer(), bench, ResultsStore(results), Progress(1, False), source, judge
    )


def test_without_a_judge_the_truth_grades(tmp_path: Path) -> None:
    run(tmp_path / "r", None)
    rows = load_samples(tmp_path / "r")
    assert set(rows["read_status"]) == {"rule"}
    assert rows["score"].tolist() == rows["metric_truth"].tolist()
    assert sorted(set(rows["score"])) == [0.0, 1.0]


def test_judge_grades_and_is_checked_against_the_truth(tmp_path: Path) -> None:
    run(tmp_path / "r", "grading_judge")
    rows = load_samples(tmp_path / "r")
    assert set(rows["read_status"]) == {"judge"}
    assert rows["score"].tolist() == rows["metric_truth"].tolist()
    assert (rows["metric_judge_vs_truth"] == 1.0).all()
    assert rows["judge_reply"].isin(["0", "1"]).all()


def test_a_lenient_judge_shows_against_the_truth(tmp_path: Path) -> None:
    run(tmp_path / "r", "lying_judge")
    rows = load_samples(tmp_path / "r")
    assert (rows["score"] == 1.0).all()  # the judge's grade is the score, as it said
    assert rows["metric_judge_vs_truth"].mean() == 0.5  # but the truth catches it
