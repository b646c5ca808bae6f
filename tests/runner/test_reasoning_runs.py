"""Reasoning traces in a run: split off each reply before its answer is read, stored in their own
column with their token count, the raw reply kept whole; a reply cut off inside its trace is
`truncated` (its own status, a count on the run and on the board), and `reasoning_tags` names
other tags."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from conftest import RunCLI
from model_helpers import FakeModel

from evalharness import extract
from evalharness.benchmarks.base import BaseBenchmark
from evalharness.leaderboard import build_site
from evalharness.models.base import ModelSpec
from evalharness.runner.execute import RunResult, run_benchmark
from evalharness.runner.job import print_summary
from evalharness.runner.progress import Progress
from evalharness.runner.rescore import rescore
from evalharness.runner.spec import RunSpec
from evalharness.store import ResultsStore, load_runs, load_samples
from evalharness.types import Prediction, Request, Sample, Scored

REPLIES = {
    "read": ("<think>Is it a no? 3 or 4 circles... no, yes.</think>\n\nYes", 12),
    "template": ("The dog is there, so no doubt.</think>Yes, there is a dog.", 7),
    "cut": ("<think>Let me count: 1, 2, 3, 4, and then", 32),
    "hedged": ("<think>hm</think>Maybe, I can't tell.", 1),
    "plain": ("No", None),
    "other_tags": ("<reflect>No, wait.</reflect>Yes", None),
}


class YesNo(BaseBenchmark):
    name = "yes_no_items"
    capability = "vqa"
    version = "1"

    def samples(self) -> Sequence[Sample]:
        return [
            Sample(id=k, images=(), prompt="Is there a dog?", targets=("yes",)) for k in REPLIES
        ]

    def score_open(self, sample: Sample, text: str) -> Scored:
        said = extract.yes_no(text)
        return Scored(
            extracted=None if said is None else ("yes" if said else "no"), score=float(said is True)
        )


class Thinker(FakeModel):
    """Replies with a trace, as reasoning models do, and counts the trace's tokens."""

    name = "thinker"
    asked: ClassVar[list[Request]] = []

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        self.asked += requests
        return [
            Prediction(text=REPLIES[r.sample.id][0], reasoning_tokens=REPLIES[r.sample.id][1])
            for r in requests
        ]


def run(tmp_path: Path, **kw: object) -> str:
    return run_result(tmp_path, **kw).run_id


def run_result(tmp_path: Path, **kw: object) -> RunResult:
    spec = RunSpec(model=ModelSpec(name="thinker"), benchmarks=(), progress=False, **kw)  # type: ignore[arg-type]
    store = ResultsStore(tmp_path / "results")
    return run_benchmark(spec, Thinker(), YesNo(), store, Progress(1, False))


def test_traces_are_split_off_stored_and_counted(tmp_path: Path) -> None:
    result = run_result(tmp_path)
    summary = io.StringIO()
    print_summary([result], summary)
    header, _, line = summary.getvalue().splitlines()
    assert line.split()[header.split().index("truncated")] == "1"
    rows = load_samples(tmp_path / "results").set_index("sample_id")
    assert rows["prediction"].to_dict() == {k: v[0] for k, v in REPLIES.items()}  # kept whole
    assert rows.loc["read", "reasoning"] == "Is it a no? 3 or 4 circles... no, yes."
    assert rows.loc["template", "reasoning"] == "The dog is there, so no doubt."
    assert rows.loc["cut", "reasoning"] == "Let me count: 1, 2, 3, 4, and then"
    assert pd.isna(rows.loc["plain", "reasoning"])
    assert rows.loc["read", "reasoning_tokens"] == 12 and rows.loc["cut", "reasoning_tokens"] == 32
    assert rows["read_status"].to_dict() == {
        "read": "rule",
        "template": "rule",
        "cut": "truncated",
        "hedged": "unreadable",
        "plain": "rule",
        "other_tags": "rule",
    }
    assert rows["extracted"].astype(object).where(rows["extracted"].notna(), None).to_dict() == {
        "read": "yes", "template": "yes", "cut": None, "hedged": None, "plain": "no",
        "other_tags": "no",  # <reflect> is no default tag: its "No, wait." is read
    }  # fmt: skip
    assert rows.loc["cut", "score"] == 0.0  # no answer, so not right; counted apart below
    [stored] = load_runs(tmp_path / "results").to_dict("records")
    assert stored["n_truncated"] == 1 and stored["n_errors"] == 0
    assert json.loads(stored["reasoning_tags"]) == [list(p) for p in extract.DEFAULT_REASONING_TAGS]


def test_other_reasoning_tags_read_other_answers_in_a_run_of_their_own(tmp_path: Path) -> None:
    default = run(tmp_path)
    tags = (("<reflect>", "</reflect>"), *extract.DEFAULT_REASONING_TAGS)
    other = run(tmp_path, reasoning_tags=tags)
    assert other != default
    rows = load_samples(tmp_path / "results")
    mine = rows[rows["run_id"] == other].set_index("sample_id")
    assert mine.loc["other_tags", "reasoning"] == "No, wait."
    assert mine.loc["other_tags", "read_status"] == "rule"
    assert mine.loc["other_tags", "extracted"] == "yes"


def test_rescore_splits_with_the_run_s_own_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = (("<reflect>", "</reflect>"),)
    run_id = run(tmp_path, reasoning_tags=tags)
    monkeypatch.setattr("evalharness.runner.rescore.load_benchmark", lambda _spec: YesNo())
    store = ResultsStore(tmp_path / "results")
    frame = store.read_samples(run_id)
    frame["read_status"] = frame["reasoning"] = None
    store.compact(run_id, frame)
    assert rescore(tmp_path / "results") == 1
    rows = load_samples(tmp_path / "results").set_index("sample_id")
    assert rows.loc["other_tags", "read_status"] == "rule"
    assert rows.loc["cut", "read_status"] == "unreadable"  # <think> is not among this run's tags
    assert load_runs(tmp_path / "results").loc[0, "n_truncated"] == 0


def test_the_board_counts_truncated_replies(tmp_path: Path) -> None:
    run(tmp_path)
    index = build_site(tmp_path / "results", tmp_path / "site")
    page = next((index.parent / "benchmarks").glob("*.html")).read_text()
    assert ">Truncated</th>" in page
    cells = page.split(">Truncated</th>")[1]
    assert 'data-v="1">1</td>' in cells
    # the sample browser marks each sample without an answer, and why
    [data_file] = (index.parent / "data" / "runs").glob("*.js")
    data = json.loads(data_file.read_text().split("=", 1)[1].rstrip().rstrip(";"))
    [items_file] = (index.parent / "data" / "items").glob("*.js")
    items = json.loads(items_file.read_text().split("=", 1)[1].rstrip().rstrip(";"))
    ids = [items["id"][i] for i in data.get("i", range(len(data["s"])))]
    assert dict(zip(ids, data["r"], strict=True)) == {
        "read": None, "template": None, "cut": "truncated", "hedged": "unreadable", "plain": None,
        "other_tags": None,
    }  # fmt: skip


def test_reasoning_tags_from_the_command_line(cli: RunCLI, tmp_path: Path) -> None:
    tags = "reasoning_tags=[['<reflect>','</reflect>']]"
    cli("run", "model=oracle", "benchmark=example_parity", "limit=2", tags, check=True)
    [stored] = load_runs(tmp_path / "results").to_dict("records")
    assert json.loads(stored["reasoning_tags"]) == [["<reflect>", "</reflect>"]]
    for bad, says in [
        ("reasoning_tags=think", "reasoning_tags takes a list of [open, close] tag pairs"),
        ("reasoning_tags=[['<think>']]", "each item is an [open, close] pair"),
    ]:
        proc = cli("run", "model=oracle", "benchmark=example_parity", "limit=2", bad)
        assert proc.returncode != 0
        assert says in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_a_thinking_budget_reaches_the_model_and_is_part_of_the_run_s_key(tmp_path: Path) -> None:
    plain = run(tmp_path)
    Thinker.asked = []
    budgeted = run(tmp_path, max_thinking_tokens=512)
    assert budgeted != plain
    assert {r.generation.thinking_tokens for r in Thinker.asked} == {512}
    runs = load_runs(tmp_path / "results").set_index("run_id")
    assert json.loads(runs.loc[budgeted, "generation"])["thinking_tokens"] == 512
    assert "thinking_tokens" not in json.loads(runs.loc[plain, "generation"])


def test_a_thinking_budget_below_one_is_refused(cli: RunCLI) -> None:
    proc = cli("run", "model=oracle", "benchmark=example_parity", "max_thinking_tokens=0")
    assert proc.returncode != 0 and "max_thinking_tokens must be at least 1" in proc.stderr
