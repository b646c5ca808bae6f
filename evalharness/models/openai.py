"""Models behind an OpenAI-compatible chat-completions API (vLLM, SGLang, hosted services).

Each request becomes one POST to `{base_url}/chat/completions` with the images as base64 PNG data
URLs, greedy decoding (`temperature` from the request, 0 by default) and `max_tokens` from its
generation settings. Requests run concurrently on a thread pool; answers come back in request
order. Rate limits (429), server errors (5xx), timeouts and dropped connections are retried with
exponential backoff and jitter; any other client error (400, 401, 404, …) is reported at once with
the server's message, since sending the same request again cannot fix it. When no request can
succeed (no server, a wrong key, model name or URL, a server gone down) the run stops
(`ModelUnavailableError`) rather than turning every remaining sample into an error.

A request that asks for first-token probabilities (`Request.first_token_words`) asks for the
first token's `logprobs` and `top_logprobs` (`_first_tokens.from_top_logprobs` reads them); a
server that refuses them (HTTP 400) is asked again without, and not asked for them again.

Only the standard library is used, so an API model needs nothing beyond the core install. The API
key is read from the environment variable named by `api_key_env` and never leaves this module.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from evalharness.errors import EvalharnessError
from evalharness.models._first_tokens import TOP_LOGPROBS, from_top_logprobs
from evalharness.models.base import ModelInfo, ModelSpec, ModelUnavailableError
from evalharness.models.settings import least, parse
from evalharness.types import Capability, Prediction, Request

if TYPE_CHECKING:
    from PIL import Image as PILImage

MAX_BACKOFF_S = 60.0
MAX_ERROR_CHARS = 500


class APIError(RuntimeError):
    """A request that failed for good; `retryable` says whether trying again could have helped."""

    def __init__(
        self,
        message: str,
        retryable: bool,
        retry_after: float | None = None,
        unreached: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.unreached = unreached
        """No connection to the server was made (refused, unknown host, …)."""
        self.status = status
        """The HTTP status the server answered with, if it answered."""


class APISettingsError(EvalharnessError, ValueError):
    """The API model's settings are missing or malformed; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """What `model=openai` takes in `model.args`."""

    base_url: str = ""
    """The server's API root, e.g. http://localhost:8000/v1 (required)."""
    model: str = ""
    """The served model's name (default: model.path)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the API key (the key itself is never saved)."""
    concurrency: int = field(default=8, metadata=least(1))
    """Requests in flight at once."""
    max_retries: int = field(default=5, metadata=least(0))
    """Retries of a rate-limited, failed or timed-out request."""
    timeout_s: float = field(default=60.0, metadata=least(0.001))
    """Seconds to wait for one answer."""
    backoff_s: float = field(default=1.0, metadata=least(0))
    """First retry delay in seconds, doubled on each retry (with jitter)."""
    max_image_size: int | None = field(default=None, metadata=least(1))
    """Longest image side in pixels; larger images are downscaled first."""
    system_prompt: str = ""
    """A system message put before every question."""
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    """Extra JSON fields for every request body (e.g. {top_k: 1})."""

    @staticmethod
    def from_spec(spec: ModelSpec) -> Settings:
        """`spec.args` parsed, with the served model's name from `model.path` unless given."""
        owner = f"model {spec.name!r}"
        settings = parse(Settings, spec, APISettingsError)
        model = settings.model or spec.path or ""
        if not settings.base_url or settings.base_url == "???":
            raise APISettingsError(
                f"{owner}: set model.args.base_url to the server's API root (http://host:port/v1)"
            )
        if not model or model == "???":
            raise APISettingsError(
                f"{owner}: name the served model with model.path=NAME or model.args.model=NAME"
            )
        return replace(settings, model=model)

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"


def image_data_url(image: PILImage.Image, max_size: int | None = None) -> str:
    """A PNG data URL, shrunk (aspect kept) so the longer side is at most `max_size`."""
    if max_size and max(image.size) > max_size:
        scale = max_size / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size)
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _server_message(body: bytes) -> str:
    """The error text from an OpenAI-style `{"error": {"message": …}}` body, else the raw body."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:MAX_ERROR_CHARS]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])[:MAX_ERROR_CHARS]
    if isinstance(err, str):
        return err[:MAX_ERROR_CHARS]
    return text[:MAX_ERROR_CHARS]


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _with_trace(message: dict[str, Any]) -> str:
    """The reply's text, whole: a reasoning trace a server returns apart (`reasoning_content`,
    as vLLM and SGLang do with a reasoning parser; `reasoning`) goes back in front of the answer
    between `<think>` tags, as the model wrote it, so it is stored and split like any other."""
    text = _message_text(message.get("content"))
    trace = message.get("reasoning_content") or message.get("reasoning")
    return f"<think>{trace}</think>{text}" if isinstance(trace, str) and trace else text


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer in content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class OpenAIModel:
    """A model behind an OpenAI-compatible chat-completions API (vLLM, SGLang, hosted)."""

    description = "A model behind an OpenAI-compatible chat-completions API (vLLM, SGLang, hosted)."
    capabilities: frozenset[Capability] = frozenset({"generate"})
    reference = False
    settings_type: ClassVar[type[Settings]] = Settings

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.settings = Settings.from_spec(spec)
        self._lock = threading.Lock()
        self._answered = False  # the server has answered at least once
        self._given_up = 0  # requests in a row that failed for good on retryable errors
        self._halt = threading.Event()  # set when the run is to stop: no more retries
        self._why = ""  # and why it stops
        self._no_logprobs = ""  # why the server gives no log-probabilities, once it refused

    def __repr__(self) -> str:
        return f"OpenAIModel(model={self.settings.model!r}, base_url={self.settings.base_url!r})"

    def identity(self) -> dict[str, Any]:
        s = self.settings
        ident: dict[str, Any] = {
            "base_url": s.base_url,
            "model": s.model,
        }
        # these change what the server sees; concurrency, retries and timeouts do not
        if s.max_image_size:
            ident["max_image_size"] = s.max_image_size
        if s.system_prompt:
            ident["system_prompt"] = s.system_prompt
        if s.extra_body:
            ident["extra_body"] = dict(s.extra_body)
        return ident

    def info(self) -> ModelInfo:
        return ModelInfo("api")

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        if not requests:
            return []
        workers = min(self.settings.concurrency, len(requests))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai")
        try:
            return list(pool.map(self._answer, requests))
        finally:
            pool.shutdown(cancel_futures=True)  # after a halt, queued requests are not sent

    @property
    def give_up_limit(self) -> int:
        """Requests in a row that may fail for good before the run stops: the server is down."""
        return max(8, 2 * self.settings.concurrency)

    def _count(self, failure: APIError | None) -> None:
        """Keep track of the server's health; stop the run when no request can succeed.

        An answer resets the count of requests in a row that failed for good on retryable errors
        (no connection, timeouts, 5xx, 429); a client error resets it too, as the server sent
        it. The run stops when no connection was ever made, after `give_up_limit` such failures
        in a row, or when the first answers are 401, 403 or 404 (a wrong key, model name or
        URL: every request would get the same), rather than spend every remaining sample on it.
        """
        with self._lock:
            if failure is None:
                self._answered, self._given_up = True, 0
                return
            if failure.retryable:
                self._given_up += 1
                never = failure.unreached and not self._answered
                down = never or self._given_up >= self.give_up_limit
            else:
                self._given_up = 0
                down = not self._answered and failure.status in (401, 403, 404)
            if not down:
                return
            if not self._halt.is_set():
                self._why = f"model {self.spec.name!r}: {self._stopped(failure)}"
                self._halt.set()
        raise ModelUnavailableError(self._why)

    def _stopped(self, failure: APIError) -> str:
        s = self.settings
        if failure.status in (401, 403):
            key = "set" if os.environ.get(s.api_key_env) else "not set"
            what = f"{s.base_url} refused the first requests ({failure}). The API key is read "
            what += f"from the environment variable {s.api_key_env} ({key} here; "
            what += "model.args.api_key_env names another)."
        elif failure.status == 404:
            what = f"{s.url} answered the first requests with {failure}. Check the served "
            what += f"model's name ({s.model!r}: model.path or model.args.model) and base_url."
        elif failure.unreached and not self._answered:
            what = f"cannot reach {s.base_url}: {failure}. Is the server running, and is "
            what += "base_url its API root (http://host:port/v1)?"
        else:
            what = f"{s.base_url} stopped answering: {self._given_up} requests in a row "
            what += f"failed for good, the last with {failure}."
        return (
            f"{what} The answers so far are stored; the same command run again goes on from them."
        )

    def body(self, request: Request, logprobs: bool = True) -> dict[str, Any]:
        """The chat-completions request body for one request; with the first token's
        log-probabilities where it asks for first-token probabilities (and `logprobs`)."""
        s = self.settings
        content: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": image_data_url(img, s.max_image_size)}}
            for img in request.images
        ]
        content.append({"type": "text", "text": request.text})
        messages: list[dict[str, Any]] = []
        if s.system_prompt:
            messages.append({"role": "system", "content": s.system_prompt})
        messages.append({"role": "user", "content": content})
        gen = request.generation
        body: dict[str, Any] = {
            **s.extra_body,
            "model": s.model,
            "messages": messages,
            # a thinking budget adds to the answer's: the server's limit covers both
            "max_tokens": gen.max_new_tokens + (gen.thinking_tokens or 0),
            "temperature": gen.temperature,
        }
        if gen.stop:
            body["stop"] = list(gen.stop)
        if request.first_token_words and logprobs and not self._no_logprobs:
            body.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return body

    def _ask(self, request: Request) -> tuple[dict[str, Any], float, str]:
        """The response, its latency, and why it holds no log-probabilities where the server
        refused them (it is then asked without)."""
        body = self.body(request)
        try:
            return (*self._post_with_retries(json.dumps(body).encode()), "")
        except APIError as exc:
            if exc.status != 400 or "logprobs" not in body:
                raise
            refused = f"the server refused log-probabilities ({exc})"
        plain = json.dumps(self.body(request, logprobs=False)).encode()
        data, latency = self._post_with_retries(plain)
        self._no_logprobs = refused  # the reply came without them: do not ask again
        return data, latency, refused

    def _answer(self, request: Request) -> Prediction:
        if request.mode != "generate":
            return Prediction(unsupported=f"API models only generate text (mode {request.mode!r})")
        if self._halt.is_set():
            raise ModelUnavailableError(self._why)
        try:
            data, latency, refused = self._ask(request)
            self._count(None)
            choice = data["choices"][0]
            usage = data.get("usage") or {}
        except APIError as exc:
            self._count(exc)
            return Prediction(error=f"APIError: {exc}")
        except (KeyError, IndexError, TypeError) as exc:
            return Prediction(error=f"APIError: malformed response ({type(exc).__name__}: {exc})")
        except Exception as exc:  # an image that cannot be encoded, …: this request only
            return Prediction.from_exception(exc)
        message = choice.get("message") or {}
        details = usage.get("completion_tokens_details") or {}
        words = request.first_token_words
        return Prediction(
            text=_with_trace(message),
            first_tokens=from_top_logprobs(choice, words, refused or self._no_logprobs)
            if words
            else None,
            latency_s=latency,
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            reasoning_tokens=details.get("reasoning_tokens") if isinstance(details, dict) else None,
        )

    def _post_with_retries(self, payload: bytes) -> tuple[dict[str, Any], float]:
        """The parsed response and the latency of the attempt that succeeded."""
        s = self.settings
        for attempt in range(s.max_retries + 1):
            start = time.perf_counter()
            try:
                return self._post(payload), time.perf_counter() - start
            except APIError as exc:
                if not exc.retryable:
                    raise
                last = attempt == s.max_retries
                if not last:  # wait before the next try, unless the run stops meanwhile
                    last = self._halt.wait(self._delay(attempt, exc.retry_after))
                if last:
                    n = attempt + 1
                    tries = f"gave up after {n} attempt{'s' if n > 1 else ''}"
                    raise APIError(
                        f"{exc} ({tries})", retryable=True, unreached=exc.unreached
                    ) from exc
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        s = self.settings
        if retry_after is not None:
            return min(retry_after, MAX_BACKOFF_S)
        # full jitter: spread concurrent retries out so they do not hit the server together
        return float(min(s.backoff_s * 2**attempt, MAX_BACKOFF_S) * random.uniform(0.5, 1.0))

    def _post(self, payload: bytes) -> dict[str, Any]:
        s = self.settings
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(s.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(s.url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=s.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            code = exc.code
            message = _server_message(exc.read())
            retryable = code >= 500 or code == 429
            wait = _retry_after(exc.headers)
            raise APIError(f"HTTP {code}: {message}", retryable, wait, status=code) from None
        except TimeoutError as exc:
            raise APIError(f"timed out after {s.timeout_s:g} s", True) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise APIError(f"timed out after {s.timeout_s:g} s", True) from exc
            raise APIError(f"connection failed: {reason}", True, unreached=True) from exc
        except (OSError, http.client.HTTPException) as exc:  # reset, refused, cut-off body
            raise APIError(f"connection failed: {exc}", True) from exc
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise APIError(f"response is not JSON: {raw[:200]!r}", True) from exc
        if not isinstance(data, dict):
            raise APIError(f"response is not a JSON object: {raw[:200]!r}", True)
        return data
