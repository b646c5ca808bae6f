"""Tiny copies of the OpenVLM-suite datasets in their hub schemas (images made here), for the
end-to-end tests of the adapters and of `suite=openvlm`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .fixtures import image_cell, write_parquet


def _image() -> Any:
    from datasets import Image

    return Image()


def _str() -> Any:
    from datasets import Value

    return Value("string")


def mmmu(root: Path, *, broken: bool = False) -> Path:
    """lmms-lab/MMMU validation: an item with two interleaved images, one open question, one
    plain multiple-choice item; `broken` adds an item missing an image it references and one
    whose answer names no option."""
    rows: dict[str, list[Any]] = {
        "id": ["validation_Math_1", "validation_Physics_2", "validation_Art_3"],
        "question": [
            "<image 1> and <image 2> show two shapes. Which has more sides?",
            "What is the speed in m/s shown in <image 1>?",
            "Which style is the painting <image 1>?",
        ],
        "options": ["['The first', 'The second', 'Equal']", "[]", "['Baroque', 'Cubism']"],
        "explanation": ["", "", ""],
        "answer": ["B", "3.5", "A"],
        "question_type": ["multiple-choice", "open", "multiple-choice"],
        "subfield": ["Geometry", "Mechanics", "Painting"],
        "topic_difficulty": ["Easy", "Medium", "Hard"],
        "img_type": ["['Diagrams']", "['Plots']", "['Paintings']"],
        "image_1": [image_cell(0), image_cell(2), image_cell(3)],
        "image_2": [image_cell(1), None, None],
    }
    if broken:
        rows["id"] += ["validation_Math_4", "validation_Math_5"]
        rows["question"] += ["Compare <image 1> with <image 2>.", "Which is it <image 1>?"]
        rows["options"] += ["['x', 'y']", "['x', 'y']"]
        rows["explanation"] += ["", ""]
        rows["answer"] += ["A", "E"]
        rows["question_type"] += ["multiple-choice", "multiple-choice"]
        rows["subfield"] += ["Algebra", "Algebra"]
        rows["topic_difficulty"] += ["Easy", "Easy"]
        rows["img_type"] += ["[]", "[]"]
        rows["image_1"] += [image_cell(4), image_cell(5)]
        rows["image_2"] += [None, None]
    n = len(rows["id"])
    for k in range(3, 8):
        rows[f"image_{k}"] = [None] * n
    features: dict[str, Any] = {
        c: _str()
        for c in (
            "id",
            "question",
            "options",
            "explanation",
            "answer",
            "question_type",
            "subfield",
            "topic_difficulty",
            "img_type",
        )
    }
    features |= {f"image_{k}": _image() for k in range(1, 8)}
    write_parquet(root / "data" / "validation-00000-of-00001.parquet", rows, features)
    return root


def mme(root: Path) -> Path:
    """lmms-lab/MME: two images of `existence` and one of `code_reasoning`, two questions each."""
    ids = ["existence/1.png"] * 2 + ["existence/2.png"] * 2 + ["code_reasoning/7.png"] * 2
    rows = {
        "question_id": ids,
        "image": [image_cell(i // 2) for i in range(6)],
        "question": [f"Is there thing {i}? Please answer yes or no." for i in range(6)],
        "answer": ["Yes", "No", "Yes", "No", "No", "Yes"],
        "category": ["existence"] * 4 + ["code_reasoning"] * 2,
    }
    features = {
        "question_id": _str(),
        "image": _image(),
        "question": _str(),
        "answer": _str(),
        "category": _str(),
    }
    write_parquet(root / "data" / "test-00000-of-00001.parquet", rows, features)
    return root


def ocrbench(root: Path) -> Path:
    """echo840/OCRBench: a word, a scene-text question and a handwritten formula."""
    from datasets import Sequence

    rows = {
        "dataset": ["IIIT5K", "textVQA", "HME100k"],
        "question": ["what is written in the image?", "What brand is it?", "Write the formula."],
        "question_type": [
            "Regular Text Recognition",
            "Scene Text-centric VQA",
            "Handwritten Mathematical Expression Recognition",
        ],
        "answer": [["CENTRE"], ["coca cola", "coke"], ["x ^ { 2 }"]],
        "image": [image_cell(i) for i in range(3)],
    }
    features = {
        "dataset": _str(),
        "question": _str(),
        "question_type": _str(),
        "answer": Sequence(_str()),
        "image": _image(),
    }
    write_parquet(root / "test.parquet", rows, features)
    return root / "test.parquet"


def chartqa(root: Path) -> Path:
    """lmms-lab/ChartQA test: two human questions and one augmented."""
    rows = {
        "type": ["human_test", "human_test", "augmented_test"],
        "question": ["What is the peak?", "Which party?", "What share?"],
        "answer": ["120", "Republican", "45%"],
        "image": [image_cell(i) for i in range(3)],
    }
    features = {"type": _str(), "question": _str(), "answer": _str(), "image": _image()}
    write_parquet(root / "data" / "test-00000-of-00001.parquet", rows, features)
    return root


def docvqa(root: Path) -> Path:
    """lmms-lab/DocVQA (config DocVQA) validation: two questions on one page, one on another."""
    from datasets import Sequence, Value

    rows = {
        "questionId": ["337", "338", "400"],
        "question": ["What is the date?", "Who signed?", "What is the total?"],
        "question_types": [["layout"], ["handwritten", "form"], ["table/list"]],
        "image": [image_cell(0), image_cell(0), image_cell(1)],
        "docId": [279, 279, 300],
        "ucsf_document_id": ["a", "a", "b"],
        "ucsf_document_page_no": ["1", "1", "2"],
        "answers": [["1/8/93", "January 8, 1993"], ["J. Smith"], ["$ 1,200"]],
        "data_split": ["val", "val", "val"],
    }
    features = {
        "questionId": _str(),
        "question": _str(),
        "question_types": Sequence(_str()),
        "image": _image(),
        "docId": Value("int64"),
        "ucsf_document_id": _str(),
        "ucsf_document_page_no": _str(),
        "answers": Sequence(_str()),
        "data_split": _str(),
    }
    write_parquet(root / "DocVQA" / "validation-00000-of-00001.parquet", rows, features)
    return root / "DocVQA"


def mathvista(root: Path, *, missing_image: bool = False) -> Path:
    """AI4Math/MathVista testmini: an option item, an integer and a float question."""
    from datasets import Sequence, Value

    meta = {
        "category": "math-targeted-vqa",
        "context": "bar chart",
        "grade": "high school",
        "img_height": 8,
        "img_width": 8,
        "language": "english",
        "skills": ["arithmetic reasoning"],
        "source": "ChartQA",
        "split": "testmini",
        "task": "figure question answering",
    }
    rows = {
        "pid": ["1", "2", "3"],
        "question": ["Which bar is tallest?", "How many bars?", "What is the ratio?"],
        "image": ["images/1.jpg", "images/2.jpg", "images/3.jpg"],
        "decoded_image": [image_cell(0), None if missing_image else image_cell(1), image_cell(2)],
        "choices": [["red", "blue", "green"], None, None],
        "unit": [None, None, None],
        "precision": [None, None, 1.0],
        "answer": ["blue", "4", "1.5"],
        "question_type": ["multi_choice", "free_form", "free_form"],
        "answer_type": ["text", "integer", "float"],
        "metadata": [meta, {**meta, "task": "math word problem"}, meta],
        "query": [
            "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\nQuestion: Which bar is tallest?\nChoices:\n(A) red\n(B) blue\n(C) green",
            "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.\nQuestion: How many bars?",
            "Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.\nQuestion: What is the ratio?",
        ],
    }
    features = {
        "pid": _str(),
        "question": _str(),
        "image": _str(),
        "decoded_image": _image(),
        "choices": Sequence(_str()),
        "unit": _str(),
        "precision": Value("float64"),
        "answer": _str(),
        "question_type": _str(),
        "answer_type": _str(),
        "metadata": {
            "category": _str(),
            "context": _str(),
            "grade": _str(),
            "img_height": Value("int64"),
            "img_width": Value("int64"),
            "language": _str(),
            "skills": Sequence(_str()),
            "source": _str(),
            "split": _str(),
            "task": _str(),
        },
        "query": _str(),
    }
    write_parquet(root / "data" / "testmini-00000-of-00001.parquet", rows, features)
    return root
