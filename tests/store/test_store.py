"""The parquet store: atomic parts, newest row wins, format checks, unwritable folders."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from evalharness.store import (
    FORMAT_VERSION,
    IncompatibleStoreError,
    ResultsStore,
    RunLockedError,
    StoreError,
    load_samples,
    to_frame,
)


def rows(ids: list[str], pred: str) -> list[dict[str, object]]:
    return [{"run_id": "r1", "sample_id": i, "prediction": pred, "meta_x": 1} for i in ids]


def test_newest_part_wins_and_compaction_removes_parts(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append_samples("r1", rows(["a", "b"], "old"))
    store.append_samples("r1", rows(["b", "c"], "new"))
    got = store.read_samples("r1").set_index("sample_id")["prediction"].to_dict()
    assert got == {"a": "old", "b": "new", "c": "new"}
    store.compact("r1", store.read_samples("r1"))
    parts = sorted(p.name for p in (tmp_path / "samples" / "r1").glob("part-*"))
    assert parts == ["part-000002.parquet"]
    assert len(load_samples(tmp_path)) == 3


@pytest.mark.parametrize("damage", ["garbage", "cut short"])
def test_a_damaged_file_is_named_with_what_to_do(tmp_path: Path, damage: str) -> None:
    store = ResultsStore(tmp_path)
    store.append_samples("r1", rows(["a", "b"], "old"))
    store.append_samples("r1", rows(["c"], "new"))
    part = tmp_path / "samples" / "r1" / "part-000001.parquet"
    data = part.read_bytes()
    part.write_bytes(b"not parquet at all" if damage == "garbage" else data[: len(data) // 2])
    for read in (lambda: store.read_samples("r1"), lambda: load_samples(tmp_path)):
        with pytest.raises(StoreError) as info:
            read()
        message = str(info.value)
        assert message.startswith(f"cannot read {part}: ") and "\n" not in message
        assert "Move it out of the results folder" in message
    part.unlink()  # as the message says: the rest reads as before
    assert sorted(store.read_samples("r1")["sample_id"]) == ["a", "b"]


def test_compaction_keeps_rows_it_is_not_given_aside(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append_samples("r1", rows(["a", "b", "c"], "old"))
    store.compact("r1", to_frame(rows(["a"], "new")))
    assert list(store.read_samples("r1")["sample_id"]) == ["a"]
    assert list(load_samples(tmp_path)["sample_id"]) == ["a"]
    aside = store.read_samples("r1", spare=True).set_index("sample_id")["prediction"]
    assert aside.to_dict() == {"b": "old", "c": "old", "a": "new"}
    store.compact("r1", to_frame(rows(["c"], "newer")))  # the spare rows stay aside too
    aside = store.read_samples("r1", spare=True).set_index("sample_id")["prediction"]
    assert aside.sort_index().to_dict() == {"a": "new", "b": "old", "c": "newer"}
    store.compact("r1", store.read_samples("r1", spare=True))
    folder = tmp_path / "samples" / "r1"
    assert sorted(p.name for p in folder.iterdir()) == ["part-000003.parquet"]  # no spare left
    assert len(load_samples(tmp_path)) == 3


def test_mixed_metadata_types_are_stored(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append_samples(
        "r1",
        [
            {"run_id": "r1", "sample_id": "a", "meta_v": 3},
            {"run_id": "r1", "sample_id": "b", "meta_v": "three"},
        ],
    )
    assert list(store.read_samples("r1")["meta_v"]) == ["3", "three"]


def test_incompatible_format_is_refused_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "FORMAT.json").write_text(json.dumps({"format_version": FORMAT_VERSION + 1}))
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "x.parquet").write_bytes(b"keep")
    with pytest.raises(IncompatibleStoreError, match="results_dir="):
        ResultsStore(tmp_path)
    assert (tmp_path / "runs" / "x.parquet").read_bytes() == b"keep"


def test_foreign_folder_with_runs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    with pytest.raises(IncompatibleStoreError):
        ResultsStore(tmp_path)


def test_results_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not writable"):
        ResultsStore(tmp_path / "file" / "results")


def test_lock_refuses_a_second_writer(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    with store.lock("r1"), pytest.raises(RunLockedError):  # noqa: SIM117
        with ResultsStore(tmp_path).lock("r1"):
            pass


def test_missing_results_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="evalharness run"):
        load_samples(tmp_path / "nothing")


def test_to_frame_roundtrip(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.write_run({"run_id": "r1", "status": "running", "score": float("nan")})
    store.write_run({"run_id": "r1", "status": "complete", "score": 0.5})
    frame = pd.read_parquet(tmp_path / "runs" / "r1.parquet")
    # `escaped`: no text of the row needed escaping (see test_stored_text.py)
    assert frame.to_dict("records") == [
        {"run_id": "r1", "status": "complete", "score": 0.5, "escaped": None}
    ]


def test_parts_with_differing_column_types_read_as_one_table(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    # an all-empty column in one part (null type), strings and numbers in the next
    store.append_samples("r1", [{"run_id": "r1", "sample_id": "a", "error": None, "n": None}])
    store.append_samples("r1", [{"run_id": "r1", "sample_id": "b", "error": "boom", "n": 2}])
    for i in range(6):  # enough runs to be read in parallel
        store.append_samples(f"r{i + 2}", rows([f"x{i}"], f"p{i}"))
    frame = load_samples(tmp_path).set_index("sample_id")
    assert len(frame) == 8 and frame.loc["b", "error"] == "boom" and frame.loc["b", "n"] == 2
    assert pd.isna(frame.loc["a", "error"]) and pd.isna(frame.loc["a", "n"])
    assert frame.loc["x3", "prediction"] == "p3"


def test_load_samples_reads_only_the_columns_asked_for(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.append_samples("r1", rows(["a", "b"], "old"))
    store.append_samples("r1", rows(["b"], "new"))
    frame = load_samples(tmp_path, columns=["prediction"])
    assert list(frame.columns) == ["run_id", "sample_id", "prediction"]
    assert frame.set_index("sample_id")["prediction"].to_dict() == {"a": "old", "b": "new"}
    assert list(load_samples(tmp_path, run_ids=["nope"]).columns) == []


def test_thumbnails_are_small_jpegs_that_keep_colours(tmp_path: Path) -> None:
    from PIL import Image

    store = ResultsStore(tmp_path)
    picture = Image.new("RGB", (448, 224), (240, 240, 240))
    picture.paste((200, 0, 0), (200, 100, 208, 108))  # a red square, 3 px in the thumbnail
    store.save_thumbnail("ab12", picture)
    path = tmp_path / "images" / "ab" / "ab12.jpg"
    assert store.thumbnail_path("ab12") == path
    with Image.open(path) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (160, 80)
        # without chroma subsampling a small shape keeps its colour (with it: about 155, 15, 41)
        r, g, b = thumb.convert("RGB").getpixel((72, 37))
        assert r > 180 and g < 30 and b < 30


def test_an_older_png_thumbnail_is_kept_not_written_again(tmp_path: Path) -> None:
    from PIL import Image

    store = ResultsStore(tmp_path)
    legacy = tmp_path / "images" / "cd" / "cd34.png"
    legacy.parent.mkdir(parents=True)
    Image.new("RGB", (16, 16)).save(legacy)
    store.save_thumbnail("cd34", Image.new("RGB", (64, 64), (255, 0, 0)))
    assert sorted(p.name for p in legacy.parent.iterdir()) == ["cd34.png"]


def _rewriting(store: ResultsStore, run_ids: list[str]) -> tuple[threading.Thread, threading.Event]:
    """A thread that compacts every run again and again (as `evalharness rescore` does) until
    the event is set."""
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.is_set():
            for rid in run_ids:
                store.compact(rid, store.read_samples(rid))

    thread = threading.Thread(target=rewrite, daemon=True)
    thread.start()
    return thread, stop


def test_reads_while_runs_are_rewritten_see_every_row(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    run_ids = [f"r{i}" for i in range(8)]
    for rid in run_ids:
        for part in range(3):  # a run's rows over several parts, as a run writes them
            ids = [f"s{part}-{k}" for k in range(20)]
            store.append_samples(rid, [{**r, "run_id": rid} for r in rows(ids, "p")])
    thread, stop = _rewriting(store, run_ids)
    try:
        counts = [len(load_samples(tmp_path)) for _ in range(40)]
        singles = [len(store.read_samples(run_ids[i % 8])) for i in range(40)]
    finally:
        stop.set()
        thread.join()
    assert counts == [8 * 60] * 40
    assert singles == [60] * 40
