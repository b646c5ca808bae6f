"""The OpenVLM-suite adapters end to end on tiny copies in their hub schemas: the oracle scores
full marks, scripted replies score as the official evaluations would, bad rows are recorded
errors and bad settings one clear line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from evalharness.benchmarks.base import BenchmarkSettingError
from evalharness.benchmarks.hub._load import DatasetUnavailableError
from evalharness.benchmarks.hub.chartqa import ChartQA
from evalharness.benchmarks.hub.mmmu import MMMU

from . import openvlm_data as data
from .fixtures import run


def test_mmmu_end_to_end(tmp_path: Path) -> None:
    folder = data.mmmu(tmp_path / "mmmu")
    oracle, rows = run(tmp_path, "mmmu", {"path": str(folder)})
    assert oracle.metrics["score"].value == 1.0
    first = rows.loc["validation_Math_1"]
    # the official prompt: options as "(A) text" lines, a blank line, the instruction
    assert first["prompt"] == (
        "<image 1> and <image 2> show two shapes. Which has more sides?\n\n"
        "(A) The first\n(B) The second\n(C) Equal\n\n\n"
        "Answer with the option's letter from the given choices directly."
    )
    assert len(__import__("json").loads(first["image_ids"])) == 2  # both referenced images go
    assert rows.loc["validation_Physics_2", "prompt"].endswith(
        "\n\nAnswer the question using a single word or phrase."
    )
    assert rows.loc["validation_Math_1", "category"] == "Math"

    answers = {
        "validation_Math_1": "The answer is (B).",
        "validation_Physics_2": "The speed is 3.50 m/s",
        "validation_Art_3": "I cannot tell",  # no letter: the official guesses; 1/2 expected
    }
    table, rows = run(tmp_path, "mmmu", {"path": str(folder)}, model="table", answers=answers)
    assert rows.loc["validation_Math_1", "score"] == 1.0
    assert rows.loc["validation_Math_1", "extracted"] == "B"
    assert rows.loc["validation_Physics_2", "score"] == 1.0
    assert rows.loc["validation_Art_3", "score"] == 0.5
    assert rows.loc["validation_Art_3", "metric_official_guessed"] == 1.0
    assert table.metrics["score"].value == pytest.approx(2.5 / 3)
    assert table.metrics["guessed"].value == pytest.approx(1 / 3)
    assert table.metrics["domain[Science]"].value == 1.0
    # our own reading takes no guess: the reply without a letter is wrong, and counted
    assert rows.loc["validation_Art_3", "metric_robust"] == 0.0
    assert table.metrics["robust"].value == pytest.approx(2 / 3)
    assert table.metrics["unreadable"].value == pytest.approx(1 / 3)
    # a letter the official parser misses ("B)" is neither bracketed nor between spaces)
    answers["validation_Math_1"] = "B) The second"
    _, rows = run(tmp_path, "mmmu", {"path": str(folder)}, model="table", answers=answers)
    assert rows.loc["validation_Math_1", "metric_robust"] == 1.0
    assert rows.loc["validation_Math_1", "metric_official"] == pytest.approx(1 / 3)
    robust, rows = run(
        tmp_path,
        "mmmu",
        {"path": str(folder), "protocol": "robust"},
        model="table",
        answers=answers,
    )
    assert rows.loc["validation_Math_1", "score"] == 1.0
    assert robust.metrics["score"].value == robust.metrics["robust"].value


def test_mmmu_bad_rows_are_recorded_errors(tmp_path: Path) -> None:
    folder = data.mmmu(tmp_path / "mmmu", broken=True)
    result, rows = run(tmp_path, "mmmu", {"path": str(folder)})
    missing, outside = rows.loc["validation_Math_4"], rows.loc["validation_Math_5"]
    assert "references <image 2> but image_2 is empty" in missing["error"]
    assert "answer 'E' names none of its 2 options" in outside["error"]
    assert rows["error"].isna().sum() == 3  # the good items are answered and scored
    assert result.n_errors == 2


def test_mmmu_unknown_subject_and_split_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        BenchmarkSettingError, match=r"unknown subject 'Maths'.*Did you mean 'Math'"
    ):
        MMMU(subjects=("Maths",))
    folder = data.mmmu(tmp_path / "mmmu")
    with pytest.raises(DatasetUnavailableError) as err:
        MMMU(path=str(folder), split="dev").samples()
    assert "split 'dev'" in str(err.value) and "\n" not in str(err.value)


def test_mme_end_to_end(tmp_path: Path) -> None:
    folder = data.mme(tmp_path / "mme")
    oracle, rows = run(tmp_path, "mme", {"path": str(folder)})
    assert oracle.metrics["perception"].value == 200.0  # one subtask, acc 100 + acc+ 100
    assert oracle.metrics["cognition"].value == 200.0
    assert oracle.metrics["score"].value == 1.0
    assert rows.loc["existence/1.png#1", "prompt"].endswith("Please answer yes or no.")

    ids = sorted(rows.index)
    # existence: image 1 both right, image 2 one right → acc 3/4, acc+ 1/2 → 125
    answers = {ids[2]: "Yes", ids[3]: "No.", ids[4]: "Yes, it is", ids[5]: "yes"}
    answers |= {ids[0]: "yes", ids[1]: "Maybe"}  # code_reasoning: both wrong → 0
    table, rows = run(tmp_path, "mme", {"path": str(folder)}, model="table", answers=answers)
    assert table.metrics["score[existence]"].value == pytest.approx(125.0)
    assert table.metrics["perception"].value == pytest.approx(125.0)
    assert table.metrics["cognition"].value == 0.0
    assert table.metrics["total"].value == pytest.approx(125.0)
    assert table.metrics["score"].value == pytest.approx(125.0 / 400)
    assert pd.isna(rows.loc[ids[1], "extracted"])  # "Maybe" reads as "other"


def test_ocrbench_end_to_end(tmp_path: Path) -> None:
    file = data.ocrbench(tmp_path / "ocrbench")
    oracle, _ = run(tmp_path, "ocrbench", {"path": str(file)})
    assert oracle.metrics["final_score"].value == 3.0
    answers = {"0000": "The word is centre.", "0001": "COKE", "0002": "x^{2}"}
    table, rows = run(tmp_path, "ocrbench", {"path": str(file)}, model="table", answers=answers)
    assert rows["score"].tolist() == [1.0, 1.0, 1.0]
    answers["0002"] = "X^{2}"  # handwritten formulas keep case
    table, rows = run(tmp_path, "ocrbench", {"path": str(file)}, model="table", answers=answers)
    assert table.metrics["final_score"].value == 2.0
    assert table.metrics["text_recognition"].value == 1.0
    assert table.metrics["score[Handwritten Mathematical Expression Recognition]"].value == 0.0
    assert table.metrics["score"].value == pytest.approx(2 / 3)


def test_chartqa_end_to_end(tmp_path: Path) -> None:
    folder = data.chartqa(tmp_path / "chartqa")
    oracle, rows = run(tmp_path, "chartqa", {"path": str(folder)})
    assert oracle.metrics["score"].value == 1.0
    assert rows.loc["00000", "prompt"].endswith(
        "Answer the question using a single word or phrase."
    )
    answers = {"00000": "125", "00001": "republican", "00002": "0.5"}
    table, _ = run(tmp_path, "chartqa", {"path": str(folder)}, model="table", answers=answers)
    # 125 is within 5 % of 120; 0.5 is 11 % off 0.45
    assert table.metrics["relaxed_human"].value == 1.0
    assert table.metrics["relaxed_augmented"].value == 0.0
    human, _ = run(tmp_path, "chartqa", {"path": str(folder), "part": "human"})
    assert human.n_samples == 2
    with pytest.raises(BenchmarkSettingError, match="part must be both, human or augmented"):
        ChartQA(part="humans")  # type: ignore[arg-type]


def test_docvqa_end_to_end(tmp_path: Path) -> None:
    folder = data.docvqa(tmp_path / "docvqa")
    oracle, rows = run(tmp_path, "docvqa", {"path": str(folder)})
    assert oracle.metrics["score"].value == 1.0
    assert rows.loc["337", "group"] == rows.loc["338", "group"] == "279"
    answers = {"337": "1/8/93", "338": "J. Smyth", "400": "nothing"}
    table, rows = run(tmp_path, "docvqa", {"path": str(folder)}, model="table", answers=answers)
    assert rows.loc["338", "score"] == pytest.approx(1 - 1 / 8)
    assert rows.loc["400", "score"] == 0.0
    assert table.metrics["anls[table_list]"].value == 0.0
    assert table.metrics["anls[layout]"].value == 1.0


def test_mathvista_end_to_end_with_routes(tmp_path: Path) -> None:
    folder = data.mathvista(tmp_path / "mathvista")
    oracle, rows = run(tmp_path, "mathvista", {"path": str(folder)})
    assert oracle.metrics["score"].value == 1.0
    assert rows.loc["1", "prompt"].startswith("Hint: Please answer the question and provide")
    answers = {"1": "(B) blue", "2": "There are four bars, so 4.", "3": "1.5"}
    table, rows = run(tmp_path, "mathvista", {"path": str(folder)}, model="table", answers=answers)
    # "(B) blue" is no option's exact text and no number: the official would ask its judge
    assert rows.loc["1", "metric_official_unreadable"] == 1.0 and rows.loc["1", "score"] == 0.0
    assert rows.loc["2", "metric_official_unreadable"] == 1.0
    assert rows.loc["3", "metric_official_rule"] == 1.0 and rows.loc["3", "score"] == 1.0
    assert table.metrics["unreadable"].value == pytest.approx(2 / 3)
    # our reading takes what the rules cannot read from the harness's extraction
    assert rows.loc["1", "metric_extracted"] == 1.0 and rows.loc["1", "metric_robust"] == 1.0
    assert rows.loc["2", "metric_extracted"] == 1.0 and rows.loc["2", "metric_robust"] == 1.0
    assert table.metrics["robust"].value == 1.0
    assert table.metrics["robust_unreadable"].value == 0.0
    answers = {"1": 'The answer is "B".', "2": "4", "3": "1.54"}
    _, rows = run(tmp_path, "mathvista", {"path": str(folder)}, model="table", answers=answers)
    assert rows["score"].tolist() == [1.0, 1.0, 1.0]
    assert rows.loc["1", "extracted"] == "blue"


def test_mathvista_missing_image_is_a_recorded_error(tmp_path: Path) -> None:
    folder = data.mathvista(tmp_path / "mathvista", missing_image=True)
    result, rows = run(tmp_path, "mathvista", {"path": str(folder)})
    assert "no image" in rows.loc["2", "error"]
    assert result.n_errors == 1 and rows["score"].notna().all()


@pytest.mark.parametrize(
    ("model", "declines"),
    [("tiny_qwen2_vl", False), ("tiny_idefics3", False), ("tiny_blip2", True), ("tiny_blip", True)],
)
def test_routes_answer_or_decline_items_with_several_images(model: str, declines: bool) -> None:
    from PIL import Image

    from evalharness import registry
    from evalharness.models.base import ModelSpec
    from evalharness.types import GenerationSettings, Request, Sample

    images = (Image.new("RGB", (32, 32), "red"), Image.new("RGB", (40, 24), "blue"))
    sample = Sample(id="x", images=(), prompt="Compare <image 1> and <image 2>.", targets=("a",))
    route = registry.models.get(model)(ModelSpec(model))
    one, two = (
        Request(sample, images[:k], sample.prompt, "generate", GenerationSettings(max_new_tokens=3))
        for k in (1, 2)
    )
    answered, several = route.predict([one, two])
    assert answered.error is None and answered.unsupported is None
    if declines:
        assert several.unsupported is not None and "has 2" in several.unsupported
    else:
        assert several.error is None and several.unsupported is None and several.text is not None


@pytest.mark.parametrize("chat", [False, True])
def test_the_lmms_bridge_sends_every_image(chat: bool) -> None:
    from bridges import fake_lmms
    from PIL import Image

    from evalharness.bridges.lmms import LmmsModel
    from evalharness.models.base import ModelSpec
    from evalharness.types import GenerationSettings, Request, Sample

    fake_lmms.register()
    images = (Image.new("RGB", (32, 24), "red"), Image.new("RGB", (40, 24), "blue"))
    sample = Sample(id="x", images=(), prompt="Compare <image 1> and <image 2>.", targets=("a",))
    spec = ModelSpec("lmms", args={"model": fake_lmms.NAME, "force_simple": not chat}, device="cpu")
    [pred] = LmmsModel(spec).predict(
        [Request(sample, images, sample.prompt, "generate", GenerationSettings(max_new_tokens=4))]
    )
    assert pred.text == "Compare|2|(32, 24)"  # the fake model answers with the images it got


def test_mathvista_judge_reads_what_the_official_rules_cannot(tmp_path: Path) -> None:
    """Rules first, the judge for the rest (`judge=`): its answer is read by the official rules,
    and each sample's route is stored."""
    from model_helpers import FakeModel

    from evalharness import registry
    from evalharness.benchmarks.hub.mathvista import MathVista
    from evalharness.judge import JudgeSpec, build_judge
    from evalharness.models.base import ModelSpec
    from evalharness.runner.execute import run_benchmark
    from evalharness.runner.progress import Progress
    from evalharness.runner.spec import BenchmarkSpec, RunSpec
    from evalharness.store import ResultsStore, load_samples
    from evalharness.types import Prediction, Request

    class OptionJudge(FakeModel):
        """Names the option or number the reply states after "so"."""

        def predict(self, requests: Sequence[Request]) -> list[Prediction]:
            out = []
            for r in requests:
                reply = r.text.split("<<<", 1)[1].split(">>>", 1)[0]
                out.append(
                    Prediction(
                        text=reply.rsplit("so ", 1)[-1].strip(" .") if "so " in reply else "none"
                    )
                )
            return out

    registry.models.register("option_judge", OptionJudge)
    folder = data.mathvista(tmp_path / "mathvista")
    answers = {"1": "The tallest one, so blue.", "2": "I count them, so 4.", "3": "1.5"}
    results = tmp_path / "judged"
    judge = build_judge(
        JudgeSpec(ModelSpec(name="option_judge"), agreement=0.0, batch_size=1), results
    )
    from .fixtures import TableModel

    bench = MathVista(path=str(folder))
    spec = RunSpec(model=ModelSpec(name="table"), benchmarks=(), progress=False, max_error_rate=1.0)
    run_benchmark(
        spec,
        TableModel(ModelSpec("table", args={"answers": answers})),
        bench,
        ResultsStore(results),
        Progress(1, False),
        source=BenchmarkSpec("mathvista", {"path": str(folder)}),
        judge=judge,
    )
    rows = load_samples(results).set_index("sample_id")
    assert rows.loc["1", "read_status"] == "judge" and rows.loc["1", "judge_answer"] == "blue"
    assert rows.loc["2", "read_status"] == "judge" and rows.loc["2", "score"] == 1.0
    assert rows.loc["3", "read_status"] == "rule"
    assert rows["score"].tolist() == [1.0, 1.0, 1.0]
