"""The lmms-eval bridge: its tasks through our runner, its models behind our interface (the proof
against lmms-eval's own CLI is in test_lmms_proof.py).

Every task here is local: a VQAv2-schema parquet file read by a task YAML under a temporary
include_path, prompted and scored by lmms-eval's own VQAv2 functions.
"""

from __future__ import annotations

import io
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from evalharness.models.base import ModelSpec
from evalharness.store import load_runs, load_samples
from evalharness.types import GenerationSettings, Prediction, Request

from .conftest import require_lmms_eval
from .lmms_data import (
    POST_PROMPT,
    TASK,
    answers_matching,
    image_png,
    run,
    vqa_accuracy,
    write_task,
    write_vqa,
)

require_lmms_eval()

from evalharness.bridges.lmms import (  # noqa: E402  (after the lmms-eval check)
    LmmsBridgeError,
    LmmsModel,
    LmmsTask,
    generation_settings,
)

from . import fake_lmms  # noqa: E402


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    """An include_path with `local_vqa`: six questions, rows 0 and 1 on the same image."""
    data = write_vqa(
        tmp_path / "data" / "vqa.parquet", [answers_matching("blue", 3, i) for i in range(6)]
    )
    folder = tmp_path / "tasks"
    write_task(folder, TASK, data)
    return folder


class TableModel:
    """Answers each sample from `args.answers` (by sample id); ids in `args.errors` fail."""

    capabilities = frozenset({"generate"})
    reference = False

    def __init__(self, spec: ModelSpec) -> None:
        self.answers: dict[str, str] = dict(spec.args.get("answers", {}))
        self.errors = set(spec.args.get("errors", []))
        self.requests: list[Request] = []

    def identity(self) -> dict[str, Any]:
        return {"answers": self.answers, "errors": sorted(self.errors)}

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        self.requests += requests
        return [
            Prediction(error="RuntimeError: boom")
            if r.sample.id in self.errors
            else Prediction(text=self.answers.get(r.sample.id, ""))
            for r in requests
        ]


@pytest.fixture
def table_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalharness import registry

    monkeypatch.setitem(registry.models._extra, "table", TableModel)


# --- tasks as benchmarks ---------------------------------------------------------------------------


def test_samples_have_the_tasks_prompt_images_and_generation(task_dir: Path) -> None:
    from PIL import Image

    task = LmmsTask(TASK, str(task_dir))
    samples = task.samples()
    assert task.name == f"lmms:{TASK}" and len(samples) == 6
    assert [s.id for s in samples] == [str(i) for i in range(6)]
    assert samples[1].prompt == f"How many dots are there? (1){POST_PROMPT}"
    assert task.generation == GenerationSettings(max_new_tokens=16, temperature=0.0, stop=("\n\n",))
    # the images are the parquet's pixels, and questions on one image share a bootstrap cluster
    for s, seed in zip(samples, [0, 0, 2, 3, 4, 5], strict=True):
        [img] = s.images
        expected = Image.open(io.BytesIO(image_png(seed))).convert("RGB")
        assert img.load().tobytes() == expected.tobytes()
    assert samples[0].group == samples[1].group != samples[2].group
    assert samples[0].metadata["question_id"] == 100 and samples[0].metadata["lmms_doc_id"] == 0
    assert len(LmmsTask(TASK, str(task_dir), n=2).samples()) == 2


def test_version_follows_the_task_config(task_dir: Path, tmp_path: Path) -> None:
    same = LmmsTask(TASK, str(task_dir)).version
    assert LmmsTask(TASK, str(task_dir)).version == same
    other = tmp_path / "other"
    write_task(other, TASK, tmp_path / "data" / "vqa.parquet", post_prompt="\nOne word.")
    changed = LmmsTask(TASK, str(other))
    assert changed.version != same
    assert changed.samples()[0].prompt.endswith("\nOne word.")


def test_prompt_variant_picks_that_models_prompt(task_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "variants"
    write_task(folder, TASK, tmp_path / "data" / "vqa.parquet", variants={"qwen2_vl": "\nQ?"})
    assert LmmsTask(TASK, str(folder)).samples()[0].prompt.endswith(POST_PROMPT)
    assert (
        LmmsTask(TASK, str(folder), prompt_variant="qwen2_vl").samples()[0].prompt.endswith("\nQ?")
    )


def test_scores_are_lmms_evals_and_the_mean_gets_a_bootstrap_ci(
    tmp_path: Path, table_model: None, bridge_registered: None
) -> None:
    # doc i has "blue" among its ten answers k[i] times; the model always says "Blue."
    k = [0, 1, 3, 10, 2, 5]
    data = write_vqa(
        tmp_path / "vqa.parquet", [answers_matching("blue", n, i) for i, n in enumerate(k)]
    )
    write_task(tmp_path / "tasks", TASK, data)
    answers = {str(i): "Blue." for i in range(6)}
    model = ModelSpec("table", args={"answers": answers, "errors": ["5"]})
    result, samples, runs = run(
        tmp_path, model, {"include_path": str(tmp_path / "tasks")}, max_error_rate=0.5
    )
    # a failed sample is scored as an empty answer: wrong
    expected = [vqa_accuracy(n) for n in k[:5]] + [0.0]
    assert list(samples["metric_exact_match"]) == pytest.approx(expected)
    assert list(samples["score"]) == pytest.approx(expected)
    assert list(samples["extracted"]) == ["Blue."] * 5 + [""]
    assert samples["error"].notna().tolist() == [False] * 5 + [True]
    metrics = json.loads(runs.loc[0, "metrics"])
    mean = statistics.mean(expected)
    for name in ("score", "exact_match", "lmms_eval:exact_match"):
        assert metrics[name]["value"] == pytest.approx(mean)
    assert metrics["score"]["ci_low"] <= mean <= metrics["score"]["ci_high"]
    assert metrics["score"]["ci_low"] < metrics["score"]["ci_high"]
    assert math.isnan(metrics["lmms_eval:exact_match"]["ci_low"])
    assert runs.loc[0, "benchmark"] == f"lmms:{TASK}" and result.n_errors == 1


UTILS = """
import statistics
from lmms_eval.tasks.vqav2.utils import vqav2_process_results_val


def process(doc, results):
    out = vqav2_process_results_val(doc, results)
    out["answer_length"] = {"chars": len(results[0]), "question": doc["question_id"]}
    return out


def median_length(items):
    return float(statistics.median(item["chars"] for item in items))
"""

LENGTH_METRICS = """  - metric: exact_match
    aggregation: mean
    higher_is_better: true
  - metric: answer_length
    aggregation: !function utils.median_length
    higher_is_better: false
"""


def test_other_aggregations_are_lmms_evals_values_without_a_ci(
    tmp_path: Path, table_model: None, bridge_registered: None
) -> None:
    data = write_vqa(tmp_path / "vqa.parquet", [answers_matching("a", 10, i) for i in range(5)])
    folder = tmp_path / "tasks"
    write_task(folder, TASK, data, metrics=LENGTH_METRICS, process_results="utils.process")
    (folder / "utils.py").write_text(UTILS)
    said = ["a", "bb", "a", "dddd", "eeeee"]
    model = ModelSpec("table", args={"answers": {str(i): s for i, s in enumerate(said)}})
    _, samples, runs = run(tmp_path, model, {"include_path": str(folder)})
    metrics = json.loads(runs.loc[0, "metrics"])
    length = metrics["lmms_eval:answer_length"]
    assert length["value"] == statistics.median(len(s) for s in said)
    assert math.isnan(length["ci_low"]) and math.isnan(length["ci_high"])
    assert "answer_length" not in metrics  # no sum-of-columns version of a median
    assert metrics["score"]["value"] == pytest.approx(2 / 5)  # exact_match stays primary
    kept = json.loads(samples.loc[3, "extracted"])
    assert kept == {"response": "dddd", "answer_length": {"chars": 4, "question": 103}}

    # a primary metric that is not a mean: the run's score is lmms-eval's value, without CI
    _, _, runs = run(
        tmp_path / "b", model, {"include_path": str(folder), "metric": "answer_length"}
    )
    score = json.loads(runs.loc[0, "metrics"])["score"]
    assert score["value"] == length["value"] and math.isnan(score["ci_low"])


FILTER = """filter_list:
  - name: after_answer
    filter:
      - function: regex
        regex_pattern: "answer: (\\\\w+)"
      - function: take_first
"""


def test_the_tasks_filters_extract_the_scored_answer(
    tmp_path: Path, table_model: None, bridge_registered: None
) -> None:
    data = write_vqa(tmp_path / "vqa.parquet", [answers_matching("blue", 10, i) for i in range(3)])
    write_task(tmp_path / "tasks", TASK, data, extra=FILTER)
    said = {"0": "I think the answer: blue", "1": "blue", "2": "the answer: red"}
    _, samples, _ = run(
        tmp_path,
        ModelSpec("table", args={"answers": said}),
        {"include_path": str(tmp_path / "tasks")},
    )
    assert list(samples["extracted"]) == ["blue", "[invalid]", "red"]
    assert list(samples["score"]) == [1.0, 0.0, 0.0]


def test_tasks_the_bridge_cannot_run_say_why(tmp_path: Path, task_dir: Path) -> None:
    (task_dir / "group.yaml").write_text(f"group: both\ntask:\n  - {TASK}\n  - local_copy\n")
    write_task(task_dir, "local_copy", tmp_path / "data" / "vqa.parquet")
    with pytest.raises(LmmsBridgeError, match=r"group of 2 tasks.*lmms:local_copy, lmms:local_vqa"):
        LmmsTask("both", str(task_dir))
    choice = "output_type: multiple_choice\ndoc_to_choice: ['yes', 'no']\n"
    write_task(task_dir, "local_choice", tmp_path / "data" / "vqa.parquet", extra=choice)
    with pytest.raises(LmmsBridgeError, match="output_type 'multiple_choice'"):
        LmmsTask("local_choice", str(task_dir))
    with pytest.raises(LmmsBridgeError, match=r"no metric 'exact_mtch'.*'exact_match'"):
        LmmsTask(TASK, str(task_dir), metric="exact_mtch")
    with pytest.raises(LmmsBridgeError, match="is not a folder"):
        LmmsTask(TASK, str(tmp_path / "missing"))


@pytest.mark.slow
def test_unknown_task_names_the_closest_ones(task_dir: Path) -> None:
    with pytest.raises(LmmsBridgeError, match=r"no task 'local_vqq'.*'local_vqa'"):
        LmmsTask("local_vqq", str(task_dir))


def test_generation_settings_from_generation_kwargs() -> None:
    assert generation_settings({"max_new_tokens": 5, "until": "END", "temperature": 0.7}) == (
        GenerationSettings(5, 0.7, ("END",))
    )
    assert generation_settings({"until": ["a", "b"]}) == GenerationSettings(128, 0.0, ("a", "b"))


# --- lmms-eval models behind our interface ---------------------------------------------------------


@pytest.fixture
def fake_models() -> None:
    fake_lmms.register()
    fake_lmms.FakeSimple.calls.clear()
    fake_lmms.FakeSimple.inits.clear()


@pytest.mark.parametrize("chat", [False, True])
def test_lmms_models_get_our_prompts_images_and_settings(
    tmp_path: Path, task_dir: Path, fake_models: None, bridge_registered: None, chat: bool
) -> None:
    args: dict[str, Any] = {"model_args": "pretrained=weights,flag=true", "force_simple": not chat}
    model = ModelSpec(f"lmms:{fake_lmms.NAME}", args=args, batch_size=4, device="cpu")
    _, samples, runs = run(tmp_path, model, {"include_path": str(task_dir)}, batch_size=4)
    [init] = fake_lmms.FakeSimple.inits
    assert init == {
        "pretrained": "weights",
        "batch_size": 4,
        "device": "cpu",
        "device_map": "cpu",
        "flag": True,
    }
    calls = fake_lmms.FakeSimple.calls
    prompts = list(samples["prompt"])
    assert [c["text"] for c in calls] == prompts
    assert all(
        c["gen"]
        == {"max_new_tokens": 16, "temperature": 0.0, "do_sample": False, "until": ["\n\n"]}
        for c in calls
    )
    task = LmmsTask(TASK, str(task_dir))
    for call, sample in zip(calls, task.samples(), strict=True):
        [img] = call["images"]
        assert img.tobytes() == sample.images[0].load().tobytes()
    # each answer came back to its own sample
    assert list(samples["prediction"]) == [f"{p.split()[0]}|1|(32, 24)" for p in prompts]
    assert list(samples["input_tokens"].fillna(-1)) == [7.0 if chat else -1.0] * 6
    identity = json.loads(runs.loc[0, "model_identity"])
    assert identity["model"] == fake_lmms.NAME and identity["bridge"] == "lmms-eval"
    assert identity["class"].endswith("FakeChat" if chat else "FakeSimple")
    assert identity["model_args"] == {"flag": "True", "pretrained": "weights"}
    # its kind and size are display info, not part of the key; the fake has no torch module
    assert not {"family_group", "params"} & set(identity)
    assert runs.loc[0, "model_family"] == "generative" and math.isnan(runs.loc[0, "model_params"])


def test_lmms_model_settings_are_checked(fake_models: None) -> None:
    with pytest.raises(LmmsBridgeError, match="Did you mean 'qwen2_vl'"):
        LmmsModel(ModelSpec("lmms", args={"model": "qwen2vl"}))
    with pytest.raises(LmmsBridgeError, match="needs an lmms-eval model name"):
        LmmsModel(ModelSpec("lmms"))
    with pytest.raises(
        LmmsBridgeError, match=r"unknown args 'modle_args' \(did you mean 'model_args'\?\)"
    ):
        LmmsModel(ModelSpec("lmms", args={"model": fake_lmms.NAME, "modle_args": ""}))
    with pytest.raises(LmmsBridgeError, match="failed to load"):
        LmmsModel(ModelSpec("lmms", args={"model": fake_lmms.NAME, "model_args": "nope=1"}))
    with pytest.raises(LmmsBridgeError, match=r"model.args.model='other'"):
        LmmsModel.for_name(fake_lmms.NAME)(ModelSpec("lmms", args={"model": "other"}))


def test_rescore_rebuilds_the_task_from_its_stored_settings(
    tmp_path: Path, table_model: None, bridge_registered: None, spoil_scores: Any
) -> None:
    from evalharness.runner.rescore import rescore

    k = [0, 3, 10, 1]
    data = write_vqa(
        tmp_path / "vqa.parquet", [answers_matching("blue", n, i) for i, n in enumerate(k)]
    )
    write_task(tmp_path / "tasks", TASK, data)  # a task only its include_path knows
    model = ModelSpec("table", args={"answers": {str(i): "Blue." for i in range(4)}})
    _, before, runs = run(tmp_path, model, {"include_path": str(tmp_path / "tasks")})
    spoil_scores(tmp_path / "results")

    assert rescore(tmp_path / "results") == 1
    after = load_samples(tmp_path / "results").sort_values("sample_id", key=lambda s: s.astype(int))
    assert list(after["score"]) == pytest.approx([vqa_accuracy(n) for n in k])
    assert list(after["metric_exact_match"]) == list(before["metric_exact_match"])
    assert load_runs(tmp_path / "results").loc[0, "score"] == pytest.approx(runs.loc[0, "score"])
