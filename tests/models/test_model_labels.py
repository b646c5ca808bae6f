"""The board's name of a model given by path: one of its own, and never another model's."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from evalharness.leaderboard._runs import build_board
from evalharness.models import tiny
from evalharness.models.base import ModelSpec, default_label
from evalharness.runner import BenchmarkSpec, JobError, RunResult, RunSpec, run_job
from evalharness.store import load_runs


@pytest.mark.parametrize(
    ("path", "revision", "label"),
    [
        (None, None, "hf"),
        ("Qwen/Qwen2-VL-2B-Instruct", None, "Qwen/Qwen2-VL-2B-Instruct"),
        ("Qwen/Qwen2-VL-2B-Instruct", "abc123", "Qwen/Qwen2-VL-2B-Instruct@abc123"),
        ("/models/llava-1.5-7b-hf", None, "llava-1.5-7b-hf"),
        ("./runs/a/", None, "a"),
        ("/exp/run3/checkpoint-500", None, "run3/checkpoint-500"),
        ("/exp/run3/final", None, "run3/final"),
        (
            "/hub/models--Qwen--Qwen2-VL-2B/snapshots/0123456789abcdef",
            None,
            "Qwen/Qwen2-VL-2B@01234567",
        ),
    ],
)
def test_default_labels(path: str | None, revision: str | None, label: str) -> None:
    assert default_label("hf", path, revision) == label
    assert ModelSpec("hf", path=path, revision=revision).display_name == label
    assert ModelSpec("hf", label="mine", path=path).display_name == "mine"


def checkpoint(root: Path, family: str) -> Path:
    """A tiny checkpoint of `family` copied to `root`."""
    shutil.copytree(tiny.build(family), root)
    return root


def run(path: Path, results: Path, label: str = "") -> RunResult:
    spec = RunSpec(
        model=ModelSpec("hf", label=label, path=str(path), device="cpu", dtype="float32"),
        benchmarks=(BenchmarkSpec("synth_vqa", {"n": 2}),),
        results_dir=str(results),
        progress=False,
    )
    [result] = run_job(spec, out=io.StringIO())
    return result


def test_two_checkpoints_by_path_are_two_models_on_the_board(tmp_path: Path) -> None:
    """`model=hf model.path=a,b`: each run is ranked under a label of its own."""
    results = tmp_path / "results"
    a = checkpoint(tmp_path / "a" / "tiny-llava", "llava")
    b = checkpoint(tmp_path / "b" / "tiny-qwen", "qwen2_vl")
    assert (run(a, results).model, run(b, results).model) == ("tiny-llava", "tiny-qwen")
    board = build_board(load_runs(results))
    assert sorted(board.ranked["model"]) == ["tiny-llava", "tiny-qwen"]
    assert set(board.runs["reason"]) == {""}


def test_a_label_already_naming_another_model_is_refused(tmp_path: Path) -> None:
    results = tmp_path / "results"
    one = checkpoint(tmp_path / "one" / "tiny", "llava")
    two = checkpoint(tmp_path / "two" / "tiny", "qwen2_vl")
    first = run(one, results)
    assert first.model == "tiny"
    with pytest.raises(JobError) as caught:
        run(two, results)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"the label 'tiny' already names another model in {results}")
    assert str(one) in message and str(two) in message and "model.label=NAME" in message
    assert len(load_runs(results)) == 1  # refused before it ran
    # the same model again (by another spelling of its path) is no clash, nor a label of its own
    assert run(tmp_path / "one" / ".." / "one" / "tiny", results).n_reused == 0
    assert run(one, results).n_reused == first.n_samples
    assert run(two, results, label="tiny-qwen").model == "tiny-qwen"
    board = build_board(load_runs(results))
    assert sorted(board.ranked["model"]) == ["tiny", "tiny-qwen"]
