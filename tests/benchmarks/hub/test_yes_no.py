"""POPE, HallusionBench and VSR end to end on tiny copies in their hub schemas; golden POPE and
HallusionBench aggregates from small hand-counted tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .fixtures import image_cell, png, run, write_jsonl, write_parquet


def pope_file(root: Path) -> Path:
    from datasets import Image, Value

    cats = ["adversarial", "adversarial", "adversarial", "random", "random"]
    rows: dict[str, list[Any]] = {
        "id": [str(i) for i in range(5)],
        "question_id": ["1", "2", "3", "1", "2"],  # restart per category, as in POPE's files
        "question": [f"Is there a {o} in the image?" for o in ("dog", "cat", "cup", "car", "kite")],
        "answer": ["yes", "yes", "no", "yes", "no"],
        "image_source": [
            "COCO_val2014_1",
            "COCO_val2014_1",
            "COCO_val2014_2",
            "COCO_val2014_3",
            "COCO_val2014_3",
        ],
        "image": [image_cell(i) for i in (0, 0, 1, 2, 2)],
        "category": cats,
    }
    features = {k: Value("string") for k in rows} | {"image": Image()}
    return write_parquet(root / "pope" / "test.parquet", rows, features)


def test_pope_confusion_table(tmp_path: Path) -> None:
    file = pope_file(tmp_path)
    oracle, _ = run(tmp_path, "pope", {"data_files": str(file)})
    assert oracle.metrics["accuracy"].value == oracle.metrics["f1"].value == 1.0

    answers = {
        "adversarial-1": "Yes, there is.",  # label yes → tp
        "adversarial-2": "No.",  # label yes → fn
        "adversarial-3": "Yes",  # label no  → fp
        "random-1": "I am not sure.",  # label yes, unreadable → fn, not a yes
        "random-2": "no",  # label no  → tn
    }
    result, rows = run(tmp_path, "pope", {"data_files": str(file)}, model="table", answers=answers)
    m = {k: v.value for k, v in result.metrics.items()}
    # tp=1 fp=1 fn=2 tn=1 over 5: accuracy 2/5, precision 1/2, recall 1/3,
    # F1 = 2·tp / (2·tp + fp + fn) = 2/5, yes-ratio 2/5
    assert m["accuracy"] == pytest.approx(0.4) and m["score"] == pytest.approx(0.4)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(0.4)
    assert m["yes_ratio"] == pytest.approx(0.4)
    # adversarial: tp=1 fp=1 fn=1 → precision 1/2, recall 1/2, F1 1/2, yes-ratio 2/3
    assert m["adversarial/f1"] == pytest.approx(0.5)
    assert m["adversarial/yes_ratio"] == pytest.approx(2 / 3)
    # random: tp=0 fn=1 tn=1 → accuracy 1/2, recall 0, precision undefined (no yes)
    assert m["random/accuracy"] == pytest.approx(0.5) and m["random/recall"] == 0.0
    assert m["random/precision"] != m["random/precision"]  # NaN
    assert pd.isna(rows.loc["random-1", "extracted"])
    assert rows.loc["adversarial-3", "prompt"].endswith("using a single word or phrase.")


def hallusion_file(root: Path) -> Path:
    from datasets import Image, Value

    # one VD set: figures 0 and 1, questions 0 and 1 on each; plus a VS question with no image
    keys = [
        ("VD", "0", "0"),
        ("VD", "0", "1"),
        ("VD", "1", "0"),
        ("VD", "1", "1"),
        ("VS", "0", "0"),
    ]
    rows: dict[str, list[Any]] = {
        "category": [k[0] for k in keys],
        "subcategory": ["illusion"] * 4 + ["chart"],
        "visual_input": ["1", "1", "2", "2", "0"],
        "set_id": ["0"] * 5,
        "figure_id": [k[1] for k in keys],
        "sample_note": ["note"] * 5,
        "question_id": [k[2] for k in keys],
        "question": ["Is the left line longer?", "Are the lines equal?"] * 2 + ["Is 2020 higher?"],
        "gt_answer_details": ["..."] * 5,
        "gt_answer": ["0", "1", "1", "0", "1"],
        "filename": ["a.png", "a.png", "b.png", "b.png", None],
        "image": [image_cell(0), image_cell(0), image_cell(1), image_cell(1), None],
    }
    features = {k: Value("string") for k in rows} | {"image": Image()}
    return write_parquet(root / "hb" / "image.parquet", rows, features)


def test_hallusionbench_question_and_figure_accuracy(tmp_path: Path) -> None:
    file = hallusion_file(tmp_path)
    oracle, rows = run(tmp_path, "hallusionbench", {"data_files": str(file), "split": "image"})
    assert len(rows) == 4  # the imageless VS question is skipped
    assert {oracle.metrics[k].value for k in ("score", "qAcc", "fAcc")} == {1.0}

    answers = {
        "VD_illusion_0_0_0": "No, they are equal.",  # right
        "VD_illusion_0_0_1": "Yes.",  # right
        "VD_illusion_0_1_0": "No.",  # wrong (truth: yes)
        "VD_illusion_0_1_1": "No",  # right
    }
    args = {"data_files": str(file), "split": "image"}
    result, _ = run(tmp_path, "hallusionbench", args, model="table", answers=answers)
    m = {k: v.value for k, v in result.metrics.items()}
    # aAcc 3/4; question 0 is wrong on figure 1, question 1 right on both → qAcc 1/2;
    # figure 0 all right, figure 1 has a wrong answer → fAcc 1/2
    assert m["score"] == pytest.approx(0.75)
    assert m["qAcc"] == pytest.approx(0.5)
    assert m["fAcc"] == pytest.approx(0.5)
    assert m["yes_ratio"] == pytest.approx(0.25)


def test_hallusionbench_can_ask_the_questions_without_an_image(tmp_path: Path) -> None:
    file = hallusion_file(tmp_path)
    args = {"data_files": str(file), "split": "image", "imageless": True}
    oracle, rows = run(tmp_path, "hallusionbench", args)
    assert len(rows) == 5 and rows["error"].isna().all()
    assert rows.loc["VS_chart_0_0_0", "image_ids"] == "[]"  # asked without one
    assert {oracle.metrics[k].value for k in ("score", "qAcc", "fAcc", "official/qAcc")} == {1.0}
    # an unsure reply to it is right officially (the script's judge says "uncertain"), wrong to us
    answers = {
        "VD_illusion_0_0_0": "No.",
        "VD_illusion_0_0_1": "Yes.",
        "VD_illusion_0_1_0": "Yes.",
        "VD_illusion_0_1_1": "No.",
        "VS_chart_0_0_0": "I cannot tell without the chart.",
    }
    result, rows = run(tmp_path, "hallusionbench", args, model="table", answers=answers)
    assert rows.loc["VS_chart_0_0_0", "metric_official"] == 1.0
    assert rows.loc["VS_chart_0_0_0", "metric_robust"] == 0.0
    assert result.metrics["official"].value == 1.0 and result.metrics["robust"].value == 0.8


def vsr_copy(root: Path) -> tuple[Path, Path]:
    """VSR as the hub ships it: test.jsonl naming COCO files, and the images in a folder."""
    images = root / "coco"
    for i, name in enumerate(("000000000001.jpg", "000000000002.jpg")):
        images.mkdir(parents=True, exist_ok=True)
        (images / name).write_bytes(png(i))
    rows = [
        {
            "image": "000000000001.jpg",
            "image_link": "http://x/1.jpg",
            "caption": "The cat is on the bed.",
            "label": 1,
            "relation": "on",
            "subj": "cat",
            "obj": "bed",
            "annotator_id": 1,
            "vote_true_validator_id": [2],
            "vote_false_validator_id": [],
        },
        {
            "image": "000000000001.jpg",
            "image_link": "http://x/1.jpg",
            "caption": "The cat is under the bed.",
            "label": 0,
            "relation": "under",
            "subj": "cat",
            "obj": "bed",
            "annotator_id": 1,
            "vote_true_validator_id": [],
            "vote_false_validator_id": [2],
        },
        {
            "image": "000000000002.jpg",
            "image_link": "http://x/2.jpg",
            "caption": "The dog is left of the car.",
            "label": 1,
            "relation": "left of",
            "subj": "dog",
            "obj": "car",
            "annotator_id": 3,
            "vote_true_validator_id": [1],
            "vote_false_validator_id": [],
        },
    ]
    return write_jsonl(root / "vsr" / "test.jsonl", rows), images


def test_vsr_reads_images_from_image_root(tmp_path: Path) -> None:
    jsonl, images = vsr_copy(tmp_path)
    args = {"data_files": str(jsonl), "image_root": str(images)}
    oracle, rows = run(tmp_path, "vsr", args)
    assert oracle.metrics["score"].value == 1.0 and oracle.metrics["robust"].value == 1.0
    assert rows.loc["00000", "prompt"] == (
        'Based on the image, is this statement "True" or "False"? The cat is on the bed.\n'
        'Respond with "True" or "False" directly.'
    )
    assert rows.loc["00001", "target"] == "false" and rows.loc["00001", "category"] == "under"
    # a model that gives no first-token probabilities: read robustly only
    result, rows = run(tmp_path, "vsr", args, model="table", default="False.")
    assert result.metrics["robust"].value == pytest.approx(1 / 3)
    assert rows["extracted"].tolist() == ["false"] * 3
    official = result.metrics["official"]
    assert official.value != official.value and "the model gives none" in official.note


def test_vsr_without_images_names_the_knob(tmp_path: Path) -> None:
    from evalharness.benchmarks.hub import DatasetUnavailableError
    from evalharness.benchmarks.hub.vsr import VSRZeroShot

    jsonl, images = vsr_copy(tmp_path)
    with pytest.raises(DatasetUnavailableError, match=r"ships none.*benchmark\.args\.image_root="):
        VSRZeroShot(data_files=str(jsonl)).samples()
    with pytest.raises(DatasetUnavailableError, match=r"'000000000001\.jpg' not found under"):
        VSRZeroShot(data_files=str(jsonl), image_root=str(tmp_path / "elsewhere")).samples()
    # image_root is a local folder, not content: it leaves the version alone
    a, b = VSRZeroShot(image_root=str(images)), VSRZeroShot(image_root="/other")
    assert a.version == b.version
