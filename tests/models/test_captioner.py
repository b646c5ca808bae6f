"""Captioners (BLIP, BLIP-2 without a question) on tiny random-weight checkpoints built offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from model_helpers import assert_info_apart
from PIL import Image

from evalharness.models import tiny
from evalharness.models.base import ModelSpec
from evalharness.models.captioner import CaptionerModel, tiny_blip
from evalharness.types import GenerationSettings, PILImageSource, Request, Sample

PROMPT = "a photo of"


def cpu_spec(**kw: Any) -> ModelSpec:
    """On CPU in float32 even where a GPU is present, so the tolerances here hold everywhere."""
    return ModelSpec(device="cpu", **kw)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny")


@pytest.fixture(scope="module", params=["blip", "blip2"])
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def model(family: str, root: Path) -> CaptionerModel:
    return CaptionerModel(cpu_spec(name=family, path=str(tiny.build(family, root))))


@pytest.fixture(scope="module")
def prompted(family: str, root: Path) -> CaptionerModel:
    path = str(tiny.build(family, root))
    return CaptionerModel(cpu_spec(name=family, path=path, args={"prompt": PROMPT}))


def image(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Image.Image:
    img = Image.new("RGB", size, colour)
    img.paste((255, 255, 255), (4, 4, 20, 12))
    return img


def ask(img: Image.Image | None, text: str = "Describe the image.", tokens: int = 8) -> Request:
    images = (img,) if img is not None else ()
    sample = Sample(id=text, images=tuple(PILImageSource(i) for i in images), prompt=text)
    gen = GenerationSettings(max_new_tokens=tokens)
    return Request(sample=sample, images=images, text=text, mode="generate", generation=gen)


def batch() -> list[Request]:
    return [
        ask(image((200, 10, 10))),
        ask(image((10, 200, 10), (64, 20)), tokens=3),
        ask(image((10, 10, 200))),
        ask(image((250, 250, 0)).convert("L")),
    ]


def test_batch_equals_one_by_one(model: CaptionerModel, prompted: CaptionerModel) -> None:
    reqs = batch()
    for m in (model, prompted):
        together = m.predict(reqs)
        alone = [m.predict([r])[0] for r in reqs]
        assert [p.error for p in together] == [None] * len(reqs)
        assert [p.text for p in together] == [p.text for p in alone]
        assert [p.output_tokens for p in together] == [p.output_tokens for p in alone]


def test_token_budget_is_per_request(model: CaptionerModel) -> None:
    preds = model.predict(batch())
    for req, pred in zip(batch(), preds, strict=True):
        assert pred.output_tokens is not None
        assert 1 <= pred.output_tokens <= req.generation.max_new_tokens
        assert isinstance(pred.text, str)
        assert pred.latency_s > 0
    one = model.predict([ask(image((200, 10, 10)), tokens=1)])[0]
    assert one.output_tokens == 1


def test_budget_beyond_the_text_positions_is_capped(model: CaptionerModel) -> None:
    (pred,) = model.predict([ask(image((200, 10, 10)), tokens=5000)])
    assert pred.error is None and pred.output_tokens is not None
    positions = model._positions
    assert positions is not None and pred.output_tokens < positions
    assert model._budget(5000, None) == positions - 1 - model._queries
    assert model._budget(5000, 7) == positions - 7
    assert model._budget(8, 7) == 8


def test_ignores_the_question(model: CaptionerModel) -> None:
    img = image((30, 60, 90))
    a, b = model.predict([ask(img, "How many circles?"), ask(img, "What colour is the star?")])
    assert a.text == b.text


def test_prompt_is_recorded_and_fed(model: CaptionerModel, prompted: CaptionerModel) -> None:
    assert prompted.identity()["prompt"] == PROMPT
    assert model.identity()["prompt"] == ""
    (with_prefix,) = prompted.predict([ask(image((200, 10, 10)))])
    (without,) = model.predict([ask(image((200, 10, 10)))])
    assert with_prefix.input_tokens is not None and with_prefix.input_tokens > 1
    assert with_prefix.text != without.text  # the prefix conditions the continuation


def test_identity(model: CaptionerModel, family: str) -> None:
    ident = model.identity()
    assert_info_apart(model, "captioner", model.ckpt.model)
    assert ident["family"] == {"blip": "blip", "blip2": "blip-2"}[family]
    assert (model.info().params or 0) > 10_000 and ident["revision"].startswith("local:")
    assert model.capabilities == frozenset({"generate"}) and model.reference is False


def test_unanswerable_requests(model: CaptionerModel) -> None:
    base = ask(image((1, 2, 3)))
    as_choice = Request(
        base.sample, base.images, base.text, "choice", base.generation, "choice", ("a", "b")
    )
    preds = model.predict([as_choice, ask(None), base])
    assert preds[0].unsupported is not None and preds[0].error is None
    assert preds[1].error is not None and "image" in preds[1].error
    assert preds[2].error is None and preds[2].text == model.predict([base])[0].text


def test_stop_strings_cut_the_caption(model: CaptionerModel) -> None:
    req = ask(image((200, 10, 10)))
    (full,) = model.predict([req])
    assert full.text is not None and len(full.text) >= 2
    stop = full.text[1]
    cut = Request(req.sample, req.images, req.text, "generate", GenerationSettings(8, 0.0, (stop,)))
    (pred,) = model.predict([cut])
    assert pred.text == full.text[: full.text.index(stop)]


def test_unknown_args_are_rejected(root: Path) -> None:
    from evalharness.models.base import ModelLoadError

    with pytest.raises(ModelLoadError, match="unknown args"):
        CaptionerModel(cpu_spec(name="b", path=str(tiny.build("blip", root)), args={"promt": "x"}))


def test_tiny_factory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALHARNESS_CACHE", str(root))
    m = tiny_blip(cpu_spec(name="tiny_blip"))
    assert m.spec.path == str(tiny.folder("blip", root))
    assert m.identity()["path"] == "tiny:blip"
    (pred,) = m.predict([ask(image((5, 5, 5)))])
    assert pred.error is None and pred.text is not None
