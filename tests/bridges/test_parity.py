"""`evalharness parity`: a stored VQAv2 run's raw answers read by lmms-eval's own VQAv2 scoring
(a local task reading the same parquet file), our official and robust readings beside it, and the
cross-harness page of the site."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.store import load_runs, load_samples
from evalharness.types import Prediction, Request

from .conftest import require_lmms_eval
from .lmms_data import TASK, write_task, write_vqa

TEN = [["red"] * 10, ["two"] * 10, ["yes"] * 10, ["cat"] * 6 + ["dog"] * 4]
# question ids 100 to 103; lmms-eval's VQAv2 scoring strips and normalises the reply, takes no
# sentence apart; our robust reading extracts the answer; the official one is vqaEval.py's
REPLIES = {"100": "red", "101": "The answer is two.", "102": "Yes", "103": "dog"}


class TableModel:
    """Answers each sample id from `args.answers`: a scripted model."""

    capabilities = frozenset({"generate"})
    reference = False

    def __init__(self, spec: ModelSpec) -> None:
        self.answers = dict(spec.args.get("answers", {}))

    def identity(self) -> dict[str, object]:
        return {"name": "table", "answers": self.answers}

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return [Prediction(text=self.answers.get(r.sample.id, "")) for r in requests]


def vqa_run(tmp_path: Path) -> tuple[Path, Path, str]:
    from evalharness import registry

    data = write_vqa(tmp_path / "data" / "vqa.parquet", TEN)
    folder = tmp_path / "tasks"
    write_task(folder, TASK, data)
    registry.models.register("table", TableModel)
    results = tmp_path / "results"
    spec = RunSpec(
        model=ModelSpec("table", args={"answers": REPLIES}),
        benchmarks=(BenchmarkSpec("vqav2", {"data_files": str(data)}),),
        results_dir=str(results),
        progress=False,
    )
    run_job(spec)
    [run_id] = load_runs(results)["run_id"].tolist()
    return results, folder, str(run_id)


@pytest.mark.slow  # a run, then lmms-eval loads its task
def test_parity_reads_a_run_three_ways_and_the_site_shows_where_they_disagree(
    tmp_path: Path,
) -> None:
    require_lmms_eval()
    from evalharness.leaderboard import build_site
    from evalharness.runner.parity import parity

    results, folder, run_id = vqa_run(tmp_path)
    samples = load_samples(results).set_index("sample_id")
    report = parity(results, run_id, TASK, include_path=str(folder))
    assert report.n == 4 and report.unmatched == 0
    table = __import__("pandas").read_parquet(report.path).set_index("sample_id")
    # lmms-eval's own reading of the stored answers, against ours on the same rows
    assert table.loc["100", "lmms_eval"] == 1.0 and table.loc["102", "lmms_eval"] == 1.0
    assert table.loc["101", "lmms_eval"] == 0.0  # a sentence: not "2" to lmms-eval
    assert table.loc["101", "robust"] == 1.0 and table.loc["101", "official"] == 0.0
    assert table.loc["102", "official"] == 0.0  # unanimous answers: no normalisation officially
    assert table["official"].tolist() == samples.loc[table.index, "metric_official"].tolist()
    assert report.counts == {
        "official ≠ lmms-eval": 1,  # 102
        "robust ≠ lmms-eval": 1,  # 101
        "official ≠ robust": 2,  # 101, 102
    }
    site = build_site(results, tmp_path / "site", title="t").parent
    page = (site / "parity.html").read_text()
    assert re.findall(r'data-kind="([^"]+)">(\d+)<', page) == [
        ("official ≠ lmms-eval", "1"),
        ("robust ≠ lmms-eval", "1"),
        ("official ≠ robust", "2"),
    ]
    assert re.findall(r'<tr data-sample="(\d+)">', page) == ["101", "102"]
    assert "The answer is two." in page


@pytest.mark.slow  # a run, then two commands that load lmms-eval
def test_the_parity_command_and_its_errors(tmp_path: Path) -> None:
    require_lmms_eval()
    results, folder, run_id = vqa_run(tmp_path)

    def cli(*args: str) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "evalharness.cli.main", "parity", *args],
            capture_output=True,
            text=True,
            timeout=300,
            env={**__import__("os").environ, "HF_DATASETS_OFFLINE": "1"},
        )

    ok = cli(run_id, "--task", TASK, "--include-path", str(folder), "--results", str(results))
    assert ok.returncode == 0, ok.stderr
    assert "4 samples compared" in ok.stdout and "robust ≠ lmms-eval: 1" in ok.stdout
    bad = cli("nope", "--task", TASK, "--include-path", str(folder), "--results", str(results))
    assert bad.returncode == 1 and bad.stderr.startswith("error: no run 'nope'")
    assert "Traceback" not in bad.stderr
