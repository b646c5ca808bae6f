"""Helpers the model tests share: a base for stand-in models, option requests, the runner's
prepare-ahead pattern, what an import loads, and a benchmark of given samples."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from evalharness.benchmarks.base import BaseBenchmark
from evalharness.models.base import ModelSpec, Preparing
from evalharness.types import (
    Capability,
    GenerationSettings,
    PILImageSource,
    Prediction,
    Request,
    Sample,
    Scored,
)


class FakeModel:
    """What every stand-in model of the tests has: built from the spec the registry passes,
    not a reference, generating, and named by `name` in its identity. Subclasses add `predict`
    (and `prepare`) and whatever they record."""

    name = "fake"
    capabilities: frozenset[Capability] = frozenset({"generate"})
    reference = False

    def __init__(self, spec: ModelSpec | None = None) -> None:
        self.spec = spec

    def identity(self) -> dict[str, object]:
        return {"name": self.name}


def assert_info_apart(model: Any, family_group: str, module: Any = None) -> None:
    """The model's `info()` names its kind and, for a torch `module`, its parameter count; its
    identity (the run key) holds neither. Keyed as versions before `info()` keyed it, the
    identity held both, as the info gives them (so the runs stored then are taken over)."""
    from evalharness.models._info import former_identity

    info, ident = model.info(), model.identity()
    params = None if module is None else sum(p.numel() for p in module.parameters())
    assert info.family_group == family_group and info.params == params
    assert not {"family_group", "params"} & set(ident)
    former = {**ident, "family_group": family_group}
    if params is not None:
        former["params"] = params
    assert former_identity(model, ident) == former


class SaysYes(FakeModel):
    """Answers "yes" to everything."""

    name = "yes"

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return [Prediction(text="yes") for _ in requests]


class Listed(BaseBenchmark):
    """A benchmark of the samples it is given; an answer scores when it is the target."""

    name = "listed"
    capability = "vqa"
    description = "the samples it is given"
    version = "1"

    def __init__(self, samples: Sequence[Sample]) -> None:
        self._samples = list(samples)

    def samples(self) -> Sequence[Sample]:
        return self._samples

    def score_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=float(text == sample.target))


def choice(img: Any, options: tuple[str, ...], mode: str = "choice") -> Request:
    """An option item about `img` (None: no image), as the runner asks matching models."""
    images = (img,) if img is not None else ()
    sample = Sample(
        id=str(options),
        images=tuple(PILImageSource(i) for i in images),
        prompt="Which matches?",
        choices=options,
        target_index=0,
    )
    return Request(
        sample=sample,
        images=images,
        text="Which matches?",
        mode=mode,  # type: ignore[arg-type]
        generation=GenerationSettings(),
        form="choice",
        choices=options,
    )


def option_items(image: Callable[..., Any]) -> list[Request]:
    """Four option items on pictures from `image(colour[, size])`: red, green, a blue one of
    another size, and the red one in grayscale."""
    red, green, blue = image((200, 10, 10)), image((10, 200, 10)), image((10, 10, 200), (31, 57))
    return [
        choice(red, ("a red circle", "a blue square")),
        choice(green, ("green", "a red circle", "a yellow star on the left")),
        choice(blue, ("one", "two", "three", "four")),
        choice(red.convert("L"), ("a black and white picture", "a photo of a cat")),
    ]


def answer_ahead(model: Preparing, chunks: Sequence[Sequence[Request]]) -> list[list[Prediction]]:
    """Each chunk's predictions, chunk k + 1 prepared on a worker thread while chunk k's call
    runs (the runner's pattern)."""
    got = []
    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(model.prepare, chunks[0])
        for i in range(len(chunks)):
            run = ahead.result()
            if i + 1 < len(chunks):
                ahead = pool.submit(model.prepare, chunks[i + 1])
            got.append(run())
    return got


def heavy_after_import(modules: str, heavy: Sequence[str]) -> list[str]:
    """Which of the `heavy` packages a fresh interpreter has loaded after `import modules`."""
    code = (
        f"import sys, {modules}; "
        f"print(','.join(sorted(m for m in {tuple(heavy)!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def assert_scores_close(
    got: Sequence[float] | None, want: Sequence[float] | None, **tol: float
) -> None:
    """Option scores agree within `tol` (pytest.approx's rel/abs), or both are None (a declined
    request has none). pytest.approx refuses None as an expected value with a tolerance."""
    if want is None or got is None:
        assert got is want, f"{got!r} != {want!r}"
        return
    assert list(got) == pytest.approx(list(want), **tol)


def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of tiny checkpoints, used through $EVALHARNESS_CACHE while it lasts: a module's
    fixture with `cache = pytest.fixture(scope="module")(tiny_cache)`."""
    root = tmp_path_factory.mktemp("tiny")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALHARNESS_CACHE", str(root))
        yield root


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """Serve `server` (bound to a port on 127.0.0.1) on a thread for the block's length."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
