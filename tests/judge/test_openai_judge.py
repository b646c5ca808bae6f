"""A judge behind an OpenAI-compatible API, served on 127.0.0.1: it reads what the rules cannot,
a rerun asks the server nothing, a timeout leaves the sample unreadable with the reason, an API
judge over `confirm_above` calls is not asked until confirmed, and HallusionBench's official
question reaches it in the script's words."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from judge_helpers import Options, Replier, run
from model_helpers import serving

from evalharness.judge import build_judge, judge_spec
from evalharness.store import load_samples


class JudgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.prompts: list[str] = []
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a stalled answer meets a client that already hung up


class _Handler(BaseHTTPRequestHandler):
    server: JudgeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        content = body["messages"][-1]["content"]
        prompt = (
            content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
        )
        with self.server.lock:
            self.server.prompts.append(prompt)
        text = _answer(prompt)
        data = json.dumps(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _answer(prompt: str) -> str:
    """The option a reply picks (`pick:X`), or "none"; HallusionBench's official question is
    answered with the `verdict:` the reply states, or "unclear"."""
    if "\nPrediction answer:" in prompt:
        reply = prompt.split("\nPrediction answer:", 1)[1]
        return reply.split("verdict:", 1)[1].split("\n", 1)[0] if "verdict:" in reply else "unclear"
    reply = prompt.split("<<<", 1)[1].split(">>>", 1)[0]
    if "SLOW" in reply:
        time.sleep(1.0)
    picked = re.search(r"pick:(\w+)", reply)
    return picked.group(1) if picked else "none"


@pytest.fixture
def server() -> Iterator[JudgeServer]:
    with serving(JudgeServer()) as srv:
        yield srv


def api_judge(server: JudgeServer, results: Path, err: io.StringIO, **settings: Any) -> Any:
    port = server.server_address[1]
    spec = judge_spec(
        {
            "model": {
                "name": "openai",
                "path": "judge-llm",
                "args": {
                    "base_url": f"http://127.0.0.1:{port}/v1",
                    "api_key_env": "EVALHARNESS_TEST_NO_KEY",
                    "timeout_s": 0.3,
                    "max_retries": 0,
                },
            },
            "agreement": 0.0,
            **settings,
        }
    )
    return build_judge(spec, results, err)


REPLIES = {"plain": "B", "torn": "Either A or B. pick:B", "slow": "A or C SLOW", "none": "A or C"}


def test_api_judge_end_to_end_and_rerun_asks_nothing(server: JudgeServer, tmp_path: Path) -> None:
    results, err = tmp_path / "results", io.StringIO()
    bench = Options(list(REPLIES))
    run(results, api_judge(server, results, err), Replier(REPLIES), bench)
    got = load_samples(results).set_index("sample_id")
    assert got["read_status"].to_dict() == {
        "plain": "rule",
        "torn": "judge",
        "slow": "unreadable",
        "none": "unreadable",
    }
    assert got.loc["torn", "extracted"] == "dog" and got.loc["torn", "judge_reply"] == "B"
    assert "timed out" in got.loc["slow", "judge_reason"]  # a timeout: no verdict, the reason
    assert "(none)" in got.loc["none", "judge_reason"]
    assert len(server.prompts) == 3
    assert "judge judge-llm for animal_options: 3 calls, ~" in err.getvalue()

    asked = len(server.prompts)
    fast = {**REPLIES, "slow": "A or C"}  # a rerun of the same replies, the slow one answered too
    run(results, api_judge(server, results, io.StringIO()), Replier(fast), bench)
    assert len(server.prompts) == asked + 1  # only the timed-out one is asked again


def test_api_judge_over_confirm_above_is_not_asked(server: JudgeServer, tmp_path: Path) -> None:
    results, err = tmp_path / "results", io.StringIO()
    replies = {"a": "A or B pick:A", "b": "A or B pick:B"}
    bench = Options(list(replies))
    run(results, api_judge(server, results, err, confirm_above=1), Replier(replies), bench)
    assert server.prompts == []
    got = load_samples(results).set_index("sample_id")
    assert (got["read_status"] == "unreadable").all()
    assert got["judge_reason"].str.contains("judge.confirm_above=1; set judge.confirm=true").all()
    assert "2 calls" in err.getvalue()

    confirmed = api_judge(server, results, err, confirm_above=1, confirm=True)
    run(results, confirmed, Replier(replies), bench)
    assert len(server.prompts) == 2
    assert (load_samples(results)["read_status"] == "judge").all()


def test_hallusionbench_asks_an_api_judge_in_the_official_words(
    server: JudgeServer, tmp_path: Path
) -> None:
    from hub.fixtures import TableModel
    from hub.test_yes_no import hallusion_file

    from evalharness.benchmarks.hub.hallusionbench import HallusionBench
    from evalharness.models.base import ModelSpec
    from evalharness.runner.execute import run_benchmark
    from evalharness.runner.progress import Progress
    from evalharness.runner.spec import BenchmarkSpec, RunSpec
    from evalharness.store import ResultsStore

    args = {"data_files": str(hallusion_file(tmp_path)), "split": "image"}
    answers = {
        "VD_illusion_0_0_0": "No. verdict:Correct.",
        "VD_illusion_0_0_1": "Yes, they are. verdict:It is incorrect.",
        "VD_illusion_0_1_0": "Maybe.",
        "VD_illusion_0_1_1": "No",
    }
    results, err = tmp_path / "results", io.StringIO()
    result = run_benchmark(
        RunSpec(model=ModelSpec("table"), benchmarks=(), progress=False),
        TableModel(ModelSpec("table", args={"answers": answers})),
        HallusionBench(**args),
        ResultsStore(results),
        Progress(1, False),
        source=BenchmarkSpec("hallusionbench", args),
        judge=api_judge(server, results, err),
    )
    assert len(server.prompts) == 4 and "hallusionbench: 4 calls" in err.getvalue()
    assert all(p.startswith("Imagine you are an intelligent teacher.") for p in server.prompts)
    end = " Question:Is the left line longer?\nReference answer: ...\nPrediction answer:No. "
    assert any(p.endswith(end + "verdict:Correct.\nOutput:") for p in server.prompts)
    got = load_samples(results).set_index("sample_id")
    assert got["judge_reply"].tolist() == ["Correct.", "It is incorrect.", "unclear", "unclear"]
    assert got["judge_answer"].tolist() == ["correct", "incorrect", "uncertain", "uncertain"]
    assert (got["read_status"] == "judge").all()
    assert got["metric_official"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert got["metric_robust"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert result.metrics["official"].value == 0.25 and result.metrics["score"].value == 0.25
