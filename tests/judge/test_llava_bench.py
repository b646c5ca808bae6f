"""llava_bench_wild in its hub schema: open-ended replies graded by a judge against the reference
answer and the rubric, the caption shown to a text-only judge; without a judge, unreadable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hub.fixtures import image_cell, write_parquet
from model_helpers import FakeModel

from evalharness import registry
from evalharness.judge import JudgeSpec, build_judge
from evalharness.models.base import ModelSpec
from evalharness.runner.execute import run_benchmark
from evalharness.runner.job import load_benchmark
from evalharness.runner.progress import Progress
from evalharness.runner.spec import BenchmarkSpec, RunSpec
from evalharness.store import ResultsStore, load_runs, load_samples
from evalharness.types import Prediction, Request

REPLIES = {
    "0": "The dog is brown and sleeping on a red sofa.",  # as the reference
    "1": "A cat.",  # wrong
    "2": "It is sunny.",  # judge says "7": outside its grades
}


def dataset(root: Path) -> Path:
    from datasets import Image, Value

    rows = {
        "question_id": [0, 1, 2],
        "question": ["Describe the dog.", "What animal is it?", "What is the weather?"],
        "image": [image_cell(i) for i in range(3)],
        "caption": ["A brown dog asleep on a red sofa."] * 2 + ["A beach at noon."],
        "gpt_answer": [
            "The dog is brown and sleeping on a red sofa.",
            "It is a dog.",
            "Sunny and clear.",
        ],
        "category": ["detail", "conv", "conv"],
        "image_id": ["a", "a", "b"],
    }
    s = Value("string")
    features = {
        "question_id": Value("int8"),
        "question": s,
        "image": Image(),
        "caption": s,
        "gpt_answer": s,
        "category": s,
        "image_id": s,
    }
    return write_parquet(root / "train.parquet", rows, features)


class Answers(FakeModel):
    name = "answers"

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return [Prediction(text=REPLIES[r.sample.id]) for r in requests]


class ReferenceJudge(FakeModel):
    """Grades 1 where the reply says what the reference says, else 0; "7" about the weather."""

    name = "reference_judge"
    prompts: list[str] = []  # noqa: RUF012

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for r in requests:
            ReferenceJudge.prompts.append(r.text)
            ref = r.text.split("Reference answer:\n", 1)[1].split("\nRubric:", 1)[0]
            reply = r.text.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
            if "weather" in r.text:
                out.append(Prediction(text="7"))
            else:
                out.append(Prediction(text="1" if reply == ref else "0"))
        return out


registry.models.register("reference_judge", ReferenceJudge)


def run(tmp_path: Path, judged: bool) -> Path:
    data = dataset(tmp_path / "data")
    results = tmp_path / ("judged" if judged else "plain")
    judge = None
    if judged:
        spec = JudgeSpec(ModelSpec(name="reference_judge"), agreement=0.0)
        judge = build_judge(spec, results)
    source = BenchmarkSpec("llava_bench_wild", {"path": str(data.parent)})
    bench = load_benchmark(source)
    spec = RunSpec(model=ModelSpec(name="answers"), benchmarks=(), progress=False)
    run_benchmark(spec, Answers(), bench, ResultsStore(results), Progress(1, False), source, judge)
    return results


def test_judge_grades_open_replies_against_the_reference(tmp_path: Path) -> None:
    ReferenceJudge.prompts.clear()
    results = run(tmp_path, judged=True)
    rows = load_samples(results).set_index("sample_id")
    assert rows["read_status"].to_dict() == {"0": "judge", "1": "judge", "2": "unreadable"}
    assert rows["score"].to_dict() == {"0": 1.0, "1": 0.0, "2": 0.0}
    assert "outside the allowed labels: '7'" in rows.loc["2", "judge_reason"]
    assert rows.loc["0", "metric_judge_grade"] == 1.0
    # a text-only judge is told what the image shows, and sees the rubric
    assert "What the image shows:\nA brown dog asleep on a red sofa." in ReferenceJudge.prompts[0]
    assert "helpfulness, relevance, accuracy" in ReferenceJudge.prompts[0]
    assert load_runs(results).iloc[0]["score"] == 1 / 3


def test_without_a_judge_every_reply_is_unreadable(tmp_path: Path) -> None:
    rows = load_samples(run(tmp_path, judged=False))
    assert set(rows["read_status"]) == {"unreadable"}
    assert (rows["score"] == 0.0).all()
