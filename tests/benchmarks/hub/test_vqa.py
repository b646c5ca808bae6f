"""VQAv2 and TextVQA end to end on tiny copies in their hub schemas; VQA accuracy golden cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .fixtures import image_cell, run, write_parquet

RED3 = ["red"] * 3 + ["blue"] * 7
"""Ten answers: "red" from 3 annotators, "blue" from 7."""


def vqav2_folder(root: Path) -> Path:
    """A VQAv2 copy laid out as on the hub: data/validation-*.parquet, lmms-lab/VQAv2 columns."""
    from datasets import Image, Value

    answers = [["2"] * 6 + ["3"] * 4, ["yes"] * 10, RED3, ["tennis"] + ["baseball"] * 9]
    rows: dict[str, list[Any]] = {
        "question_type": ["how many", "is the", "what color is the", "what sport is"],
        "multiple_choice_answer": [a[0] if a != RED3 else "blue" for a in answers],
        "answers": [
            [
                {"answer": a, "answer_confidence": "yes", "answer_id": k + 1}
                for k, a in enumerate(ans)
            ]
            for ans in answers
        ],
        "image_id": [10, 10, 11, 12],
        "answer_type": ["number", "yes/no", "other", "other"],
        "question_id": [100, 101, 110, 120],
        "question": ["How many cats?", "Is it day?", "What color is the car?", "What sport?"],
        "image": [image_cell(0), image_cell(0), image_cell(1), image_cell(2)],
    }
    features = {
        "question_type": Value("string"),
        "multiple_choice_answer": Value("string"),
        "answers": [
            {
                "answer": Value("string"),
                "answer_confidence": Value("string"),
                "answer_id": Value("int64"),
            }
        ],
        "image_id": Value("int64"),
        "answer_type": Value("string"),
        "question_id": Value("int64"),
        "question": Value("string"),
        "image": Image(),
    }
    write_parquet(root / "data" / "validation-00000-of-00001.parquet", rows, features)
    return root


def test_vqav2_oracle_and_golden_answers(tmp_path: Path) -> None:
    folder = vqav2_folder(tmp_path / "vqav2")
    oracle, rows = run(tmp_path, "vqav2", {"path": str(folder)})
    # the oracle answers the most frequent answer: 6, 10 or 9 of 10 annotators agree → 1.0;
    # for RED3 the most frequent is "blue" (7 of 10) → 1.0 too
    assert rows["score"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert oracle.metrics["score"].value == 1.0
    assert rows.loc["110", "target"] == "blue" and rows.loc["110", "category"] == "other"
    assert rows.loc["100", "prompt"] == (
        "How many cats?\nAnswer the question using a single word or phrase."
    )
    assert rows.loc["100", "group"] == rows.loc["101", "group"] == "10"

    answers = {"100": "Three.", "101": "**No**", "110": "Red", "120": "The answer is tennis."}
    _, rows = run(tmp_path, "vqav2", {"path": str(folder)}, model="table", answers=answers)
    # official formula: acc = mean over the 10 annotators of min(1, matches among the other 9 / 3)
    # "3" given by 4 of 10: 4 annotators see 3 others → 1, 6 see 4 → 1; so 1.0
    # "red" given by 3 of 10: 3 see 2 others → 2/3, 7 see 3 → 1; (3·2/3 + 7)/10 = 0.9
    # "tennis" given by 1 of 10: 1 sees 0 → 0, 9 see 1 → 1/3; 9·(1/3)/10 = 0.3
    # our reading, from the answer extracted from the reply
    assert rows.loc["100", "metric_robust"] == pytest.approx(1.0)
    assert rows.loc["101", "metric_robust"] == 0.0
    assert rows.loc["110", "metric_robust"] == pytest.approx(0.9)
    assert rows.loc["120", "metric_robust"] == pytest.approx(0.3)
    assert rows.loc["120", "extracted"] == "tennis"
    # the official script's, the headline score, reads the raw reply: "Three." normalises to "3"
    # but the sentence around "tennis" stays
    assert rows.loc["100", "score"] == rows.loc["100", "metric_official"] == pytest.approx(1.0)
    assert rows.loc["110", "score"] == pytest.approx(0.9)
    assert rows.loc["120", "score"] == rows.loc["120", "metric_official"] == 0.0


def test_textvqa_oracle_and_wrong(tmp_path: Path) -> None:
    from datasets import Image, Value

    rows = {
        "image_id": ["a1", "a2", "a3"],
        "question_id": [7, 8, 9],
        "question": ["what brand is this?", "what does the sign say?", "what number is shown?"],
        "question_tokens": [["what", "brand"], ["what", "sign"], ["what", "number"]],
        "image": [image_cell(i) for i in range(3)],
        "answers": [["nokia"] * 10, ["stop"] * 8 + ["stop sign"] * 2, ["12"] * 5 + ["twelve"] * 5],
        "ocr_tokens": [["nokia"], ["stop"], ["12"]],
        "set_name": ["val"] * 3,
    }
    features = {
        "image_id": Value("string"),
        "question_id": Value("int32"),
        "question": Value("string"),
        "question_tokens": [Value("string")],
        "image": Image(),
        "answers": [Value("string")],
        "ocr_tokens": [Value("string")],
        "set_name": Value("string"),
    }
    file = write_parquet(tmp_path / "textvqa.parquet", rows, features)
    oracle, _ = run(tmp_path, "textvqa", {"data_files": str(file)})
    assert oracle.metrics["score"].value == 1.0
    _, scored = run(
        tmp_path, "textvqa", {"data_files": str(file)}, model="table", default="Samsung"
    )
    assert scored["score"].tolist() == [0.0, 0.0, 0.0]
