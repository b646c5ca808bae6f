"""A local checkpoint's identity covers every file that can change an answer, so stored answers
of a folder are never taken for the same folder after an edit."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from evalharness.models import tiny
from evalharness.models._fingerprint import answer_files, checkpoint_hash
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunResult, RunSpec, run_job


@pytest.fixture
def llava(tmp_path: Path) -> Path:
    """A tiny LLaVA saved in a folder of its own (a copy: the tests edit it)."""
    folder = tmp_path / "checkpoints" / "llava"
    shutil.copytree(tiny.build("llava"), folder)
    return folder


def edit_json(path: Path, **changes: object) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize(
    "name",
    [
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "processor_config.json",
        "chat_template.jinja",
        "model.safetensors",
    ],
)
def test_editing_any_file_that_shapes_answers_changes_the_hash(llava: Path, name: str) -> None:
    before = checkpoint_hash(llava)
    path = llava / name
    assert path.is_file(), sorted(p.name for p in llava.iterdir())
    if name.endswith(".json"):
        edit_json(path, evalharness_test_edit=1)
    else:
        path.write_bytes(path.read_bytes() + b" ")
    assert checkpoint_hash(llava) != before


def test_added_code_counts_but_the_model_card_and_hidden_files_do_not(llava: Path) -> None:
    before = checkpoint_hash(llava)
    (llava / "README.md").write_text("# a model card\n")
    (llava / "LICENSE").write_text("terms\n")
    (llava / ".cache").mkdir()
    (llava / ".cache" / "download.lock").write_text("")
    (llava / ".marker").write_text("")
    assert checkpoint_hash(llava) == before
    (llava / "modeling_custom.py").write_text("X = 1\n")
    assert "modeling_custom.py" in {p.name for p in answer_files(llava)}
    assert checkpoint_hash(llava) != before


def run(folder: Path, results: Path) -> RunResult:
    spec = RunSpec(
        model=ModelSpec("hf", path=str(folder), device="cpu", dtype="float32"),
        benchmarks=(BenchmarkSpec("synth_vqa", {"n": 3}),),
        results_dir=str(results),
        progress=False,
    )
    [result] = run_job(spec, out=io.StringIO())
    return result


def test_a_rerun_after_editing_generation_config_does_not_take_over_the_answers(
    llava: Path, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    first = run(llava, results)
    assert first.n_samples > 0 and first.n_reused == 0
    same = run(llava, results)
    assert same.run_id == first.run_id and same.n_reused == first.n_samples
    edit_json(llava / "generation_config.json", repetition_penalty=1.5)
    edited = run(llava, results)
    assert edited.run_id != first.run_id
    assert edited.n_reused == 0
