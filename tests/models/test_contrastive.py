"""Matching models (CLIP, SigLIP, SigLIP 2, FLAVA) on tiny random-weight checkpoints built offline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from model_helpers import (
    answer_ahead,
    assert_info_apart,
    assert_scores_close,
    choice,
    option_items,
)
from PIL import Image

from evalharness.models import tiny
from evalharness.models.base import ModelLoadError, ModelSpec
from evalharness.models.hf_contrastive import ContrastiveModel, tiny_clip
from evalharness.types import Request

FAMILIES = ("clip", "siglip", "siglip2", "flava")


def cpu_spec(**kw: Any) -> ModelSpec:
    """On CPU in float32 even where a GPU is present, so the tolerances here hold everywhere."""
    return ModelSpec(device="cpu", **kw)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny")


@pytest.fixture(scope="module", params=FAMILIES)
def model(request: pytest.FixtureRequest, root: Path) -> ContrastiveModel:
    folder = tiny.build(request.param, root)
    return ContrastiveModel(cpu_spec(name=f"tiny_{request.param}", path=str(folder)))


def image(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Image.Image:
    img = Image.new("RGB", size, colour)
    img.paste((255, 255, 255), (5, 5, 15, 15))
    return img


def batch() -> list[Request]:
    return option_items(image)


def test_answers_choice_items_with_finite_scores(model: ContrastiveModel) -> None:
    reqs = batch()
    preds = model.predict(reqs)
    assert len(preds) == len(reqs)
    for req, pred in zip(reqs, preds, strict=True):
        assert pred.error is None
        assert pred.choice_scores is not None
        assert len(pred.choice_scores) == len(req.choices)
        assert all(math.isfinite(s) for s in pred.choice_scores)
        assert pred.latency_s > 0


def test_batch_equals_one_by_one(model: ContrastiveModel) -> None:
    reqs = batch()
    together = model.predict(reqs)
    alone = [model.predict([r])[0] for r in reqs]
    for a, b in zip(together, alone, strict=True):
        assert a.choice_scores is not None and b.choice_scores is not None
        assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)
        assert _argmax(a.choice_scores) == _argmax(b.choice_scores)


def test_small_batch_size_gives_the_same_scores(model: ContrastiveModel, root: Path) -> None:
    spec = cpu_spec(name="x", path=model.spec.path, batch_size=3)
    split = ContrastiveModel(spec).predict(batch())
    for a, b in zip(model.predict(batch()), split, strict=True):
        assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)


def test_option_scores_follow_their_options(model: ContrastiveModel) -> None:
    img = image((200, 10, 10))
    options = ("a red circle", "green", "two blue squares")
    (fwd,) = model.predict([choice(img, options)])
    (rev,) = model.predict([choice(img, options[::-1])])
    assert fwd.choice_scores is not None and rev.choice_scores is not None
    assert fwd.choice_scores == pytest.approx(rev.choice_scores[::-1], rel=1e-4, abs=1e-5)


def test_scores_depend_on_the_image(model: ContrastiveModel) -> None:
    options = ("a red circle", "a blue square", "a green triangle")
    a, b = model.predict([choice(image((250, 0, 0)), options), choice(image((0, 0, 250)), options)])
    assert a.choice_scores != pytest.approx(b.choice_scores, rel=1e-6, abs=1e-7)


def test_unanswerable_requests_get_errors_others_answers(model: ContrastiveModel) -> None:
    good = choice(image((200, 10, 10)), ("red", "blue"))
    reqs = [
        choice(image((1, 2, 3)), ("x", "y"), mode="generate"),
        good,
        choice(None, ("red", "blue")),
        choice(object(), ("red", "blue")),  # not an image: fails inside the batch
    ]
    preds = model.predict(reqs)
    assert preds[0].unsupported is not None and preds[0].error is None
    assert preds[2].error is not None and "image" in preds[2].error
    assert preds[3].error is not None and preds[3].choice_scores is None
    assert preds[1].error is None
    assert preds[1].choice_scores == pytest.approx(
        model.predict([good])[0].choice_scores, rel=1e-4, abs=1e-5
    )


def ahead_twin(model: ContrastiveModel, **spec: Any) -> ContrastiveModel:
    """The same checkpoint with the processor run in `prepare` (as on a GPU)."""
    args = {"process_ahead": True}
    return ContrastiveModel(cpu_spec(name=model.spec.name, path=model.spec.path, args=args, **spec))


def test_prepare_processes_ahead_and_scores_as_predict(
    model: ContrastiveModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    reqs = [*batch(), choice(image((1, 2, 3)), ("x", "y"), mode="generate")]
    expected = model.predict(reqs)
    assert not model.process_ahead  # auto, on a CPU
    twin = ahead_twin(model, batch_size=3)
    calls: list[str] = []
    processor = twin.ckpt.processor

    def spy(**kwargs: Any) -> Any:
        calls.append("images" if "images" in kwargs else "text")
        return processor(**kwargs)

    monkeypatch.setattr(twin.ckpt, "processor", spy)
    run = twin.prepare(reqs)
    assert calls == ["images", "text"] * 2  # two batches (3 + 2 requests), processed now
    preds = run()
    assert len(calls) == 4  # the call only embeds
    assert preds[-1].unsupported is not None
    for a, b in zip(preds, expected, strict=True):
        assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)


def test_preparing_beside_a_running_call_changes_no_score(model: ContrastiveModel) -> None:
    chunks = [batch()[:2], batch()[2:], batch()[1:3]]
    expected = [model.predict(c) for c in chunks]
    for want, have in zip(expected, answer_ahead(ahead_twin(model), chunks), strict=True):
        for a, b in zip(have, want, strict=True):
            assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)


def test_a_prepared_batch_that_fails_is_halved(
    model: ContrastiveModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of memory on a prepared batch: its halves are processed anew and answered. A request
    the processor rejects leaves its batch unprepared, and fails alone."""
    import torch

    reqs = batch()
    expected = model.predict(reqs)
    twin = ahead_twin(model)
    embed, images = twin._embed, []

    def small_only(tower: str, inputs: Any) -> Any:
        if tower == "image":
            images.append(next(iter(inputs.values())).shape[0])
            if images[-1] > 2:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return embed(tower, inputs)

    monkeypatch.setattr(twin, "_embed", small_only)
    preds = twin.predict(reqs)
    assert images == [4, 2, 2]  # the prepared four, then each half
    for a, b in zip(preds, expected, strict=True):
        assert a.error is None
        assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)
    monkeypatch.undo()
    preds = twin.predict([*reqs, choice(object(), ("red", "blue"))])
    assert preds[4].error is not None and preds[4].choice_scores is None
    for a, b in zip(preds[:4], expected, strict=True):
        assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)


def test_identity(model: ContrastiveModel, root: Path) -> None:
    ident = model.identity()
    family = Path(str(model.spec.path)).name.split("-")[0]
    assert_info_apart(model, "masking" if family == "flava" else "contrastive", model.ckpt.model)
    assert ident["family"] == family
    assert ident["path"] == model.spec.path
    assert ident["dtype"] == "float32"
    assert 10_000 < (model.info().params or 0) < 1_000_000
    assert ident["revision"].startswith("local:")
    assert model.capabilities == frozenset({"choice"}) and model.reference is False
    # built from a fixed seed: a second build elsewhere is the same model, another family is not
    again = ContrastiveModel(cpu_spec(name="x", path=str(tiny.build(family, root / "again"))))
    assert again.identity()["revision"] == ident["revision"]
    other = "siglip" if family == "clip" else "clip"
    different = ContrastiveModel(cpu_spec(name="x", path=str(tiny.build(other, root))))
    assert different.identity()["revision"] != ident["revision"]


def test_template_wraps_options(root: Path) -> None:
    path = str(tiny.build("clip", root))
    plain = ContrastiveModel(cpu_spec(name="c", path=path))
    templated = ContrastiveModel(cpu_spec(name="c", path=path, args={"template": "a photo of {}"}))
    req = choice(image((200, 10, 10)), ("red", "blue"))
    assert plain.predict([req])[0].choice_scores != templated.predict([req])[0].choice_scores
    assert templated.identity()["template"] == "a photo of {}"
    assert "template" not in plain.identity()


@pytest.mark.parametrize("family", ["clip", "siglip", "siglip2"])
def test_scores_are_the_models_own_logits(family: str, root: Path) -> None:
    """Our scores equal `logits_per_image` from the model's forward on the same inputs."""
    import torch

    m = ContrastiveModel(cpu_spec(name=family, path=str(tiny.build(family, root))))
    options = ("a red circle", "two green squares", "yes")
    img = image((200, 10, 10))
    (pred,) = m.predict([choice(img, options)])
    proc, net = m.ckpt.processor, m.ckpt.model
    padding: Any = "max_length" if family.startswith("siglip") else True
    inputs = proc(
        text=list(options),
        images=[img],
        padding=padding,
        truncation=True,
        max_length=m.max_text,
        return_tensors="pt",
    )
    with torch.no_grad():
        expected = net(**inputs).logits_per_image[0].tolist()
    assert pred.choice_scores == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_tiny_factory_builds_and_loads(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALHARNESS_CACHE", str(root))
    m = tiny_clip(cpu_spec(name="tiny_clip"))
    assert m.spec.path == str(tiny.folder("clip", root))
    assert m.identity()["path"] == "tiny:clip"  # not the cache folder, which varies by machine
    (pred,) = m.predict([choice(image((9, 9, 9)), ("a", "b"))])
    assert pred.choice_scores is not None and len(pred.choice_scores) == 2


def test_load_errors_name_the_fix(root: Path, tmp_path: Path) -> None:
    path = str(tiny.build("clip", root))
    with pytest.raises(ModelLoadError, match="unknown args 'tempalte' \\(did you mean 'template'"):
        ContrastiveModel(cpu_spec(name="c", path=path, args={"tempalte": "{}"}))
    with pytest.raises(ModelLoadError, match="does not exist"):
        ContrastiveModel(cpu_spec(name="c", path=str(tmp_path / "nowhere")))
    with pytest.raises(ModelLoadError, match="needs a checkpoint"):
        ContrastiveModel(cpu_spec(name="c"))
    with pytest.raises(ModelLoadError, match="process_ahead must be auto, true or false"):
        ContrastiveModel(cpu_spec(name="c", path=path, args={"process_ahead": "often"}))


def _argmax(xs: list[float]) -> int:
    return max(range(len(xs)), key=xs.__getitem__)
