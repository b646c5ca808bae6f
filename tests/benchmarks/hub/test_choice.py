"""The multiple-choice hub adapters (MMBench, MMStar, AI2D, ScienceQA-IMG, SEED-Bench,
RealWorldQA) end to end on tiny copies in their own schemas: official prompts and readings,
CircularEval, per-category accuracy, broken rows as recorded errors, and option log-likelihood."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .fixtures import adapter, image_cell, run, write_parquet

OPTIONS = ["a cat", "a dog", "a bird", "a fish"]


def rotations(options: list[str], answer: int) -> list[tuple[list[str], str]]:
    """Every rotation of the options with its answer letter, as MMBench ships its copies."""
    n = len(options)
    return [(options[k:] + options[:k], "ABCD"[(answer - k) % n]) for k in range(n)]


def mmbench_copy(root: Path) -> dict[str, Any]:
    """Adapter settings for a local copy (a file per split, as the hub's config "en" has)."""
    from datasets import Image, Value

    items: list[dict[str, Any]] = []
    for q, (opts, answer, cat, l2) in enumerate(
        [
            (OPTIONS, 1, "object_localization", "finegrained_perception (instance-level)"),
            (["yes", "no"], 0, "image_scene", "coarse_perception"),
        ],
        start=1,
    ):
        for k, (rotated, letter) in enumerate(rotations(opts, answer)):
            items.append(
                {
                    "index": q + k * 1_000_000,
                    "question": f"Question {q}?",
                    "hint": "A hint." if q == 1 else None,
                    **{c: (rotated[i] if i < len(rotated) else None) for i, c in enumerate("ABCD")},
                    "answer": letter,
                    "category": cat,
                    "L2-category": l2,
                    "image": image_cell(q),
                }
            )
    items.append({**items[-1], "index": 3, "image": None})  # a row without its image
    items.append({**items[0], "index": 4, "answer": "E"})  # an answer outside the options
    rows = {k: [it[k] for it in items] for k in items[0]}
    rows["source"] = ["src"] * len(items)
    rows["split"] = ["dev"] * len(items)
    rows["comment"] = [None] * len(items)
    features = {k: Value("string") for k in rows} | {"index": Value("int64"), "image": Image()}
    file = write_parquet(root / "mmbench" / "en" / "dev-00000-of-00001.parquet", rows, features)
    return {"data_files": {"dev": str(file)}}


def test_mmbench_circular_eval_single_pass_and_errors(tmp_path: Path) -> None:
    copy = mmbench_copy(tmp_path)
    oracle, stored = run(tmp_path, "mmbench", copy)
    assert stored.loc["1", "prompt"] == (
        "Hint: A hint.\nQuestion: Question 1?\nOptions:\nA. a cat\nB. a dog\nC. a bird\n"
        "D. a fish\nPlease select the correct answer from the options above. \n"
    )
    assert stored.loc["2", "prompt"].startswith("Question: Question 2?\nOptions:\nA. yes\nB. no\n")
    assert oracle.n_errors == 2
    assert "no image" in stored.loc["3", "error"]
    assert stored.loc["4", "error"] == "answer 'E' names none of the options (A, B, C, D)"
    # questions 1 and 2 right in every copy; 3 and 4 are errors, wrong
    assert oracle.metrics["score"].value == 0.5 and oracle.metrics["vanilla"].value == 0.5

    # question 1: the first copy right ("B" is a dog), one rotated copy wrong; question 2 right
    answers = {"1": "B", "1000001": "The answer is A", "2000001": "a dog", "3000001": "B"}
    answers |= {"2": "A. yes", "1000002": "(B)"}
    result, stored = run(tmp_path, "mmbench", copy, model="table", answers=answers)
    m = {k: v.value for k, v in result.metrics.items()}
    assert stored.loc["1000001", "extracted"] == "A" and stored.loc["2000001", "extracted"] == "D"
    assert stored.loc["3000001", "score"] == 0.0
    assert m["score"] == pytest.approx(1 / 4)  # only question 2 in every rotation
    assert m["vanilla"] == pytest.approx(2 / 4)
    assert m["all_rows"] == pytest.approx(5 / 8)
    assert m["score[image_scene]"] == 0.5  # questions 2 and 3
    assert m["score[object_localization]"] == 0.0
    assert m["l2[coarse_perception]"] == 0.5
    assert result.metrics["score"].ci_low <= 0.25 <= result.metrics["score"].ci_high
    # the copies of a question are one cluster, and a capped run asks whole questions
    assert stored.loc["1000001", "group"] == stored.loc["1", "group"] == "1"
    capped = adapter("mmbench")(**copy).samples()[:5]
    assert [s.id for s in capped] == ["1", "1000001", "2000001", "3000001", "2"]
    first_two = adapter("mmbench")(**copy, n=2).samples()  # n counts questions
    assert [s.id for s in first_two] == ["1", "1000001", "2000001", "3000001", "2", "1000002"]


def test_unknown_mc_scoring_and_split_are_one_line(tmp_path: Path) -> None:
    from evalharness.benchmarks.hub import BenchmarkSettingError, DatasetUnavailableError

    with pytest.raises(BenchmarkSettingError, match="mc_scoring must be one of generate, loglik"):
        adapter("mmbench")(mc_scoring="ppl")
    copy = mmbench_copy(tmp_path)
    with pytest.raises(DatasetUnavailableError, match=r"split 'test'.*Unknown split") as err:
        adapter("mmbench")(**copy, split="test").samples()
    assert "\n" not in str(err.value)


def mmstar_file(root: Path) -> Path:
    from datasets import Image, Value

    questions = [
        "Which is the pet?\nOptions: A: a cat, B: a stone, C: a car, D: a tree",
        "What colour is the sky?\nOptions: A: red, B: blue, C: green, D: black",
        "How many legs?\nOptions: A: 2, B: 4",
    ]
    rows: dict[str, list[Any]] = {
        "index": [0, 1, 2],
        "question": questions,
        "image": [image_cell(0), image_cell(1), image_cell(2)],
        "answer": ["A", "B", "F"],
        "category": ["coarse perception", "fine-grained perception", "math"],
        "l2_category": ["image scene and topic", "recognition", "numeric commonsense"],
        "meta_info": [{"source": "x", "split": "val", "image_path": f"{i}.png"} for i in range(3)],
    }
    features = {k: Value("string") for k in ("question", "answer", "category", "l2_category")}
    features |= {
        "index": Value("int64"),
        "image": Image(),
        "meta_info": {k: Value("string") for k in ("source", "split", "image_path")},
    }
    return write_parquet(root / "mmstar" / "val.parquet", rows, features)


def test_mmstar_options_from_the_question(tmp_path: Path) -> None:
    file = mmstar_file(tmp_path)
    oracle, stored = run(tmp_path, "mmstar", {"data_files": str(file)})
    assert stored.loc["0", "prompt"] == (
        "Question: Which is the pet?\nOptions:\nA. a cat\nB. a stone\nC. a car\nD. a tree\n"
        "Please select the correct answer from the options above. \n"
    )
    assert oracle.metrics["score"].value == pytest.approx(2 / 3)
    assert stored.loc["2", "error"] == "answer 'F' names none of the options (A, B)"
    answers = {"0": "A cat, clearly: a cat.", "1": "B"}
    result, stored = run(
        tmp_path, "mmstar", {"data_files": str(file)}, model="table", answers=answers
    )
    m = {k: v.value for k, v in result.metrics.items()}
    assert stored.loc["0", "extracted"] == "A"  # the option's text, as VLMEvalKit reads it
    assert m["score"] == pytest.approx(2 / 3) and m["score[coarse perception]"] == 1.0
    assert m["l2[recognition]"] == 1.0 and m["score[math]"] == 0.0


def ai2d_file(root: Path) -> Path:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "question": ["Which stage is the larva?", "What eats grass?", "Label X is?"],
        "options": [["egg", "larva", "pupa", "adult"], ["cow", "lion"], ["stem", "leaf"]],
        "answer": ["1", "0", "7"],
        "image": [image_cell(0), image_cell(1), image_cell(2)],
    }
    features = {
        "question": Value("string"),
        "options": [Value("string")],
        "answer": Value("string"),
        "image": Image(),
    }
    return write_parquet(root / "ai2d" / "data" / "test-00000-of-00001.parquet", rows, features)


def test_ai2d_answer_positions(tmp_path: Path) -> None:
    ai2d_file(tmp_path)
    folder = str(tmp_path / "ai2d")
    oracle, stored = run(tmp_path, "ai2d", {"path": folder})
    assert stored.loc["00000", "target"] == "B" and oracle.n_errors == 1
    assert stored.loc["00002", "error"] == "answer '7' names none of the options (A, B)"
    result, _ = run(
        tmp_path, "ai2d", {"path": folder}, model="table", answers={"00000": "B", "00001": "D"}
    )
    assert result.metrics["score"].value == pytest.approx(1 / 3)
    assert result.metrics["robust"].value == pytest.approx(1 / 3)


def scienceqa_dir(root: Path) -> Path:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "image": [image_cell(0), image_cell(1), None],
        "question": ["Which is a mammal?", "Which word is a noun?", "Which is hot?"],
        "choices": [["shark", "whale"], ["run", "table", "quick"], ["ice", "fire"]],
        "answer": [1, 1, 1],
        "hint": ["Whales breathe air.", "", ""],
        "task": ["closed choice"] * 3,
        "grade": ["grade4", "grade2", "grade1"],
        "subject": ["natural science", "language science", "natural science"],
        "topic": ["biology", "grammar", "physics"],
        "category": ["Classify", "Nouns", "Heat"],
        "skill": ["x", "y", "z"],
        "lecture": [""] * 3,
        "solution": [""] * 3,
    }
    features = {k: Value("string") for k in rows} | {
        "image": Image(),
        "choices": [Value("string")],
        "answer": Value("int8"),
    }
    write_parquet(root / "sqa" / "ScienceQA-IMG" / "test-00000.parquet", rows, features)
    return root / "sqa" / "ScienceQA-IMG"


def test_scienceqa_img_hint_and_subjects(tmp_path: Path) -> None:
    folder = str(scienceqa_dir(tmp_path))
    oracle, stored = run(tmp_path, "scienceqa_img", {"path": folder})
    assert list(stored.index) == ["00000", "00001"]  # the row without an image is skipped
    assert stored.loc["00000", "prompt"] == (
        "Hint: Whales breathe air.\nQuestion: Which is a mammal?\nOptions:\nA. shark\nB. whale\n"
        "Please select the correct answer from the options above. \n"
    )
    assert stored.loc["00001", "prompt"].startswith("Question: Which word")  # empty hint: none
    assert oracle.metrics["score"].value == 1.0
    result, _ = run(
        tmp_path, "scienceqa_img", {"path": folder}, model="table", answers={"00000": "B"}
    )
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["score[natural science]"] == 1.0 and m["score[language science]"] == 0.0


def seedbench_file(root: Path) -> Path:
    from datasets import Image, List, Value

    rows: dict[str, list[Any]] = {
        "answer": ["C", "A", "B"],
        "choice_a": ["one", "red", "x"],
        "choice_b": ["two", "blue", "y"],
        "choice_c": ["three", "green", "z"],
        "choice_d": ["four", "black", "w"],
        "data_id": ["1.jpg", "2.jpg", "v.mp4"],
        "data_type": ["image", "image", "video"],
        "question": ["How many dogs?", "What colour is the car?", "What happens?"],
        "question_id": ["101", "102", "103"],
        "question_type_id": [5, 3, 10],
        "image": [[image_cell(0)], [image_cell(1)], [image_cell(2), image_cell(3)]],
    }
    features = {k: Value("string") for k in rows} | {
        "question_type_id": Value("int16"),
        "image": List(Image()),
    }
    return write_parquet(root / "seed" / "test.parquet", rows, features)


def test_seedbench_image_part_and_dimensions(tmp_path: Path) -> None:
    file = seedbench_file(tmp_path)
    oracle, stored = run(tmp_path, "seedbench_img", {"data_files": str(file)})
    assert list(stored.index) == ["101", "102"] and oracle.metrics["score"].value == 1.0
    assert stored.loc["101", "prompt"].endswith("D. four\n" + _INSTRUCTION)
    result, _ = run(
        tmp_path, "seedbench_img", {"data_files": str(file)}, model="table", default="C"
    )
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["score[Instances Counting]"] == 1.0 and m["score[Instance Attributes]"] == 0.0


_INSTRUCTION = "Please select the correct answer from the options above. \n"


def realworldqa_file(root: Path) -> Path:
    from datasets import Image, Value

    mc = "Please answer directly with only the letter of the correct option and nothing else."
    rows: dict[str, list[Any]] = {
        "image": [image_cell(i) for i in range(3)],
        "question": [
            f"Which way does the road turn?\n\nA. Left\nB. Straight\nC. Right\n\n{mc}",
            "How many cars are there? Please answer directly with a single word or number.",
            f"Is the light red?\n\nA. Yes\nB. No\n\n{mc}",
        ],
        "answer": ["C", "3", "B"],
    }
    features = {"image": Image(), "question": Value("string"), "answer": Value("string")}
    return write_parquet(root / "rwqa" / "test.parquet", rows, features)


def test_realworldqa_letters_and_open_answers(tmp_path: Path) -> None:
    file = realworldqa_file(tmp_path)
    oracle, stored = run(tmp_path, "realworldqa", {"data_files": str(file)})
    assert oracle.metrics["score"].value == 1.0
    assert stored.loc["0000", "prompt"].startswith("Which way does the road turn?\n\nA. Left")
    answers = {"0000": "The answer is C.", "0001": "3.", "0002": "A"}
    result, stored = run(
        tmp_path, "realworldqa", {"data_files": str(file)}, model="table", answers=answers
    )
    assert stored["score"].tolist() == [1.0, 1.0, 0.0] and result.n_errors == 0
    assert stored.loc["0000", "extracted"] == "C"


def test_loglik_scores_options_or_declines(tmp_path: Path) -> None:
    copy = mmbench_copy(tmp_path)
    args = {**copy, "mc_scoring": "loglik", "n": 1}
    # a model that can only generate declines every item
    result, stored = run(tmp_path, "mmbench", args, model="table", default="A")
    assert result.n_unsupported == result.n_samples == 4 and stored["unsupported"].all()
    # a model that scores options answers each by the highest score
    oracle, stored = run(tmp_path, "mmbench", args)
    assert (stored["mode"] == "choice").all() and oracle.metrics["score"].value == 1.0
    assert stored.loc["1", "prompt"] == "Hint: A hint.\nQuestion: Question 1?\nAnswer:"
    # the same adapter asked to generate is another benchmark version
    assert adapter("mmbench")(**copy, n=1).version != adapter("mmbench")(**args).version


def test_loglik_on_a_tiny_generative_model(tmp_path: Path) -> None:
    file = seedbench_file(tmp_path)
    args = {"data_files": str(file), "mc_scoring": "loglik"}
    result, stored = run(tmp_path, "seedbench_img", args, model="tiny_qwen2_vl")
    assert result.n_errors == 0 and (stored["mode"] == "choice").all()
    scores = [pd.Series(json.loads(s)) for s in stored["choice_scores"]]
    assert all(len(s) == 4 and (s < 0).all() for s in scores)
    letters = ["ABCD"[int(s.idxmax())] for s in scores]
    assert stored["extracted"].tolist() == letters


def test_random_reference_and_a_tiny_model_generating(tmp_path: Path) -> None:
    ai2d_file(tmp_path)
    folder = str(tmp_path / "ai2d")
    random, stored = run(tmp_path, "ai2d", {"path": folder}, model="random")
    assert random.n_errors == 1  # the row whose answer names no option
    answered = stored[stored["error"].isna()]
    assert set(answered["prediction"]) <= {"A", "B", "C", "D"}
    assert set(answered["score"]) <= {0.0, 1.0}
    tiny, stored = run(tmp_path, "ai2d", {"path": folder, "n": 2}, model="tiny_qwen2_vl")
    assert tiny.n_errors == 0 and (stored["mode"] == "generate").all()
    assert stored["prediction"].map(lambda p: isinstance(p, str)).all()
    assert 0.0 <= tiny.metrics["score"].value <= 1.0
    assert {"official", "robust"} <= set(tiny.metrics)
