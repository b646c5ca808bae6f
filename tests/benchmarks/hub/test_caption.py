"""COCO Captions, NoCaps and Flickr30k end to end on tiny copies in their hub schemas; CIDEr
and BLEU-4 checked against pycocoevalcap run directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from caption_helpers import official_corpus

from .fixtures import image_cell, run, write_parquet

REFS = [
    ["a man riding a horse on a beach", "a person rides a brown horse along the sand"],
    ["two dogs playing with a ball in the grass", "a pair of dogs chase a ball on a lawn"],
    ["a plate of pasta with tomato sauce", "spaghetti with red sauce on a white plate"],
]
CAPTIONS = ["a man rides a horse on the beach", "a cat sleeping on a sofa", "a plate of spaghetti"]


def reference_scores(
    captions: dict[str, str], refs: dict[str, list[str]]
) -> dict[str, list[float]]:
    """Per-image CIDEr-D and BLEU-4 from pycocoevalcap itself, on PTB-tokenised text."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    res = tok.tokenize({k: [{"caption": v}] for k, v in captions.items()})
    gts = tok.tokenize({k: [{"caption": r} for r in v] for k, v in refs.items()})
    _, cider = Cider().compute_score(gts, res)
    _, bleu = Bleu(4).compute_score(gts, res, verbose=0)
    ids = sorted(captions)
    return {"ids": ids, "CIDEr": [float(x) for x in cider], "BLEU-4": [float(x) for x in bleu[3]]}


def coco_file(root: Path) -> Path:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "question_id": [f"00000000{i}.jpg" for i in (1, 2, 3)],
        "image": [image_cell(i) for i in range(3)],
        "question": ["Please carefully observe the image and come up with a caption"] * 3,
        "answer": REFS,
        "id": [1, 2, 3],
        "license": [1, 1, 1],
        "file_name": [f"00000000{i}.jpg" for i in (1, 2, 3)],
        "coco_url": ["http://x"] * 3,
        "height": [8] * 3,
        "width": [8] * 3,
        "date_captured": ["2013"] * 3,
    }
    features = {
        "question_id": Value("string"),
        "image": Image(),
        "question": Value("string"),
        "answer": [Value("string")],
        "id": Value("int64"),
        "license": Value("int8"),
        "file_name": Value("string"),
        "coco_url": Value("string"),
        "height": Value("int32"),
        "width": Value("int32"),
        "date_captured": Value("string"),
    }
    return write_parquet(root / "coco" / "val.parquet", rows, features)


@pytest.mark.slow  # METEOR loads its paraphrase tables: several seconds
def test_coco_caption_matches_pycocoevalcap(tmp_path: Path) -> None:
    file = coco_file(tmp_path)
    answers = {str(i + 1): c for i, c in enumerate(CAPTIONS)}
    result, rows = run(
        tmp_path, "coco_caption", {"data_files": str(file)}, model="table", answers=answers
    )
    expected = reference_scores(answers, {str(i + 1): r for i, r in enumerate(REFS)})
    assert rows.loc[expected["ids"], "metric_CIDEr"].tolist() == pytest.approx(expected["CIDEr"])
    assert rows.loc[expected["ids"], "metric_BLEU-4"].tolist() == pytest.approx(expected["BLEU-4"])
    # the mean of per-image CIDEr is the corpus CIDEr the COCO toolkit reports
    assert result.metrics["CIDEr"].value == pytest.approx(sum(expected["CIDEr"]) / 3)
    assert result.metrics["score"].value == result.metrics["CIDEr"].value
    assert 0 < result.metrics["METEOR"].value < 1 and 0 < result.metrics["ROUGE-L"].value < 1
    assert rows.loc["1", "prompt"] == "Provide a one-sentence caption for the provided image."
    assert rows.loc["1", "meta_file_name"] == "000000001.jpg"


WORDS = [
    "a",
    "the",
    "man",
    "woman",
    "dog",
    "dogs",
    "horse",
    "ball",
    "red",
    "blue",
    "two",
    "on",
    "in",
    "with",
    "riding",
    "runs",
    "|",
    "grass",
]


def flickr_file(
    root: Path, ids: list[str], refs: list[list[str]], sentids: list[list[str]]
) -> Path:
    """lmms-lab/flickr30k test: one image per id (drawn by its position), its references."""
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "image": [image_cell(i) for i in range(len(ids))],
        "caption": refs,
        "sentids": sentids,
        "img_id": ids,
        "filename": [f"{i}.jpg" for i in ids],
    }
    features = {
        "image": Image(),
        "caption": [Value("string")],
        "sentids": [Value("string")],
        "img_id": Value("string"),
        "filename": Value("string"),
    }
    return write_parquet(root / "flickr" / "test-00000-of-00001.parquet", rows, features)


@pytest.mark.slow  # METEOR loads its paraphrase tables: several seconds
def test_corpus_bleu_and_meteor_of_a_run_are_pycocoevalcaps(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)

    def caption(low: int = 0) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, 12)))

    n = 40
    refs = [[caption(1) for _ in range(rng.randint(1, 5))] for _ in range(n)]
    refs[0] = ["a man | riding a horse", "A MAN RIDES A HORSE."]
    answers = {str(i): caption() for i in range(n)}
    answers |= {
        "0": "a man | riding a horse",
        "1": "",
        "2": "two dogs\non the grass",
        "3": refs[3][0],
    }
    ids = [str(i) for i in range(n)]
    file = flickr_file(tmp_path, ids, refs, [[i] for i in ids])
    result, stored = run(
        tmp_path, "flickr30k", {"data_files": str(file)}, model="table", answers=answers
    )
    # the run's own stored answers and references, scored by the COCO toolkit itself
    captions = {i: str(stored.loc[i, "prediction"]) for i in stored.index}
    expected = official_corpus(captions, {str(i): refs[i] for i in range(n)})
    for name in ("BLEU-4", "METEOR"):
        got = result.metrics[name]
        assert got.value == pytest.approx(expected[name], abs=1e-12)
        # the interval resamples images and pools their statistics again: it has width
        assert got.ci_low < got.value < got.ci_high
    per_image_mean = stored["metric_BLEU-4"].mean()
    assert abs(per_image_mean - result.metrics["BLEU-4"].value) > 1e-3  # not the mean


def test_nocaps_oracle_beats_wrong_and_skips_rows_without_references(tmp_path: Path) -> None:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "image": [image_cell(i) for i in range(4)],
        "image_coco_url": ["http://x"] * 4,
        "image_file_name": [f"{i}.jpg" for i in range(4)],
        "image_id": [0, 1, 2, 3],
        "image_open_images_id": ["a", "b", "c", "d"],
        "annotations_ids": [[1, 2], [3, 4], [5, 6], []],
        "annotations_captions": [*REFS, []],  # a test-split row: references hidden
    }
    features = {
        "image": Image(),
        "image_coco_url": Value("string"),
        "image_file_name": Value("string"),
        "image_id": Value("int64"),
        "image_open_images_id": Value("string"),
        "annotations_ids": [Value("int64")],
        "annotations_captions": [Value("string")],
    }
    file = write_parquet(tmp_path / "nocaps.parquet", rows, features)
    args = {"data_files": str(file), "meteor": False}
    oracle, stored = run(tmp_path, "nocaps", args)
    assert list(stored.index) == ["0", "1", "2"] and "METEOR" not in oracle.metrics
    wrong, _ = run(tmp_path, "nocaps", args, model="table", default="a blue sky")
    assert wrong.metrics["CIDEr"].value == 0.0 and wrong.metrics["BLEU-4"].value < 1e-6
    assert oracle.metrics["CIDEr"].value > 1.0
    assert oracle.metrics["ROUGE-L"].value == pytest.approx(1.0)  # each image's first reference


def test_flickr30k_loads_its_schema(tmp_path: Path) -> None:
    sentids = [["1", "2"], ["3", "4"], ["5", "6"]]
    file = flickr_file(tmp_path, ["10", "11", "12"], REFS, sentids)
    answers = {"10": CAPTIONS[0], "11": CAPTIONS[1], "12": CAPTIONS[2]}
    result, stored = run(
        tmp_path,
        "flickr30k",
        {"path": str(file.parent), "meteor": False},
        model="table",
        answers=answers,
    )
    expected = reference_scores(answers, dict(zip(["10", "11", "12"], REFS, strict=True)))
    assert result.metrics["CIDEr"].value == pytest.approx(sum(expected["CIDEr"]) / 3)
    assert stored.loc["10", "meta_filename"] == "10.jpg"
