"""The official protocol against the official scripts' own outputs.

tests/golden/ holds adversarial cases (number words, punctuation, contractions, articles,
unanimous answers, empty replies, unicode, line breaks, …) with what each official script gave
for them, run on its code as published (the file names the repository, path and commit); the
project does not contain that code. The official readings must agree exactly (or within 1e-9).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from repo_paths import GOLDEN

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub.countbenchqa import CountBenchQA
from evalharness.benchmarks.hub.docvqa import DocVQA
from evalharness.benchmarks.hub.pope import POPE
from evalharness.benchmarks.hub.textvqa import TextVQA
from evalharness.benchmarks.hub.vqav2 import VQAv2
from evalharness.benchmarks.protocols import ProtocolError, protocol_aggregates
from evalharness.metrics import (
    docvqa_anls,
    pope_says_no,
    textvqa_accuracy,
    vqa_eval_accuracy,
)
from evalharness.stats import estimate
from evalharness.types import Prediction, Sample


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text())
    return data


def test_vqa_eval_accuracy_is_the_scripts_on_every_recorded_case() -> None:
    data = golden("vqa_eval")
    assert len(data["cases"]) >= 300
    got = [vqa_eval_accuracy(c["prediction"], c["answers"]) for c in data["cases"]]
    assert got == pytest.approx([c["official"] for c in data["cases"]], abs=1e-12)
    # the script's overall number: the mean ×100, rounded to two decimals
    assert round(100 * sum(got) / len(got), 2) == data["overall_percent"]
    # what the recorded cases cover: quirks that tell the script from our robust reading
    unanimous = [c for c in data["cases"] if len(set(c["answers"])) == 1]
    assert any(c["official"] == 0 and c["prediction"].lower() == c["answers"][0] for c in unanimous)


def test_textvqa_accuracy_is_mmfs_on_every_recorded_case() -> None:
    data = golden("textvqa_mmf")
    got = [textvqa_accuracy(c["prediction"], c["answers"]) for c in data["cases"]]
    assert got == pytest.approx([c["official"] for c in data["cases"]], abs=1e-12)
    assert sum(got) / len(got) == pytest.approx(data["overall"], abs=1e-12)
    assert math.isnan(textvqa_accuracy("a", ["a"] * 9))  # the evaluator asserts ten answers


def test_docvqa_anls_is_the_rrc_scripts_on_every_recorded_case() -> None:
    data = golden("docvqa_anls")
    got = [docvqa_anls(c["prediction"], c["answers"]) for c in data["cases"]]
    assert got == pytest.approx([c["official"] for c in data["cases"]], abs=1e-12)
    assert sum(got) / len(got) == pytest.approx(data["overall"], abs=1e-12)
    assert docvqa_anls("abxy", ["abcd"]) == 0.5  # kept at exactly one half
    assert docvqa_anls("  paris ", ["paris"]) == 1.0
    assert math.isnan(docvqa_anls("a", []))


def test_whatsup_official_accuracy_pairs_sets_and_ties_are_the_releases() -> None:
    from evalharness.benchmarks.hub.whatsup import WhatsUp, shuffled_order
    from evalharness.types import RenderedImage

    bench = WhatsUp(path="whatsup.json")
    image = RenderedImage("x", lambda: None)  # type: ignore[arg-type,return-value]
    for run in golden("whatsup")["runs"]:
        answered = []
        for i, (item, scores) in enumerate(zip(run["items"], run["scores"], strict=True)):
            s = bench.make_sample(i, item, image)
            order = shuffled_order(item["image_path"], len(scores))
            shown = [scores[order[j]] for j in range(len(scores))]
            answered.append(Answered(s, Prediction(choice_scores=shown), "choice"))
        frame = scored_frame(bench, answered)
        samples = [a.sample for a in answered]
        est = estimate(frame, protocol_aggregates(bench, samples), resamples=20)
        official = run["official"]
        assert est["official"].value * 100 == pytest.approx(official["Individual accuracy"])
        assert est["official/pair_accuracy"].value * 100 == pytest.approx(official["Pair accuracy"])
        assert est["official/set_accuracy"].value * 100 == pytest.approx(official["Set accuracy"])
        robust = estimate(frame, bench.aggregates(samples), resamples=20)
        assert set(robust) >= {"pair_accuracy", "set_accuracy"}
    # ties: all four captions scored alike go to the correct one officially only
    s = bench.make_sample(
        0, {"image_path": "a/mug_on_table.jpeg", "caption_options": list("wxyz")}, image
    )
    [row] = bench.score([Answered(s, Prediction(choice_scores=[0.5] * 4), "choice")])
    assert row.metrics["official"] == 1.0 and row.metrics["robust"] == float(s.target_index == 0)


def test_hallusionbench_official_aacc_qacc_facc_are_the_scripts() -> None:
    from evalharness.benchmarks.hub.hallusionbench import HallusionBench
    from evalharness.types import RenderedImage

    bench = HallusionBench(imageless=True)
    image = RenderedImage("x", lambda: None)  # type: ignore[arg-type,return-value]
    for run in golden("hallusionbench")["runs"]:
        answered = []
        for i, row in enumerate(run["rows"]):
            s = bench.make_sample(i, {**row, "question": "q?", "gt_answer_details": ""}, image)
            truth = "yes" if row["gt_answer"] == "1" else "no"
            reply = {"1": truth, "0": "no" if truth == "yes" else "yes", "2": "I cannot tell."}
            answered.append(Answered(s, Prediction(text=reply[row["judge"]]), "open"))
        frame = scored_frame(bench, answered)
        samples = [a.sample for a in answered]
        est = estimate(frame, protocol_aggregates(bench, samples), resamples=20)
        official = run["official"]
        assert est["official"].value == pytest.approx(official["aAcc"], abs=1e-12)
        assert est["official/qAcc"].value == pytest.approx(official["qAcc"], abs=1e-12)
        assert est["official/fAcc"].value == pytest.approx(official["fAcc"], abs=1e-12)
        assert all(
            a.sample.images == () for a in answered if a.sample.metadata["visual_input"] == "0"
        )


def sample(i: int, targets: tuple[str, ...], category: str = "c") -> Sample:
    return Sample(str(i), (), "q", targets=targets, category=category, group=str(i))


def scored_frame(bench: Any, answered: list[Answered]) -> pd.DataFrame:
    rows = []
    for a, sc in zip(answered, bench.score(answered), strict=True):
        rows.append({"score": sc.score, "category": a.sample.category, "group": a.sample.group})
        rows[-1].update(sc.metrics)
    return pd.DataFrame(rows)


def test_vqav2_scores_both_readings_and_headlines_the_official_one() -> None:
    data = golden("vqa_eval")["cases"][:60]
    for protocol, column in (("", "official"), ("official", "official"), ("robust", "robust")):
        bench = VQAv2(protocol=protocol)
        answered = [
            Answered(sample(i, tuple(c["answers"])), Prediction(text=c["prediction"]), "open")
            for i, c in enumerate(data)
        ]
        frame = scored_frame(bench, answered)
        assert frame["official"].tolist() == pytest.approx([c["official"] for c in data])
        assert frame["score"].tolist() == frame[column].tolist()
    assert (frame["robust"] != frame["official"]).any()  # the two readings differ somewhere
    assert VQAv2(protocol="robust").version != VQAv2().version


def test_pope_official_reading_is_the_scripts() -> None:
    data = golden("pope")
    for case in data["replies"]:
        assert pope_says_no(case["reply"]) == case["official_no"], case["reply"]


def test_pope_official_numbers_and_the_scripts_crashes() -> None:
    bench = POPE()
    for k, case in enumerate(golden("pope")["sets"]):
        answered = [
            Answered(sample(i, (label,)), Prediction(text=reply), "open")
            for i, (reply, label) in enumerate(zip(case["replies"], case["labels"], strict=True))
        ]
        frame = scored_frame(bench, answered)
        aggs = protocol_aggregates(bench, [a.sample for a in answered])
        est = estimate(frame, aggs, resamples=20)
        official = case["official"]
        for col in ("tp", "fp", "fn", "tn"):
            assert frame[f"official_{col}"].sum() == official[col]
        assert est["official"].value == pytest.approx(
            (official["tp"] + official["tn"]) / len(answered)
        )
        if "error" not in official:
            for name, key in (
                ("accuracy", "Accuracy"),
                ("precision", "Precision"),
                ("recall", "Recall"),
                ("f1", "F1 score"),
                ("yes_ratio", "Yes ratio"),
            ):
                assert est[f"official/{name}"].value == pytest.approx(official[key], abs=1e-9)
        else:  # the script raised ZeroDivisionError: NaN, with the reason, and no exception
            assert "ZeroDivisionError" in official["error"]
            undefined = [
                e for n, e in est.items() if n.startswith("official/") and math.isnan(e.value)
            ]
            assert undefined and all("divides by zero" in e.note for e in undefined), k
            assert all("note" in e.as_dict() for e in undefined)


def test_countbenchqa_official_is_the_reference_scripts_on_every_recorded_case() -> None:
    data = golden("countbenchqa")
    bench = CountBenchQA()
    got = [
        bench.official_open(sample(i, (str(c["number"]),)), c["reply"]).score
        for i, c in enumerate(data["cases"])
    ]
    assert got == [c["official"] for c in data["cases"]]
    assert 100 * sum(got) / len(got) == pytest.approx(data["accuracy_percent"])


def test_countbenchqa_official_is_exact_match_after_strip_and_lower() -> None:
    bench = CountBenchQA()
    s = sample(0, ("3",))
    readings = {"3": 1.0, " 3\n": 1.0, "Three": 0.0, "3.": 0.0, "There are 3.": 0.0, "": 0.0}
    for reply, expected in readings.items():
        assert bench.official_open(s, reply).score == expected
    [row] = bench.score([Answered(s, Prediction(text="There are 3."), "open")])
    assert row.metrics["robust"] == 1.0 and row.metrics["official"] == 0.0


@pytest.mark.parametrize("bench", [VQAv2, TextVQA, POPE, CountBenchQA, DocVQA])
def test_a_protocol_the_benchmark_lacks_is_one_line_naming_those_it_has(bench: Any) -> None:
    with pytest.raises(ProtocolError) as info:
        bench(protocol="strict")
    message = str(info.value)
    assert "\n" not in message and "'strict'" in message and "official, robust" in message


def test_a_benchmark_without_an_official_reading_has_only_the_robust_one() -> None:
    from evalharness.benchmarks.hub.coco_caption import COCOCaption

    assert COCOCaption().headline == "robust"
    assert COCOCaption(protocol="robust").headline == "robust"
    with pytest.raises(ProtocolError, match=r"it has: robust$"):
        COCOCaption(protocol="official")


def test_the_cli_refuses_an_undefined_protocol_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    args = ["model=oracle", "benchmark=pope", "benchmark.args.protocol=strict"]
    proc = subprocess.run(
        [sys.executable, "-m", "evalharness.cli.main", "run", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    said = [line for line in proc.stderr.splitlines() if line.strip()]
    assert said == [
        "error: oracle: pope has no 'strict' scoring protocol; it has: official, robust"
    ]
    assert "Traceback" not in proc.stderr + proc.stdout


def run_spec_of(*overrides: str) -> Any:
    from hydra import compose, initialize_config_dir

    from evalharness.cli.config import configs_dir, register_schemas
    from evalharness.cli.hydra_app import to_run_spec

    register_schemas()
    with initialize_config_dir(str(configs_dir()), version_base=None):
        cfg = compose("config", overrides=["model=oracle", *overrides])
    return to_run_spec(cfg)


def test_one_setting_picks_the_headline_of_every_benchmark_that_reads_twice() -> None:
    from evalharness.runner import JobError

    spec = run_spec_of("suite=hub", "protocol=robust", "+benchmark_args.pope.protocol=official")
    args = {b.name: dict(b.args) for b in spec.benchmarks}
    assert args["vqav2"]["protocol"] == "robust" and args["countbenchqa"]["protocol"] == "robust"
    assert args["pope"]["protocol"] == "official"  # a benchmark's own setting wins
    assert "protocol" not in args["coco_caption"]  # one reading only: nothing to choose
    assert args["cvbench_count"]["protocol"] == "robust"
    spec = run_spec_of("benchmark=synth_vqa", "protocol=official")
    assert "protocol" not in dict(spec.benchmarks[0].args)
    with pytest.raises(JobError, match="protocol is official or robust"):
        run_spec_of("benchmark=pope", "protocol=strict")


def test_listing_a_benchmark_names_its_official_script_and_quirks(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "evalharness.cli.main", "list", "vqav2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert (
        "official scoring: GT-Vision-Lab/VQA: PythonEvaluationTools/vqaEvaluation/vqaEval.py"
        in said
    )
    assert "normalises nothing when the ten answers agree" in said


@pytest.mark.parametrize("bench", [POPE(), VQAv2(), TextVQA(), CountBenchQA(), DocVQA()])
def test_a_failed_prediction_is_wrong_in_every_reading(bench: Any) -> None:
    # A failed prediction is no reply at all: the official scripts' reading of an empty reply
    # (POPE's "yes", say) must not credit a model for crashing.
    targets = ("yes",) if isinstance(bench, POPE) else ("2",)
    failed = Answered(sample(0, targets), Prediction(error="RuntimeError: out of memory"), "open")
    (scored,) = bench.score([failed])
    assert scored.score == 0.0 and scored.extracted is None
    assert scored.metrics["official"] == 0.0 and scored.metrics["robust"] == 0.0
    if isinstance(bench, POPE):  # no yes, and a miss where the object is there, in both readings
        for prefix in ("", "official_"):
            assert scored.metrics[prefix + "pred_yes"] == 0.0
            assert scored.metrics[prefix + "tp"] == 0.0 and scored.metrics[prefix + "fn"] == 1.0


def test_a_failed_prediction_is_wrong_in_hallusionbenchs_official_reading_too() -> None:
    from evalharness.benchmarks.hub.hallusionbench import HallusionBench

    meta = {
        "category": "VS", "subcategory": "s", "set_id": "0", "figure_id": "0",
        "question_id": "0", "visual_input": "0",
    }  # fmt: skip
    item = Sample("hb", (), "q", targets=("yes",), category="VS", group="g", metadata=meta)
    failed = Answered(item, Prediction(error="TimeoutError"), "open")
    unsure = Answered(item, Prediction(text="I cannot tell."), "open")
    bench = HallusionBench()
    assert bench.score([unsure])[0].metrics["official"] == 1.0  # the script's own quirk
    assert bench.score([failed])[0].metrics["official"] == 0.0  # but no reply is no answer
