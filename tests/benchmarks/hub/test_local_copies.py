"""Local copies in the forms users have: jsonl (or csv, parquet) rows that name image files, read
with `image_root` by every adapter, and a folder written by `datasets`' `save_to_disk`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalharness.benchmarks.hub import DatasetUnavailableError
from evalharness.runner.job import benchmark_settings

from .fixtures import ADAPTERS, adapter, png, run, write_jsonl


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_adapter_takes_image_root(name: str) -> None:
    settings = benchmark_settings(name)
    assert settings is not None
    root = next(p for p in settings if p.name == "image_root")
    assert root.default is None
    # a local folder names no content: not part of the version
    assert adapter(name)(image_root="/a").version == adapter(name)(image_root="/b").version


def pope_jsonl(tmp_path: Path, n: int = 4) -> tuple[Path, Path]:
    """POPE rows naming their images by file, as a user's own jsonl does; the images apart."""
    images = tmp_path / "pics"
    images.mkdir()
    rows = []
    for i in range(n):
        (images / f"img{i}.png").write_bytes(png(i))
        rows.append(
            {
                "question_id": str(i),
                "question": "Is there a dog in the image?",
                "answer": "yes" if i % 2 == 0 else "no",
                "category": "random",
                "image_source": f"img{i}",
                "image": f"data/pics/img{i}.png",
            }
        )
    return write_jsonl(tmp_path / "pope.jsonl", rows), images


def test_pope_reads_images_named_by_file_with_image_root(tmp_path: Path) -> None:
    file, images = pope_jsonl(tmp_path)
    result, rows = run(tmp_path, "pope", {"data_files": str(file), "image_root": str(images)})
    assert result.n_samples == 4 and result.n_errors == 0
    assert (rows["score"] == 1.0).all()
    # the table model loads each image: the files were read
    table, _ = run(
        tmp_path, "pope", {"data_files": str(file), "image_root": str(images)}, model="table"
    )
    assert table.n_errors == 0
    sample = adapter("pope")(data_files=str(file), image_root=str(images)).samples()[2]
    assert sample.images[0].load().getpixel((0, 0)) == (0, 0, 255)  # png(2) is blue


def test_without_image_root_the_message_names_the_setting(tmp_path: Path) -> None:
    file, _ = pope_jsonl(tmp_path)
    with pytest.raises(DatasetUnavailableError, match=r"set benchmark\.args\.image_root="):
        adapter("pope")(data_files=str(file)).samples()


def pope_columns(n: int) -> dict[str, list[Any]]:
    return {
        "question_id": [str(i) for i in range(n)],
        "question": ["Is there a dog in the image?"] * n,
        "answer": ["yes", "no"] * (n // 2) + ["yes"] * (n % 2),
        "category": ["random"] * n,
        "image_source": [f"img{i}" for i in range(n)],
        "image": [{"bytes": png(i), "path": None} for i in range(n)],
    }


def pope_features(columns: dict[str, list[Any]]) -> Any:
    from datasets import Features, Image, Value

    return Features({k: Value("string") for k in columns} | {"image": Image()})


def test_a_save_to_disk_folder_is_a_local_copy(tmp_path: Path) -> None:
    from datasets import Dataset

    columns = pope_columns(5)
    folder = tmp_path / "pope-copy"
    Dataset.from_dict(columns, features=pope_features(columns)).save_to_disk(str(folder))
    result, rows = run(tmp_path, "pope", {"path": str(folder), "n": 4})
    assert result.n_samples == 4 and result.n_errors == 0 and (rows["score"] == 1.0).all()
    sample = adapter("pope")(path=str(folder)).samples()[1]
    assert sample.images[0].load().getpixel((0, 0)) == (0, 128, 0)  # png(1) is green


def test_a_save_to_disk_folder_of_splits_gives_the_split_asked_for(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    test, val = pope_columns(3), pope_columns(2)
    folder = tmp_path / "pope-splits"
    DatasetDict(
        {
            "test": Dataset.from_dict(test, features=pope_features(test)),
            "validation": Dataset.from_dict(val, features=pope_features(val)),
        }
    ).save_to_disk(str(folder))
    assert len(adapter("pope")(path=str(folder)).samples()) == 3  # POPE's split: test
    assert len(adapter("pope")(path=str(folder), split="validation").samples()) == 2
    with pytest.raises(DatasetUnavailableError) as caught:
        adapter("pope")(path=str(folder), split="train").samples()
    message = str(caught.value)
    assert "no split 'train'" in message and "test, validation" in message
    assert "\n" not in message


def test_mmmu_reads_its_image_columns_by_file_with_image_root(tmp_path: Path) -> None:
    """MMMU has seven image columns: each may name a file too."""
    images = tmp_path / "mmmu-images"
    images.mkdir()
    for i in range(3):
        (images / f"m{i}.png").write_bytes(png(i))
    row = {
        "id": "validation_Math_1",
        "question": "<image 1> and <image 2> show two shapes. Which has more sides?",
        "options": "['The first', 'The second', 'Equal']",
        "answer": "B",
        "question_type": "multiple-choice",
        "image_1": "m0.png",
        "image_2": "m1.png",
    }
    second = {**row, "id": "validation_Art_2", "question": "Which style? <image 1>"}
    second |= {"options": "['Baroque', 'Cubism']", "answer": "A", "image_1": "m2.png"}
    second["image_2"] = None
    rows = [{**r, **{f"image_{k}": None for k in range(3, 8)}} for r in (row, second)]
    file = write_jsonl(tmp_path / "mmmu.jsonl", rows)
    bench = adapter("mmmu")(data_files=str(file), split="validation", image_root=str(images))
    first, other = bench.samples()
    assert [img.load().getpixel((0, 0)) for img in first.images] == [(255, 0, 0), (0, 128, 0)]
    assert [img.load().getpixel((0, 0)) for img in other.images] == [(0, 0, 255)]
    result, _ = run(
        tmp_path,
        "mmmu",
        {"data_files": str(file), "split": "validation", "image_root": str(images)},
        model="table",
    )
    assert result.n_samples == 2 and result.n_errors == 0
