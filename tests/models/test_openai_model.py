"""The OpenAI-compatible API model against a real HTTP server on loopback.

The server speaks the chat-completions wire format and is scripted per prompt: fail with a status
N times, stall past the client's timeout, or answer after a delay. Every request it gets is logged,
so the tests check what went over the wire, not what the client meant to send.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from model_helpers import assert_info_apart, serving
from PIL import Image

from evalharness import extract
from evalharness.models.base import ModelSpec, ModelUnavailableError
from evalharness.models.openai import APISettingsError, OpenAIModel, Settings
from evalharness.types import GenerationSettings, PILImageSource, Prediction, Request, Sample

KEY_ENV = "EVALHARNESS_TEST_API_KEY"
KEY = "sk-test-not-a-real-key"


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.log: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.script: dict[str, list[str]] = {}
        """prompt → what to do on its next calls: "500", "429", "400", "stall"; then answer."""
        self.delay: dict[str, float] = {}
        self.top: dict[str, list[tuple[str, float]]] = {}
        """prompt → the first token's top log-probabilities, given when a request asks for them."""
        self.refuse_logprobs = False
        """Answer 400 to a request that asks for log-probabilities."""
        self.in_flight = 0
        self.max_in_flight = 0

    def calls(self, text: str) -> int:
        return sum(1 for _, body in self.log if _prompt(body) == text)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a stalled answer meets a client that already hung up: expected here


def _prompt(body: dict[str, Any]) -> str:
    parts = body["messages"][-1]["content"]
    return "".join(p["text"] for p in parts if p["type"] == "text")


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = _prompt(body)
        with srv.lock:
            srv.log.append((dict(self.headers.items()), body))
            action = srv.script[text].pop(0) if srv.script.get(text) else "answer"
            srv.in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        status, payload, extra = self._answer(srv, text, action, body)
        # Counted as done before the reply goes out: the client may send its next request as
        # soon as it has read this one, before a handler's later bookkeeping would run.
        with srv.lock:
            srv.in_flight -= 1
        self._send(status, payload, extra)

    def _answer(
        self, srv: FakeServer, text: str, action: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if action == "reason":  # a reasoning model behind a server's reasoning parser
            message = {"role": "assistant", "content": "Yes.", "reasoning_content": "Hm, 2 or 3"}
            usage = {"completion_tokens": 9, "completion_tokens_details": {"reasoning_tokens": 6}}
            return 200, {"choices": [{"index": 0, "message": message}], "usage": usage}, {}
        if action == "stall":
            time.sleep(1.0)
        elif action != "answer":
            extra = {"Retry-After": "0"} if action == "429" else {}
            return int(action), {"error": {"message": f"scripted {action} for {text}"}}, extra
        if body.get("logprobs") and srv.refuse_logprobs:
            return 400, {"error": {"message": "logprobs are not supported"}}, {}
        time.sleep(srv.delay.get(text, 0.0))
        images = sum(1 for p in body["messages"][-1]["content"] if p["type"] == "image_url")
        answer: dict[str, Any] = {
            "id": "cmpl-1",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"echo {text} ({images})"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 7 + len(text), "completion_tokens": 3},
        }
        if body.get("logprobs") and text in srv.top:
            listed = [{"token": t, "logprob": lp} for t, lp in srv.top[text]]
            step = {**listed[0], "top_logprobs": listed[: body.get("top_logprobs", 0)]}
            answer["choices"][0]["logprobs"] = {"content": [step]}
        return 200, answer, {}

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with serving(FakeServer()) as srv:
        yield srv


def make_model(server: FakeServer, **args: Any) -> OpenAIModel:
    port = server.server_address[1]
    base: dict[str, Any] = {
        "base_url": f"http://127.0.0.1:{port}/v1",
        "api_key_env": KEY_ENV,
        "backoff_s": 0.01,
        "timeout_s": 5,
        "max_retries": 3,
    }
    return OpenAIModel(ModelSpec(name="openai", path="served-vlm", args={**base, **args}))


def request(text: str, images: int = 1, max_new_tokens: int = 16) -> Request:
    imgs = tuple(Image.new("RGB", (20 + i, 12), (40 * i, 100, 200)) for i in range(images))
    sample = Sample(id=text, images=tuple(PILImageSource(im) for im in imgs), prompt=text)
    gen = GenerationSettings(max_new_tokens=max_new_tokens)
    return Request(sample=sample, images=imgs, text=text, mode="generate", generation=gen)


def test_request_body_and_headers(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    model = make_model(server)
    (pred,) = model.predict([request("What colour is the square?", max_new_tokens=12)])

    assert pred.error is None
    assert pred.text == "echo What colour is the square? (1)"
    assert (pred.input_tokens, pred.output_tokens) == (7 + len("What colour is the square?"), 3)
    headers, body = server.log[0]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert body["model"] == "served-vlm"
    assert body["max_tokens"] == 12
    assert body["temperature"] == 0
    (message,) = body["messages"]
    assert message["role"] == "user"
    image_part, text_part = message["content"]
    assert text_part == {"type": "text", "text": "What colour is the square?"}
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.format == "PNG"
    assert decoded.size == (20, 12)
    assert decoded.convert("RGB").getpixel((0, 0)) == (0, 100, 200)


def test_no_key_no_authorization_header(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    (pred,) = make_model(server).predict([request("hi", images=2)])
    assert pred.text == "echo hi (2)"
    assert "Authorization" not in server.log[0][0]


def test_key_never_in_identity(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    model = make_model(server, max_image_size=16)
    ident = model.identity()
    assert_info_apart(model, "api")  # its size is unknown
    assert ident["model"] == "served-vlm"
    assert ident["base_url"].startswith("http://127.0.0.1:")
    assert KEY not in json.dumps(ident) and KEY not in repr(model)
    assert model.capabilities == frozenset({"generate"}) and model.reference is False


def test_order_kept_under_concurrency(server: FakeServer) -> None:
    texts = [f"q{i}" for i in range(12)]
    for i, t in enumerate(texts):
        server.delay[t] = 0.01 * (12 - i)  # later requests finish first
    preds = make_model(server, concurrency=4).predict([request(t) for t in texts])
    assert [p.text for p in preds] == [f"echo {t} (1)" for t in texts]
    assert server.max_in_flight > 1  # the requests really overlapped
    assert server.max_in_flight <= 4


@pytest.mark.parametrize("status", ["500", "429"])
def test_retries_then_succeeds(server: FakeServer, status: str) -> None:
    server.script["flaky"] = [status, status]
    (pred,) = make_model(server).predict([request("flaky")])
    assert pred.error is None and pred.text == "echo flaky (1)"
    assert server.calls("flaky") == 3


def test_gives_up_after_max_retries(server: FakeServer) -> None:
    server.script["down"] = ["503"] * 10
    (pred,) = make_model(server, max_retries=2).predict([request("down")])
    assert pred.text is None
    assert pred.error is not None and "503" in pred.error and "3 attempts" in pred.error
    assert server.calls("down") == 3


def test_client_error_not_retried(server: FakeServer) -> None:
    server.script["bad"] = ["400"] * 5
    preds = make_model(server).predict([request("bad"), request("good")])
    assert preds[0].error is not None
    assert "HTTP 400" in preds[0].error and "scripted 400 for bad" in preds[0].error
    assert server.calls("bad") == 1
    assert preds[1].text == "echo good (1)"  # one bad request does not sink the batch


def test_timeout_is_retried(server: FakeServer) -> None:
    server.script["slow"] = ["stall"]
    (pred,) = make_model(server, timeout_s=0.3).predict([request("slow")])
    assert pred.text == "echo slow (1)"
    assert server.calls("slow") == 2


def test_timeout_without_retries_is_an_error(server: FakeServer) -> None:
    server.script["slow"] = ["stall"]
    (pred,) = make_model(server, timeout_s=0.3, max_retries=0).predict([request("slow")])
    assert pred.error is not None and "timed out" in pred.error


def _close(server: FakeServer) -> None:
    server.shutdown()
    server.server_close()  # the port is closed now: every connect is refused


def test_connection_refused_after_answers_is_an_error_row(server: FakeServer) -> None:
    model = make_model(server, max_retries=1)
    assert model.predict([request("first")])[0].text == "echo first (1)"
    _close(server)
    (pred,) = model.predict([request("anyone?")])
    assert pred.error is not None and "connection failed" in pred.error


def test_a_server_never_reached_stops_the_run_at_once(server: FakeServer) -> None:
    model = make_model(server, max_retries=2, concurrency=2)
    _close(server)
    with pytest.raises(ModelUnavailableError) as info:
        model.predict([request(f"q{i}") for i in range(40)])
    message = str(info.value)
    assert message.startswith(f"model 'openai': cannot reach {model.settings.base_url}: ")
    assert "connection failed" in message and "gave up after 3 attempts" in message
    assert "Is the server running" in message and "same command run again" in message
    with pytest.raises(ModelUnavailableError, match="cannot reach"):  # and it stays stopped
        model.predict([request("later")])


def test_a_server_that_stops_answering_stops_the_run_after_a_streak(server: FakeServer) -> None:
    model = make_model(server, max_retries=0, concurrency=1)
    assert model.give_up_limit == 8
    for i in range(21):
        server.script[f"q{i}"] = ["503"]
    server.script["q5"] = ["400"]  # a client error is an answer: the streak starts again
    preds = model.predict([request(f"q{i}") for i in range(13)])
    assert [p.error is not None for p in preds] == [True] * 13  # 5 + a 400 + 7: no streak of 8
    assert model.predict([request("fine")])[0].text == "echo fine (1)"  # the count restarts
    with pytest.raises(ModelUnavailableError) as info:
        model.predict([request(f"q{i}") for i in range(13, 21)] + [request("x")])
    assert "stopped answering: 8 requests in a row failed for good" in str(info.value)
    assert "HTTP 503" in str(info.value)
    assert server.calls("x") == 0  # the request after the streak was never sent


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("401", f"The API key is read from the environment variable {KEY_ENV} (not set here"),
        ("403", f"The API key is read from the environment variable {KEY_ENV} (not set here"),
        ("404", "Check the served model's name ('served-vlm': model.path or model.args.model)"),
    ],
)
def test_a_wrong_key_or_model_name_stops_the_run_at_once(
    server: FakeServer, status: str, says: str
) -> None:
    for i in range(20):
        server.script[f"q{i}"] = [status]
    model = make_model(server, concurrency=1)
    with pytest.raises(ModelUnavailableError) as info:
        model.predict([request(f"q{i}") for i in range(20)])
    assert says in str(info.value) and f"HTTP {status}: scripted {status}" in str(info.value)
    assert len(server.log) == 1  # one request told us; the other 19 were not sent


def test_a_404_after_answers_is_one_sample_s_error(server: FakeServer) -> None:
    server.script["gone"] = ["404"]
    model = make_model(server, concurrency=1)
    preds = model.predict([request("fine"), request("gone"), request("fine too")])
    assert preds[1].error is not None and "HTTP 404" in preds[1].error
    assert preds[2].text == "echo fine too (1)"


def test_a_request_waiting_to_retry_gives_up_when_the_run_stops(server: FakeServer) -> None:
    server.script["wait"] = ["500"] * 10
    model = make_model(server, backoff_s=30, max_retries=5)
    got: list[Prediction] = []
    worker = threading.Thread(target=lambda: got.extend(model.predict([request("wait")])))
    worker.start()
    time.sleep(0.5)  # the request failed once and waits 15 to 30 s before its next try
    model._halt.set()  # as another request does when the server is found down
    worker.join(timeout=5)
    assert not worker.is_alive() and server.calls("wait") == 1
    assert got[0].error is not None and "gave up after 1 attempt" in got[0].error


def test_max_image_size_shrinks_keeping_aspect(server: FakeServer) -> None:
    img = Image.new("RGB", (64, 32), (255, 0, 0))
    req = request("big")
    req = Request(req.sample, (img,), req.text, req.mode, req.generation)
    make_model(server, max_image_size=16).predict([req])
    url = server.log[0][1]["messages"][0]["content"][0]["image_url"]["url"]
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (16, 8)


def test_choice_mode_is_unsupported(server: FakeServer) -> None:
    req = request("pick")
    req = Request(req.sample, req.images, req.text, "choice", req.generation, "choice", ("a", "b"))
    (pred,) = make_model(server).predict([req])
    assert pred.unsupported is not None and pred.error is None
    assert server.log == []


def test_settings_validation() -> None:
    def settings(path: str | None = "m", **args: Any) -> Settings:
        return Settings.from_spec(ModelSpec(name="openai", path=path, args=args))

    with pytest.raises(APISettingsError, match=r"set model\.args\.base_url"):
        settings()
    with pytest.raises(APISettingsError, match=r"model\.path=NAME or model\.args\.model=NAME"):
        settings(None, base_url="x")
    # a misspelt arg is named first, with the one meant, even when a required one is missing
    with pytest.raises(APISettingsError, match=r"'bse_url' \(did you mean 'base_url'\?\)"):
        settings(bse_url="x")
    with pytest.raises(APISettingsError, match="unknown args 'tmp'"):
        settings(base_url="x", tmp=1)
    for key, value in (("concurrency", 0), ("concurrency", "many"), ("max_retries", -1)):
        with pytest.raises(
            APISettingsError, match=rf"args\.{key} must be a whole number of at least"
        ):
            settings(base_url="x", **{key: value})
    with pytest.raises(APISettingsError, match="extra_body must be a mapping"):
        settings(base_url="x", extra_body="top_k=1")
    s = Settings.from_spec(ModelSpec(name="openai", path="m", args={"base_url": "http://h/v1/"}))
    assert s.url == "http://h/v1/chat/completions"
    assert (s.model, s.api_key_env, s.concurrency, s.max_retries) == ("m", "OPENAI_API_KEY", 8, 5)
    named = Settings.from_spec(
        ModelSpec(name="openai", path="m", args={"base_url": "http://h/v1", "model": "other"})
    )
    assert named.model == "other"


def test_a_trace_returned_apart_is_stored_in_front_of_the_answer(server: FakeServer) -> None:
    server.script["think"] = ["reason"]
    model = make_model(server)
    req = request("think")
    gen = GenerationSettings(max_new_tokens=16, thinking_tokens=100)
    [p] = model.predict([Request(req.sample, req.images, req.text, "generate", gen)])
    assert p.text == "<think>Hm, 2 or 3</think>Yes." and p.reasoning_tokens == 6
    assert server.log[-1][1]["max_tokens"] == 116  # thinking and answer budgets together
    assert extract.yes_no(p.text) is True
