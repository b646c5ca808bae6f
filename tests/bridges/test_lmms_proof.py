"""The proof: on a local lmms-eval task and a tiny Qwen2-VL, `evalharness run model=lmms:qwen2_vl
benchmark=lmms:<task>` and lmms-eval's own CLI give the same prompts, predictions and scores."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evalharness.models.base import ModelSpec
from evalharness.store import load_runs, load_samples

from .conftest import require_lmms_eval
from .lmms_data import TASK, answers_matching, run, vqa_accuracy, write_task, write_vqa

require_lmms_eval()


def lmms_cli(
    env: dict[str, str], folder: Path, model: Path, out: Path, cwd: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run lmms-eval's CLI; its per-document rows by doc id and its results table.

    Its exit code is 0 even when evaluation crashes, so only its output files count.
    """
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lmms_eval",
            "--model",
            "qwen2_vl",
            "--model_args",
            f"pretrained={model},device_map=cpu,device=cpu",
            "--tasks",
            TASK,
            "--include_path",
            str(folder),
            "--batch_size",
            "1",
            "--output_path",
            str(out),
            "--log_samples",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = glob.glob(str(out / "*" / f"*_samples_{TASK}.jsonl"))
    results = glob.glob(str(out / "*" / "*_results.json"))
    assert found and results, (
        f"lmms-eval wrote no results:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    rows = {}
    for line in Path(found[0]).read_text().splitlines():
        row = json.loads(line)
        rows[str(row["doc_id"])] = row
    return rows, json.loads(Path(results[0]).read_text())["results"][TASK]


@pytest.mark.slow
def test_our_run_gives_lmms_evals_predictions_and_scores(
    tmp_path: Path, tiny_qwen: Path, cli_env: dict[str, str], bridge_registered: None
) -> None:
    n = 8
    model_args = f"pretrained={tiny_qwen}"
    # 1. learn what the random-weight model says, in-process
    first = write_vqa(
        tmp_path / "v1" / "vqa.parquet", [answers_matching("zzz", 0, i) for i in range(n)]
    )
    write_task(tmp_path / "v1" / "tasks", TASK, first)
    model = ModelSpec("lmms:qwen2_vl", args={"model_args": model_args}, batch_size=1)
    result, said, _ = run(
        tmp_path / "v1", model, {"include_path": str(tmp_path / "v1" / "tasks")}, batch_size=1
    )
    assert result.n_errors == 0 and said["prediction"].str.len().min() > 0
    again, _, _ = run(
        tmp_path / "v1", model, {"include_path": str(tmp_path / "v1" / "tasks")}, batch_size=1
    )
    assert again.n_reused == n  # a rerun resumes: the samples' keys are stable

    # 2. the same questions and images, with answers that make those predictions score 0…1
    k = [0, 1, 2, 3, 4, 10, 1, 3][:n]
    second = write_vqa(
        tmp_path / "v2" / "vqa.parquet",
        [answers_matching(p, k[i], i) for i, p in enumerate(said["prediction"])],
    )
    folder = tmp_path / "v2" / "tasks"
    write_task(folder, TASK, second)
    env = {**cli_env, "LMMS_EVAL_DATASETS_CACHE": str(tmp_path / "hf-cli")}
    ours = subprocess.run(
        [
            sys.executable,
            "-m",
            "evalharness.cli.main",
            "run",
            "model=lmms:qwen2_vl",
            f"model.args.model_args={model_args}",
            f"benchmark=lmms:{TASK}",
            f"benchmark.args.include_path={folder}",
            "batch_size=1",
            "results_dir=results",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ours.returncode == 0, ours.stderr[-3000:]
    rows, table = lmms_cli(env, folder, tiny_qwen, tmp_path / "lmms-out", tmp_path)

    samples = load_samples(tmp_path / "results").set_index("sample_id")
    assert sorted(rows) == sorted(samples.index)
    for doc_id, row in rows.items():
        mine = samples.loc[doc_id]
        assert mine["prediction"] == row["filtered_resps"] == said.loc[int(doc_id), "prediction"]
        assert mine["prompt"] == row["input"]
        assert mine["metric_exact_match"] == pytest.approx(row["exact_match"])
    assert sorted(samples["metric_exact_match"]) == pytest.approx(
        sorted(vqa_accuracy(x) for x in k)
    )
    metrics = json.loads(load_runs(tmp_path / "results").loc[0, "metrics"])
    assert metrics["lmms_eval:exact_match"]["value"] == pytest.approx(table["exact_match,none"])
    assert metrics["score"]["value"] == pytest.approx(table["exact_match,none"])
    assert 0 < table["exact_match,none"] < 1
