"""HallusionBench's official reading with a judge model: asked about every reply in the official
script's words, its reply read as the script reads it (golden cases from the script itself),
the route and verdict stored per sample, the rule reading kept as the robust one, and a rerun or
rescore asking neither the model nor the judge again."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from model_helpers import FakeModel
from repo_paths import GOLDEN

from evalharness import registry
from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub.hallusionbench import HallusionBench
from evalharness.judge import Judge, JudgeSpec, VerdictCache
from evalharness.metrics import (
    hallusionbench_code,
    hallusionbench_judge_prompt,
    hallusionbench_verdict,
)
from evalharness.models.base import ModelSpec
from evalharness.runner import run_job
from evalharness.runner.rescore import rescore
from evalharness.runner.scoring import aggregate, score_rows
from evalharness.runner.spec import BenchmarkSpec, RunSpec
from evalharness.store import load_runs, load_samples
from evalharness.types import Prediction, RenderedImage, Request

from .test_yes_no import hallusion_file

JUDGE_GOLDEN = GOLDEN / "hallusionbench_judge.json"


def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(JUDGE_GOLDEN.read_text())
    return data


def test_the_judges_question_and_its_reading_are_the_scripts() -> None:
    cases = golden()["cases"]
    assert len(cases) >= 50
    for c in cases:
        prompt = hallusionbench_judge_prompt(c["question"], c["gt_answer_details"], c["prediction"])
        assert prompt == c["prompt"]
        assert hallusionbench_code(hallusionbench_verdict(c["judge_reply"])) == int(c["verdict"])
    # what the cases cover: replies the script reads otherwise than a careful reader would
    verdicts = {c["judge_reply"]: c["verdict"] for c in cases}
    assert verdicts["not correct"] == "1" and verdicts["It is correct, not incorrect."] == "0"
    assert verdicts[""] == "2" and verdicts["wrong"] == "2" and verdicts["in-correct"] == "1"


class Scripted(FakeModel):
    """A judge answering each prompt with the reply the golden run recorded for it."""

    name = "scripted_judge"

    def __init__(self, replies: dict[str, str]) -> None:
        super().__init__()
        self.replies = replies
        self.calls = 0

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        self.calls += len(requests)
        return [Prediction(text=self.replies[r.text]) for r in requests]


def scored(bench: HallusionBench, answered: list[Answered], judge: Judge | None) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "sample_id": [a.sample.id for a in answered],
            "form": ["open"] * len(answered),
            "prediction": [a.prediction.text for a in answered],
            "error": [None] * len(answered),
            "choice_scores": [None] * len(answered),
            "unsupported": [False] * len(answered),
            "group": [a.sample.group for a in answered],
            "category": [a.sample.category for a in answered],
        }
    )
    return score_rows(bench, [a.sample for a in answered], rows, judge=judge)


def test_official_aacc_qacc_facc_with_a_judge_are_the_scripts(tmp_path: Path) -> None:
    bench = HallusionBench(imageless=True)
    image = RenderedImage("x", lambda: None)  # type: ignore[arg-type,return-value]
    runs = golden()["runs"]
    assert len(runs) >= 15
    for n, run in enumerate(runs):
        answered, replies = [], {}
        for i, row in enumerate(run["rows"]):
            sample = bench.make_sample(i, row, image)
            answered.append(Answered(sample, Prediction(text=row["model_prediction"]), "open"))
            prompt = hallusionbench_judge_prompt(
                row["question"], row["gt_answer_details"], row["model_prediction"]
            )
            replies[prompt] = row["judge_reply"]
        model = Scripted(replies)
        judge = Judge(
            JudgeSpec(ModelSpec("scripted_judge")), model, VerdictCache(tmp_path / str(n))
        )
        judge.out = io.StringIO()
        frame = scored(bench, answered, judge)
        assert model.calls == len(answered)  # every reply, whatever the rules read
        assert frame["metric_official_verdict"].tolist() == [int(v) for v in run["verdicts"]]
        assert (frame["metric_official_judged"] == 1.0).all()
        assert (frame["read_status"] == "judge").all()  # the headline is the judge's reading
        est = aggregate(bench, [a.sample for a in answered], frame, seed=0)
        official = run["official"]
        assert est["official"].value == pytest.approx(official["aAcc"], abs=1e-12)
        assert est["official/qAcc"].value == pytest.approx(official["qAcc"], abs=1e-12)
        assert est["official/fAcc"].value == pytest.approx(official["fAcc"], abs=1e-12)
        # the robust reading is the rules' with or without a judge
        plain = scored(bench, answered, None)
        for col in ("metric_robust", "metric_q_right", "metric_f_right", "extracted"):
            pd.testing.assert_series_equal(frame[col], plain[col])


class RuleJudge(FakeModel):
    """Answers HallusionBench's question with the `verdict:` the reply states ("Unclear."
    where it states none); `SLOW` in a reply makes it time out."""

    name = "hb_rule_judge"
    asked: ClassVar[list[str]] = []

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        out = []
        for r in requests:
            RuleJudge.asked.append(r.text)
            reply = r.text.split("\nPrediction answer:", 1)[1].rsplit("\nOutput:", 1)[0]
            if "SLOW" in reply:
                out.append(Prediction(error="APIError: timed out after 0.1 s"))
            else:
                said = reply.split("verdict:", 1)[1] if "verdict:" in reply else "Unclear."
                out.append(Prediction(text=said))
        return out


registry.models.register("hb_rule_judge", RuleJudge)

ANSWERS = {
    "VD_illusion_0_0_0": "No, they are equal. verdict:The prediction is correct.",  # rules: right
    "VD_illusion_0_0_1": "Yes. verdict:incorrect",  # rules: right, judge: wrong
    "VD_illusion_0_1_0": "Hard to say. verdict:Correct",  # rules: uncertain, judge: right
    "VD_illusion_0_1_1": "No SLOW",  # the judge times out: the rules' reading stands (right)
    "VS_chart_0_0_0": "I cannot tell without the chart.",  # judge: unclear, right (no figure)
}


def judged_run(results: Path, file: Path, protocol: str = "") -> Any:
    args = {"data_files": str(file), "split": "image", "imageless": True}
    if protocol:
        args["protocol"] = protocol
    spec = RunSpec(
        model=ModelSpec("table", args={"answers": ANSWERS}),
        benchmarks=(BenchmarkSpec("hallusionbench", args),),
        results_dir=str(results),
        progress=False,
        max_error_rate=1.0,
        judge=JudgeSpec(ModelSpec("hb_rule_judge"), batch_size=2),
    )
    [result] = run_job(spec, out=io.StringIO())
    return result


def test_a_judge_reads_every_reply_officially_and_the_rules_stay_robust(tmp_path: Path) -> None:
    RuleJudge.asked.clear()
    file, results = hallusion_file(tmp_path), tmp_path / "results"
    result = judged_run(results, file)
    rows = load_samples(results).set_index("sample_id")
    assert len(RuleJudge.asked) == 5  # every reply
    assert "Reference answer: ...\nPrediction answer:Yes. verdict:incorrect" in RuleJudge.asked[1]
    assert rows["read_status"].to_dict() == {
        "VD_illusion_0_0_0": "judge",
        "VD_illusion_0_0_1": "judge",
        "VD_illusion_0_1_0": "judge",
        "VD_illusion_0_1_1": "rule",  # no verdict: the rules' reading, with the reason
        "VS_chart_0_0_0": "judge",
    }
    assert "timed out" in rows.loc["VD_illusion_0_1_1", "judge_reason"]
    assert rows["judge_answer"].tolist()[:3] == ["correct", "incorrect", "correct"]
    assert rows.loc["VS_chart_0_0_0", "judge_answer"] == "uncertain"
    assert rows["metric_official"].tolist() == [1.0, 0.0, 1.0, 1.0, 1.0]
    assert rows["metric_robust"].tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert rows["metric_official_judged"].tolist() == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert rows["metric_official_verdict"].tolist() == [1.0, 0.0, 1.0, 1.0, 2.0]
    # agreement: the judge's verdict against the rules' (right, right, uncertain, -, uncertain)
    assert rows["judge_agrees"].tolist()[:3] == [1.0, 0.0, 0.0]
    assert pd.isna(rows.loc["VD_illusion_0_1_1", "judge_agrees"])
    assert rows.loc["VS_chart_0_0_0", "judge_agrees"] == 1.0
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["official"] == pytest.approx(0.8) and m["score"] == m["official"]
    assert m["robust"] == pytest.approx(0.6)
    # question 1 wrong officially on figure 0 → its pair wrong; figure 0 has a wrong answer
    assert m["official/qAcc"] == pytest.approx(2 / 3) and m["official/fAcc"] == pytest.approx(0.5)
    assert m["read_judge"] == pytest.approx(0.8) and m["judge_agreement"] == pytest.approx(0.5)
    summary = json.loads(load_runs(results).iloc[0]["judge"])
    assert summary["key"]["name"] == "hb_rule_judge"

    asked, before = len(RuleJudge.asked), rows
    judged_run(results, file)  # the same command again: answers and verdicts are stored
    assert RuleJudge.asked[asked:] == RuleJudge.asked[3:4]  # only the one that timed out
    assert rescore(results) == 1  # a rescore asks the model nothing, the judge the same
    assert RuleJudge.asked[asked + 1 :] == RuleJudge.asked[3:4]
    after = load_samples(results).set_index("sample_id")
    pd.testing.assert_frame_equal(after[before.columns], before)


def test_under_the_robust_headline_the_judge_still_reads_officially(tmp_path: Path) -> None:
    file, results = hallusion_file(tmp_path), tmp_path / "results"
    result = judged_run(results, file, protocol="robust")
    rows = load_samples(results).set_index("sample_id")
    # the headline is the rules' reading: their routes
    assert rows["read_status"].tolist() == ["rule", "rule", "unreadable", "rule", "unreadable"]
    assert rows["metric_official"].tolist() == [1.0, 0.0, 1.0, 1.0, 1.0]
    assert rows["score"].tolist() == rows["metric_robust"].tolist()
    assert result.metrics["score"].value == pytest.approx(0.6)


def test_without_a_judge_the_rules_give_the_official_verdict(tmp_path: Path) -> None:
    from .fixtures import run

    file = hallusion_file(tmp_path)
    args = {"data_files": str(file), "split": "image", "imageless": True}
    _, rows = run(tmp_path, "hallusionbench", args, model="table", answers=ANSWERS)
    assert (rows["metric_official_judged"] == 0.0).all()
    assert rows["metric_official_verdict"].tolist() == [1.0, 1.0, 2.0, 1.0, 2.0]
    assert rows["judge_reply"].isna().all()
    assert rows.loc["VS_chart_0_0_0", "meta_gt_answer_details"] == "..."
