"""The multiple-choice adapters against golden cases from the official evaluation code.

`golden/vlmevalkit_mcq.json` holds what VLMEvalKit's own code (its prompt, `build_prompt`, and
exact matching: `can_infer`, `mcq_circular_eval`, `mcq_vanilla_eval`, `report_acc`; repository,
commit and paths in the file) gave on generated replies, adversarial ones included, and on a generated MMBench-style
set with rotated copies. `golden/lmms_eval_realworldqa.json` holds lmms-eval's RealWorldQA
`process_results` on generated replies. The adapters' official numbers must agree exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evalharness.benchmarks.hub._choice import vlmevalkit_prompt
from evalharness.metrics import vlmevalkit_letter
from evalharness.types import LETTERS, FileImage

from .fixtures import adapter, image_cell, run, write_parquet

GOLDEN = Path(__file__).parent / "golden"
VLMEVALKIT = json.loads((GOLDEN / "vlmevalkit_mcq.json").read_text())
LMMS = json.loads((GOLDEN / "lmms_eval_realworldqa.json").read_text())
MMB_ABBREVIATIONS = {  # how VLMEvalKit's report_acc names MMBench's ability groups
    "coarse_perception": "CP",
    "finegrained_perception (instance-level)": "FP-S",
    "finegrained_perception (cross-instance)": "FP-C",
    "logic_reasoning": "LR",
    "relation_reasoning": "RR",
    "attribute_reasoning": "AR",
}


def test_letters_as_vlmevalkit_reads_them() -> None:
    cases = VLMEVALKIT["letters"]
    assert len(cases) > 500
    wrong = [
        (c["reply"], c["letter"], got)
        for c in cases
        if (got := vlmevalkit_letter(c["reply"], c["options"])) != c["letter"]
    ]
    assert not wrong


def test_prompts_as_vlmevalkit_builds_them() -> None:
    cases = VLMEVALKIT["prompts"]
    assert len(cases) >= 50 and any(c["hint"] for c in cases)
    for c in cases:
        assert vlmevalkit_prompt(c["question"], c["options"], c["hint"]) == c["prompt"]


def test_realworldqa_scores_as_lmms_eval_does() -> None:
    bench = adapter("realworldqa")()
    cases = LMMS["realworldqa"]
    assert len(cases) > 500
    image = FileImage("unused.png")
    wrong = []
    for i, c in enumerate(cases):
        sample = bench.make_sample(i, {"question": c["question"], "answer": c["answer"]}, image)
        assert sample.error is None
        if bench.official_open(sample, c["reply"]).score != c["score"]:
            wrong.append((c["reply"], c["answer"], c["score"]))
    assert not wrong


def mmbench_copy(root: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    from datasets import Image, Value

    columns = ["index", "question", "hint", *"ABCD", "answer", "category", "L2-category"]
    table: dict[str, list[Any]] = {c: [] for c in [*columns, "image"]}
    for r in rows:
        for c in columns:
            table[c].append({"hint": None, "L2-category": r["l2-category"]}.get(c, r.get(c)))
        table["image"].append(image_cell(r["index"] % 1_000_000))
    features = {c: Value("string") for c in columns} | {"index": Value("int64"), "image": Image()}
    file = write_parquet(root / "mmbench" / "dev.parquet", table, features)
    return {"data_files": {"dev": str(file)}}


def test_mmbench_numbers_equal_vlmevalkit_circular_and_vanilla(tmp_path: Path) -> None:
    golden = VLMEVALKIT["mmbench"]
    rows = golden["rows"]
    answers = {str(r["index"]): r["prediction"] for r in rows}
    result, _ = run(tmp_path, "mmbench", mmbench_copy(tmp_path, rows), "table", answers=answers)
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["score"] == pytest.approx(golden["circular"]["Overall"], abs=1e-12)
    assert m["vanilla"] == pytest.approx(golden["vanilla"]["Overall"], abs=1e-12)
    assert m["all_rows"] == pytest.approx(golden["all_rows"]["Overall"], abs=1e-12)
    categories = {r["category"] for r in rows}
    groups = {r["l2-category"] for r in rows}
    for cat in categories:
        assert m[f"score[{cat}]"] == pytest.approx(golden["circular"][cat], abs=1e-12)
    for group in groups:
        official = golden["circular"][MMB_ABBREVIATIONS[group]]
        assert m[f"l2[{group}]"] == pytest.approx(official, abs=1e-12)


# The other adapters read replies the same way (vanilla evaluation): the first copies of the
# golden set, written in each one's own schema.


def _ai2d(r: dict[str, Any], opts: list[str]) -> dict[str, Any]:
    return {"question": r["question"], "options": opts, "answer": str(LETTERS.index(r["answer"]))}


def _scienceqa(r: dict[str, Any], opts: list[str]) -> dict[str, Any]:
    return {
        "question": r["question"],
        "choices": opts,
        "answer": LETTERS.index(r["answer"]),
        "hint": "",
        "subject": r["category"],
    }


def _seed(r: dict[str, Any], opts: list[str]) -> dict[str, Any]:
    padded = [*opts, *["-"] * (4 - len(opts))]
    return {
        "question": r["question"],
        **{f"choice_{c}": padded[i] for i, c in enumerate("abcd")},
        "answer": r["answer"],
        "question_id": str(r["index"]),
        "question_type_id": 1,
        "data_type": "image",
    }


def _mmstar(r: dict[str, Any], opts: list[str]) -> dict[str, Any]:
    listed = ", ".join(f"{LETTERS[i]}: {o}" for i, o in enumerate(opts))
    return {
        "index": r["index"],
        "question": f"{r['question']}\nOptions: {listed}",
        "answer": r["answer"],
        "category": r["category"],
        "l2_category": r["l2-category"],
    }


SCHEMAS: dict[str, tuple[Callable[[dict[str, Any], list[str]], dict[str, Any]], str]] = {
    "ai2d": (_ai2d, "{row:05d}"),
    "scienceqa_img": (_scienceqa, "{row:05d}"),
    "seedbench_img": (_seed, "{index}"),
    "mmstar": (_mmstar, "{index}"),
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_vanilla_accuracy_equals_vlmevalkit(name: str, tmp_path: Path) -> None:
    from datasets import Dataset, Image, List

    make, key = SCHEMAS[name]
    firsts = [r for r in VLMEVALKIT["mmbench"]["rows"] if r["index"] < 1_000_000]
    if name == "seedbench_img":  # four options each: keep the items with four
        firsts = [r for r in firsts if r["D"] is not None]
    table = [
        make(r, [r[c] for c in "ABCD" if r[c] is not None]) | {"image": image_cell(i)}
        for i, r in enumerate(firsts)
    ]
    columns = {c: [t[c] for t in table] for c in table[0]}
    features = Dataset.from_list([{k: v for k, v in t.items() if k != "image"} for t in table])
    feats = dict(features.features) | {"image": Image()}
    if name == "seedbench_img":
        columns["image"] = [[cell] for cell in columns["image"]]
        feats["image"] = List(Image())
    file = write_parquet(tmp_path / name / "test.parquet", columns, feats)
    answers = {key.format(row=i, index=r["index"]): r["prediction"] for i, r in enumerate(firsts)}
    result, stored = run(tmp_path, name, {"data_files": str(file)}, "table", answers=answers)
    assert result.n_errors == 0 and len(stored) == len(firsts)
    if name == "seedbench_img":  # a subset of the golden items: VLMEvalKit's rule, item by item
        expected = sum(
            vlmevalkit_letter(r["prediction"], {c: r[c] for c in "ABCD"}) == r["answer"]
            for r in firsts
        ) / len(firsts)
    else:
        expected = VLMEVALKIT["mmbench"]["vanilla"]["Overall"]
    assert result.metrics["score"].value == pytest.approx(expected, abs=1e-12)
