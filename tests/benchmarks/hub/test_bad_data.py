"""Bad data in a hub dataset costs the samples it touches, never the run: an empty or missing
embedded image is one recorded error row (its resume key names
the cell instead of its bytes), and the other samples are asked as usual."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .fixtures import image_cell, run, write_parquet


def pope_with(cells: dict[int, Any], n: int = 5) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "question_id": [str(i) for i in range(n)],
        "question": ["Is there a dog in the image?"] * n,
        "answer": ["yes", "no"] * (n // 2) + ["yes"] * (n % 2),
        "image_source": [f"img{i}" for i in range(n)],
        "image": [cells.get(i, image_cell(i)) for i in range(n)],
        "category": ["random"] * n,
    }
    return rows, {k: Value("string") for k in rows} | {"image": Image()}


def test_a_zero_byte_embedded_image_is_one_error_row(tmp_path: Path) -> None:
    empty = {"bytes": b"", "path": None}
    file = write_parquet(tmp_path / "pope.parquet", *pope_with({2: empty}))
    result, rows = run(tmp_path, "pope", {"data_files": str(file)})
    assert result.n_samples == 5 and result.n_errors == 1
    assert list(rows.index) == [f"random-{i}" for i in range(5)]
    bad = rows.loc["random-2"]
    assert bad["error"] == "ImageError: row 2 of column 'image' holds an empty image (0 bytes)"
    good = rows.drop(index="random-2")
    assert good["error"].isna().all() and (good["score"] == 1.0).all()
