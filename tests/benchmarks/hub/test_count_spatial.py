"""CountBenchQA, CV-Bench (count and relation) and What'sUp end to end on tiny copies in their
own schemas."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .fixtures import image_cell, png, run, write_parquet


def test_countbenchqa_exact_count_and_error(tmp_path: Path) -> None:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "image": [image_cell(i) for i in range(3)],
        "text": ["Three red apples", "Two kittens", "Five pencils on a desk"],
        "number": [3, 2, 5],
        "question": [
            "How many apples are in the image?",
            "How many kittens are there?",
            "How many pencils are in the image?",
        ],
    }
    features = {
        "image": Image(),
        "text": Value("string"),
        "number": Value("int64"),
        "question": Value("string"),
    }
    file = write_parquet(tmp_path / "cb" / "data" / "test-00000-of-00001.parquet", rows, features)
    oracle, stored = run(tmp_path, "countbenchqa", {"path": str(tmp_path / "cb")})
    assert oracle.metrics["score"].value == 1.0 and oracle.metrics["mean_abs_error"].value == 0.0
    assert stored.loc["0000", "prompt"] == (
        "Look at the image carefully and count the objects. Answer with just a number, without "
        "any additional text. How many apples are in the image?"
    )
    answers = {"0000": "There are three apples.", "0001": "5", "0002": "many"}
    result, stored = run(
        tmp_path, "countbenchqa", {"data_files": str(file)}, model="table", answers=answers
    )
    # our reading finds the count in a sentence; the reference script's exact match does not
    assert stored["metric_robust"].tolist() == [1.0, 0.0, 0.0]
    assert result.metrics["robust"].value == pytest.approx(1 / 3)
    assert stored["score"].tolist() == stored["metric_official"].tolist() == [0.0, 0.0, 0.0]
    assert result.metrics["score"].value == result.metrics["official"].value == 0.0
    # "many" is no number: wrong, and left out of the error mean: (0 + 3) / 2
    assert result.metrics["mean_abs_error"].value == pytest.approx(1.5)
    assert pd.isna(stored.loc["0002", "extracted"])


def _write_cvbench(path: Path, rows: dict[str, list[Any]]) -> Path:
    """CV-Bench's parquet schema: `rows` with its object-detection columns, all null here."""
    from datasets import Image, Value

    n = len(rows["idx"])
    rows = {**rows, "target_class": [None] * n, "target_size": [None] * n, "bbox": [None] * n}
    features = {k: Value("string") for k in rows} | {
        "idx": Value("int32"),
        "image": Image(),
        "choices": [Value("string")],
        "target_size": Value("int32"),
        "bbox": [[Value("float32")]],
    }
    return write_parquet(path, rows, features)


def cvbench_file(root: Path) -> Path:
    items = [  # (task, source, choices, answer)
        ("Count", "ADE20K", ["3", "2", "1", "0"], "(B)"),
        ("Count", "ADE20K", ["4", "5", "6", "3"], "(D)"),
        ("Count", "COCO", ["1", "2", "3", "4"], "(A)"),
        ("Relation", "COCO", ["left", "right"], "(B)"),
        ("Relation", "ADE20K", ["above", "below"], "(A)"),
    ]
    rows: dict[str, list[Any]] = {
        "idx": list(range(5)),
        "type": ["2D"] * 5,
        "task": [t for t, *_ in items],
        "image": [image_cell(i) for i in range(5)],
        "question": ["How many chairs are in the image?"] * 3
        + ["Where is the cup located with respect to the plate?"] * 2,
        "choices": [c for *_, c, _ in items],
        "answer": [a for *_, a in items],
        "prompt": ["(pre-formatted question and options)"] * 5,
        "filename": [f"img/2D/x/{i}.png" for i in range(5)],
        "source": [s for _, s, *_ in items],
        "source_dataset": ["ADE20K val"] * 5,
        "source_filename": [f"{i}.jpg" for i in range(5)],
    }
    return _write_cvbench(root / "cvbench" / "test_2d.parquet", rows)


def test_cvbench_count_and_relation_subsets(tmp_path: Path) -> None:
    file = cvbench_file(tmp_path)
    oracle, stored = run(tmp_path, "cvbench_count", {"data_files": str(file)})
    assert sorted(stored.index) == ["0", "1", "2"] and oracle.metrics["score"].value == 1.0
    assert stored.loc["0", "target"] == "2" and stored.loc["0", "form"] == "choice"

    answers = {"0": "B", "1": "(A)", "2": "The answer is A."}
    result, _ = run(
        tmp_path, "cvbench_count", {"data_files": str(file)}, model="table", answers=answers
    )
    m = {k: v.value for k, v in result.metrics.items()}
    # ADE20K 1 of 2 right, COCO 1 of 1: officially the card's 2D accuracy, the mean of the
    # source accuracies (0.5 + 1) / 2; robustly the accuracy over the items, 2/3
    assert m["official"] == pytest.approx(0.75) and m["score"] == m["official"]
    assert m["robust"] == pytest.approx(2 / 3)
    assert m["score[ADE20K]"] == pytest.approx(0.5) and m["score[COCO]"] == 1.0
    assert m["accuracy_2d"] == pytest.approx(0.75)
    robust, _ = run(
        tmp_path,
        "cvbench_count",
        {"data_files": str(file), "protocol": "robust"},
        model="table",
        answers=answers,
    )
    assert robust.metrics["score"].value == pytest.approx(2 / 3)

    # a generative model reads the options as letters: A. left / B. right
    rel, stored = run(
        tmp_path,
        "cvbench_relation",
        {"data_files": str(file)},
        model="table",
        answers={"3": "B. right", "4": "B"},
    )
    assert sorted(stored.index) == ["3", "4"]
    assert stored.loc["3", "prompt"] == (
        "Where is the cup located with respect to the plate?\nA. left\nB. right\n"
        "Answer with the option's letter."
    )
    assert rel.metrics["accuracy_2d"].value == 0.5 and rel.metrics["robust"].value == 0.5
    # COCO 1 of 1, ADE20K 0 of 1: (1 + 0) / 2 officially, the same as 1 of 2 here
    assert rel.metrics["score"].value == rel.metrics["official"].value == 0.5
    assert stored["metric_official"].tolist() == stored["metric_robust"].tolist() == [1.0, 0.0]


def test_cvbench_2d_task_without_one_of_its_sources_is_nan_officially(tmp_path: Path) -> None:
    # the first two items: both ADE20K. The card's COCO accuracy is a mean of no rows (NaN),
    # and so is its 2D accuracy; ours is the accuracy over the items
    file = cvbench_file(tmp_path)
    args = {"data_files": str(file), "n": 2}
    result, stored = run(tmp_path, "cvbench_count", args, model="table", answers={"0": "B"})
    assert sorted(stored.index) == ["0", "1"]
    official = result.metrics["official"]
    assert math.isnan(official.value) and "has no items" in official.note
    assert result.metrics["robust"].value == 0.5 and math.isnan(result.metrics["score"].value)


def cvbench_3d_file(root: Path) -> Path:
    items = [  # (idx, task, answer): two options each, Omni3D
        (5, "Depth", "(A)"),
        (6, "Depth", "(B)"),
        (7, "Distance", "(A)"),
        (8, "Distance", "(A)"),
    ]
    rows: dict[str, list[Any]] = {
        "idx": [i for i, *_ in items],
        "type": ["3D"] * 4,
        "task": [t for _, t, _ in items],
        "image": [image_cell(i) for i, *_ in items],
        "question": ["Which is closer to the camera?"] * 2 + ["Which is closer to the lamp?"] * 2,
        "choices": [["the chair", "the table"]] * 4,
        "answer": [a for *_, a in items],
        "prompt": ["(pre-formatted question and options)"] * 4,
        "filename": [f"img/3D/x/{i}.png" for i, *_ in items],
        "source": ["Omni3D"] * 4,
        "source_dataset": ["SUN-RGBD"] * 4,
        "source_filename": [f"{i}.jpg" for i, *_ in items],
    }
    return _write_cvbench(root / "cvbench" / "test_3d.parquet", rows)


def test_cvbench_3d_tasks_and_the_official_overall(tmp_path: Path) -> None:
    two_d, three_d = cvbench_file(tmp_path), cvbench_3d_file(tmp_path)
    depth, stored = run(tmp_path, "cvbench_depth", {"data_files": str(three_d)})
    assert sorted(stored.index) == ["5", "6"] and depth.metrics["score"].value == 1.0
    dist, stored = run(tmp_path, "cvbench_distance", {"data_files": str(three_d)})
    assert sorted(stored.index) == ["7", "8"] and dist.metrics["score"].value == 1.0
    # a 3D task's official number is its Omni3D accuracy: the accuracy over its items
    args = {"data_files": str(three_d)}
    for name, right in (("cvbench_depth", 0.5), ("cvbench_distance", 1.0)):  # all answer A
        one, _ = run(tmp_path, name, args, model="table", default="A")
        m = {k: v.value for k, v in one.metrics.items()}
        assert m["official"] == m["robust"] == m["score"] == right

    # right: ADE20K 0 (of 0, 1, 4), COCO 2 and 3 (of 2, 3), Omni3D 5 (of 5 to 8; 8 answers "B")
    answers = {"0": "B", "1": "A", "4": "B", "2": "A", "3": "B", "5": "A", "6": "A", "7": "B"}
    files = [str(two_d), str(three_d)]
    result, stored = run(
        tmp_path, "cvbench", {"data_files": files}, model="table", answers=answers, default="B"
    )
    assert len(stored) == 9
    m = {k: v.value for k, v in result.metrics.items()}
    ade, coco, omni = 1 / 3, 1.0, 1 / 4
    assert m["accuracy_2d"] == pytest.approx((ade + coco) / 2)
    assert m["accuracy_3d"] == pytest.approx(omni)
    assert m["official"] == pytest.approx(((ade + coco) / 2 + omni) / 2)  # the dataset card's
    assert m["robust"] == pytest.approx(4 / 9)  # accuracy over the items
    assert m["score"] == m["official"]


def whatsup_release(root: Path) -> Path:
    """The What'sUp release layout: data/controlled_images_dataset.json naming data/... paths."""
    data = root / "whatsup" / "data"
    (data / "controlled_images").mkdir(parents=True)
    items = []
    for i, (a, b) in enumerate([("mug", "table"), ("book", "chair"), ("cup", "box")]):
        name = f"{a}_on_{b}.jpeg"
        (data / "controlled_images" / name).write_bytes(png(i))
        items.append(
            {
                "image_path": f"data/controlled_images/{name}",
                "caption_options": [
                    f"A {a} on a {b}",
                    f"A {a} under a {b}",
                    f"A {a} to the left of a {b}",
                    f"A {a} to the right of a {b}",
                ],
            }
        )
    file = data / "controlled_images_dataset.json"
    file.write_text(json.dumps(items))
    return file


def test_whatsup_release_schema_with_shuffled_options(tmp_path: Path) -> None:
    file = whatsup_release(tmp_path)
    oracle, stored = run(tmp_path, "whatsup", {"path": str(file)})
    assert oracle.metrics["score"].value == 1.0
    targets = stored["target"].tolist()
    assert all(" on a " in t for t in targets)  # the first option of each item is the truth
    choices = [json.loads(c) for c in stored["choices"]]
    assert any(c[0] != t for c, t in zip(choices, targets, strict=True))  # not always option A
    # a model that always says "A" gets only the items whose truth was shuffled to A
    result, _ = run(tmp_path, "whatsup", {"path": str(file)}, model="table", default="A")
    firsts = sum(c[0] == t for c, t in zip(choices, targets, strict=True))
    assert result.metrics["score"].value == pytest.approx(firsts / 3)


def test_whatsup_without_a_path_says_where_to_get_it() -> None:
    from evalharness.benchmarks.hub import DatasetUnavailableError
    from evalharness.benchmarks.hub.whatsup import WhatsUp

    with pytest.raises(DatasetUnavailableError, match=r"benchmark\.args\.path=.*\.json"):
        WhatsUp().samples()
