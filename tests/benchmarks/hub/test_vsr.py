"""VSR's official reading (TRI-ML/vlm-evaluation's: first-token probabilities of "True" and
"False", accuracy, ROC-AUC and PR-AUC) against the scorer's own outputs, and both readings
through runs, rescore and the board."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from repo_paths import GOLDEN

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub.vsr import VSR
from evalharness.benchmarks.protocols import PREFIX, protocol_aggregates
from evalharness.metrics import true_false_pair, vsr_official_aggregates, vsr_says_true
from evalharness.stats import estimate
from evalharness.types import FirstTokens, Prediction, Sample

from .fixtures import run
from .test_yes_no import vsr_copy

GOLDEN = json.loads((GOLDEN / "vsr.json").read_text())
ONE_CLASS = "roc_auc_score needs both true and false captions"


def item(i: int, is_true: bool) -> Sample:
    return Sample(
        f"{i:05d}", (), "q", targets=("true" if is_true else "false",), group=f"g{i}",
        category="on", first_token_words=("True", "False"),
    )  # fmt: skip


def answered(i: int, pair: list[float], is_true: bool, text: str = "True") -> Answered:
    probs = {"True": pair[0], "False": pair[1]}
    return Answered(
        item(i, is_true), Prediction(text=text, first_tokens=FirstTokens(probs)), "open"
    )


def test_each_pairs_verdict_is_the_scorers() -> None:
    cases = GOLDEN["cases"]
    assert len(cases) >= 100
    for c in cases:
        pair, label = c["true_false_probabilities"], c["ground_truth_answer"]
        assert float(vsr_says_true(*pair) == label) == c["official"], c
    ties = [c for c in cases if c["true_false_probabilities"] == [0.5, 0.5]]
    assert [c["official"] for c in ties] == [1.0, 0.0]  # a tie is "True"


def golden_frame(examples: list[dict[str, Any]]) -> pd.DataFrame:
    """The official reading's columns from the pairs as the scorer got them."""
    rows = []
    for i, e in enumerate(examples):
        (p_true, p_false), label = e["true_false_probabilities"], e["ground_truth_answer"]
        correct = float(vsr_says_true(p_true, p_false) == label)
        rows.append({"official": correct, PREFIX + "p_true": p_true, PREFIX + "is_true": label})
        rows[-1]["group"] = str(i)
    return pd.DataFrame(rows).astype({PREFIX + "is_true": float})


def test_accuracy_roc_auc_and_pr_auc_are_the_scorers_on_every_recorded_run() -> None:
    runs = GOLDEN["runs"]
    assert sum(len(r["examples"]) for r in runs) >= 400
    for r in runs:
        est = estimate(golden_frame(r["examples"]), vsr_official_aggregates(PREFIX), resamples=50)
        official = r["official"]
        if "raises" in official:  # the scorer fails: NaN with the reason, the accuracy kept
            assert official["raises"].startswith("ValueError: Only one class present in y_true")
            for name in ("official/roc_auc", "official/pr_auc"):
                assert math.isnan(est[name].value) and ONE_CLASS in est[name].note, r["name"]
            assert math.isfinite(est["official"].value)
            continue
        assert est["official"].value == pytest.approx(official["accuracy"], abs=1e-12), r["name"]
        assert est["official/roc_auc"].value == pytest.approx(official["roc_auc"], abs=1e-12)
        assert est["official/pr_auc"].value == pytest.approx(official["pr_auc"], abs=1e-12)
        assert est["official/roc_auc"].ci_low <= est["official/roc_auc"].value
    names = {r["name"] for r in runs}
    assert {"every pair a tie", "only true captions", "one caption"} <= names


def test_the_benchmark_reads_the_recorded_runs_as_the_scorer() -> None:
    bench = VSR()
    for r in GOLDEN["runs"]:
        pairs = [e["true_false_probabilities"] for e in r["examples"]]
        if any(abs(sum(p) - 1) > 1e-6 for p in pairs) or "raises" in r["official"]:
            continue  # pairs the wrappers never give (0 and 0, 0.3 and 0.3): see the next test
        done = [
            answered(i, p, e["ground_truth_answer"])
            for i, (p, e) in enumerate(zip(pairs, r["examples"], strict=True))
        ]
        rows = []
        for a, sc in zip(done, bench.score(done), strict=True):
            rows.append({"score": sc.score, "group": a.sample.group, **sc.metrics})
        est = estimate(pd.DataFrame(rows), protocol_aggregates(bench, [a.sample for a in done]))
        for name, key in (("official", "accuracy"), ("official/roc_auc", "roc_auc")):
            assert est[name].value == pytest.approx(r["official"][key], abs=1e-12), r["name"]
        assert est["official/pr_auc"].value == pytest.approx(r["official"]["pr_auc"], abs=1e-12)
        assert est["robust"].value == sum(a.sample.target == "true" for a in done) / len(done)


def test_the_pair_is_normalised_and_a_sample_without_one_has_no_official_reading() -> None:
    assert true_false_pair({"True": 0.3, "False": 0.1}) == pytest.approx((0.75, 0.25))
    assert true_false_pair({"True": 0.0, "False": 0.0}) is None  # the wrappers' 0 / 0
    assert true_false_pair({"True": 0.4, "False": None}) is None
    assert true_false_pair(None) is None
    bench = VSR()
    right, tie, missing, failed = bench.score(
        [
            answered(0, [0.02, 0.01], True, text="False"),  # the reply is not read officially
            answered(1, [0.2, 0.2], False),
            Answered(item(2, True), Prediction(text="True"), "open"),
            Answered(item(3, True), Prediction(error="RuntimeError: boom"), "open"),
        ]
    )
    assert right.metrics["official"] == 1.0 and right.metrics["robust"] == 0.0
    assert right.metrics[PREFIX + "p_true"] == pytest.approx(2 / 3)
    assert tie.metrics["official"] == 0.0  # a tie reads "True"
    assert math.isnan(missing.metrics["official"]) and missing.metrics["robust"] == 1.0
    assert math.isnan(missing.score)  # the headline is the official reading
    assert failed.metrics["official"] == 0.0 and failed.metrics["robust"] == 0.0


def test_one_prompt_for_both_readings_and_the_robust_headline_on_request() -> None:
    official, robust = VSR(), VSR(protocol="robust")
    assert official.headline == "official" and robust.headline == "robust"
    [a] = [answered(0, [0.9, 0.1], True, text="False.")]
    assert official.score([a])[0].score == 1.0 and robust.score([a])[0].score == 0.0
    assert official.template.startswith('Based on the image, is this statement "True" or "False"?')


def vsr_run(tmp_path: Path, **model_args: Any) -> tuple[Any, pd.DataFrame, Path]:
    jsonl, images = vsr_copy(tmp_path)
    args = {"data_files": str(jsonl), "image_root": str(images)}
    result, rows = run(tmp_path, "vsr", args, model="table", **model_args)
    return result, rows, next(tmp_path.glob("results-table-*"))


FIRST = {  # labels: true, false, true
    "00000": {"True": 0.6, "False": 0.2},  # True: right
    "00001": {"True": 0.1, "False": 0.05},  # True: wrong
    "00002": {"True": 0.3, "False": 0.3},  # a tie, True: right
}


def test_a_run_stores_the_probabilities_both_readings_and_the_aucs(tmp_path: Path) -> None:
    answers = {"00000": "True", "00001": "False", "00002": "I cannot tell."}
    result, rows, _ = vsr_run(tmp_path, answers=answers, first_tokens=FIRST)
    stored = {i: json.loads(v) for i, v in rows["first_tokens"].items()}
    assert stored["00001"] == {"probs": {"True": 0.1, "False": 0.05}}
    assert rows["metric_official"].tolist() == [1.0, 0.0, 1.0]
    assert rows["metric_robust"].tolist() == [1.0, 1.0, 0.0]
    assert rows["score"].tolist() == rows["metric_official"].tolist()
    assert rows[f"metric_{PREFIX}p_true"].tolist() == pytest.approx([0.75, 2 / 3, 0.5])
    m = result.metrics
    assert m["official"].value == pytest.approx(2 / 3) and m["score"] == m["official"]
    # p_true 0.75 and 0.5 for the true captions, 2/3 for the false one: one pair of two ranked right
    assert m["official/roc_auc"].value == pytest.approx(0.5)
    assert m["official/pr_auc"].value == pytest.approx((1 + 2 / 3) / 2)


def test_rescore_reads_the_stored_probabilities_without_the_model(tmp_path: Path) -> None:
    from evalharness.runner.rescore import rescore
    from evalharness.store import ResultsStore, load_runs, load_samples

    _, _, results = vsr_run(tmp_path, default="True", first_tokens=FIRST)
    store = ResultsStore(results)
    [row] = load_runs(results).to_dict("records")
    store.write_run({**row, "benchmark_version": "1+00000000", "score": 0.0, "metrics": "{}"})
    frame = store.read_samples(row["run_id"])
    store.compact(row["run_id"], frame.drop(columns=[c for c in frame if c.startswith("metric_")]))
    assert rescore(results) == 1
    [after] = load_runs(results).to_dict("records")
    metrics = json.loads(after["metrics"])
    assert after["score"] == pytest.approx(2 / 3)
    assert metrics["official/roc_auc"]["value"] == pytest.approx(0.5)
    assert load_samples(results)["metric_official"].tolist() == [1.0, 0.0, 1.0]


def test_one_class_only_gives_nan_aucs_with_the_reason_on_the_board(tmp_path: Path) -> None:
    from evalharness.leaderboard import build_site

    first = {k: v for k, v in FIRST.items() if k != "00001"}  # only the true captions
    result, _, results = vsr_run(tmp_path, default="True", first_tokens=first)
    assert result.metrics["official"].value == 1.0 and result.metrics["official"].n == 2
    auc = result.metrics["official/roc_auc"]
    assert auc.value != auc.value and ONE_CLASS in auc.note
    site = build_site(results, tmp_path / "site", title="t")
    page = next((site.parent / "benchmarks").glob("vsr*.html")).read_text()
    assert ONE_CLASS in page


def test_a_tiny_generative_model_stores_real_probabilities_and_both_readings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_first_tokens import plain_forward

    from evalharness.models.base import ModelSpec
    from evalharness.models.hf import tiny_llava
    from evalharness.types import GenerationSettings, Request

    monkeypatch.setenv("EVALHARNESS_CACHE", str(tmp_path / "cache"))
    jsonl, images = vsr_copy(tmp_path)
    args = {"data_files": str(jsonl), "image_root": str(images)}
    result, rows = run(tmp_path, "vsr", args, model="tiny_llava")
    assert set(result.metrics) >= {"official", "robust", "official/roc_auc", "official/pr_auc"}
    assert rows["error"].isna().all() and rows["prediction"].map(type).eq(str).all()
    model = tiny_llava(ModelSpec(name="tiny_llava"))
    for sample_id, row in rows.iterrows():
        probs = json.loads(row["first_tokens"])["probs"]
        image = Image.open(images / json.loads(row["metadata"])["image_file"])
        sample = Sample(str(sample_id), (), row["prompt"], first_token_words=("True", "False"))
        asked = Request(
            sample, (image,), row["prompt"], "generate", GenerationSettings(),
            first_token_words=("True", "False"),
        )  # fmt: skip
        want = plain_forward(model, asked)  # one forward pass, unpadded, outside the run
        assert [probs["True"], probs["False"]] == pytest.approx(
            [want["True"], want["False"]], rel=1e-4
        )
        p_true = probs["True"] / (probs["True"] + probs["False"])
        assert row[f"metric_{PREFIX}p_true"] == pytest.approx(p_true)
        said_true = probs["True"] >= probs["False"]
        assert row["metric_official"] == float(said_true == (row["target"] == "true"))
        assert row["metric_robust"] in (0.0, 1.0) and row["score"] == row["metric_official"]


def test_a_judges_reading_of_the_reply_leaves_the_first_token_reading_alone() -> None:
    from evalharness.judge._judge import Verdict
    from evalharness.judge._review import _read

    unread = answered(0, [0.9, 0.1], True, text="Hard to say from here.")
    scored = _read(VSR(), unread, Verdict(answer="false", reply="false", prompt_hash="h"))
    assert scored is not None and scored.extracted == "false"
    assert scored.metrics["robust"] == 0.0 and scored.metrics["official"] == 1.0
