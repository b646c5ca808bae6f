"""open_clip models (CoCa, CLIP, SigLIP) on tiny random-weight checkpoints built offline."""

from __future__ import annotations

import io
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from model_helpers import (
    answer_ahead,
    assert_info_apart,
    assert_scores_close,
    choice,
    heavy_after_import,
    option_items,
)
from PIL import Image

from evalharness.models import _tiny_open_clip, tiny
from evalharness.models.base import ModelLoadError, ModelSpec
from evalharness.models.open_clip import OpenCLIPModel, is_caption, tiny_coca
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.store import load_runs, load_samples
from evalharness.types import GenerationSettings, PILImageSource, Request, Sample

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 28, "patch_size": 14, "layers": 2, "width": 32, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}
"""A plain CLIP in open_clip's config schema; with `init_logit_bias` it scores like SigLIP."""


def cpu_spec(**kw: Any) -> ModelSpec:
    """On CPU in float32 even where a GPU is present, so the tolerances here hold everywhere."""
    return ModelSpec(device="cpu", **kw)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny")


@pytest.fixture(scope="module")
def folder(root: Path) -> Path:
    return tiny.build("coca", root)


@pytest.fixture(scope="module")
def model(folder: Path) -> OpenCLIPModel:
    return OpenCLIPModel(cpu_spec(name="tiny_coca", path=str(folder)))


def open_clip_folder(dest: Path, cfg: dict[str, Any]) -> Path:
    """A random-weight checkpoint folder in open_clip's hub layout, built by open_clip itself."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    dest.mkdir(parents=True)
    (dest / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg}))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = open_clip.create_model(f"local-dir:{dest}")
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, dest / "model.safetensors")
    return dest


@pytest.fixture(scope="module")
def clip_folder(root: Path) -> Path:
    return open_clip_folder(root / "clip", TINY_CLIP)


def image(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Image.Image:
    img = Image.new("RGB", size, colour)
    img.paste((255, 255, 255), (4, 4, 20, 12))
    return img


def ask(
    img: Image.Image | None,
    text: str = "Describe the image in one sentence.",
    tokens: int = 8,
    category: str = "",
) -> Request:
    images = (img,) if img is not None else ()
    sample = Sample(
        id=text,
        images=tuple(PILImageSource(i) for i in images),
        prompt=text,
        targets=("a red square",),
        category=category,
    )
    gen = GenerationSettings(max_new_tokens=tokens)
    return Request(sample=sample, images=images, text=text, mode="generate", generation=gen)


def options_batch() -> list[Request]:
    return option_items(image)


def caption_batch() -> list[Request]:
    return [
        ask(image((200, 10, 10))),
        ask(image((10, 200, 10), (64, 20)), tokens=3),
        ask(image((10, 10, 200)), category="caption"),
        ask(image((250, 250, 0)).convert("L"), "Provide a one-sentence caption for the image."),
        ask(image((0, 0, 0)), tokens=5),
    ]


def reference_logits(folder: Path, img: Image.Image, options: tuple[str, ...]) -> list[float]:
    """The model's own image-text logits, loaded and computed with open_clip alone."""
    import open_clip
    import torch

    net, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
    pixels, tokens = preprocess(img).unsqueeze(0), tokenizer(list(options))
    with torch.no_grad():
        if hasattr(net, "get_logits"):  # CLIP and SigLIP: scale and bias applied by open_clip
            logits, _ = net.eval().get_logits(pixels, tokens)
        else:  # CoCa's forward pairs images with texts and returns embeddings and scale
            out = net.eval()(pixels.expand(len(options), -1, -1, -1), tokens)
            logits = out["logit_scale"] * out["image_features"] @ out["text_features"].T
    return [float(x) for x in logits[0]]


def greedy_ids(m: OpenCLIPModel, img: Image.Image, steps: int) -> list[int]:
    """Greedy decoding the plain way: the whole forward pass again for every new token."""
    import torch

    pixels = m.preprocess(img.convert("RGB")).unsqueeze(0)
    tokens = torch.tensor([[m.tokenizer.sot_token_id]])
    with torch.no_grad():
        for _ in range(steps):
            logits = m.model(pixels, tokens, output_labels=False)["logits"][0, -1]
            tokens = torch.cat([tokens, logits.argmax().reshape(1, 1)], dim=1)
    return [int(t) for t in tokens[0, 1:]]


def test_loads_from_the_folder(model: OpenCLIPModel, folder: Path) -> None:
    import open_clip

    names = {p.name for p in folder.iterdir()}
    assert {"open_clip_config.json", "open_clip_model.safetensors", tiny.MARKER} <= names
    config = json.loads((folder / "open_clip_config.json").read_text())
    assert config["model_cfg"] == _tiny_open_clip.CONFIG and "mean" in config["preprocess_cfg"]
    assert isinstance(model.model, open_clip.CoCa)
    assert model.capabilities == frozenset({"choice", "generate"}) and model.reference is False


def test_choice_scores_are_the_models_own_logits(model: OpenCLIPModel, folder: Path) -> None:
    options = ("a red circle", "two green squares", "yes")
    img = image((200, 10, 10))
    (pred,) = model.predict([choice(img, options)])
    assert pred.error is None and pred.choice_scores is not None
    assert all(math.isfinite(s) for s in pred.choice_scores) and pred.latency_s > 0
    expected = reference_logits(folder, img, options)
    assert pred.choice_scores == pytest.approx(expected, rel=1e-4, abs=1e-5)
    other = model.predict([choice(image((0, 0, 250)), options)])[0].choice_scores
    assert other != pytest.approx(pred.choice_scores, rel=1e-6, abs=1e-7)


def test_batch_equals_one_by_one(model: OpenCLIPModel) -> None:
    reqs = [x for pair in zip(options_batch(), caption_batch(), strict=False) for x in pair]
    together = model.predict(reqs)
    alone = [model.predict([r])[0] for r in reqs]
    small = OpenCLIPModel(cpu_spec(name="c", path=model.spec.path, batch_size=2)).predict(reqs)
    assert [p.error for p in together] == [None] * len(reqs)
    for a, b, c in zip(together, alone, small, strict=True):
        assert a.text == b.text == c.text and a.output_tokens == b.output_tokens
        if a.choice_scores is not None:
            assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)
            assert_scores_close(a.choice_scores, c.choice_scores, rel=1e-4, abs=1e-5)


def test_captions_are_greedy_within_the_budget(model: OpenCLIPModel) -> None:
    reqs = caption_batch()
    preds = model.predict(reqs)
    texts = {p.text for p in preds}
    assert len(texts) > 1  # the caption depends on the image
    for req, pred in zip(reqs, preds, strict=True):
        ids = greedy_ids(model, req.images[0], req.generation.max_new_tokens)
        n = ids.index(model._end) + 1 if model._end in ids else len(ids)
        assert pred.error is None and pred.output_tokens == n
        assert pred.text == model._decode(ids[:n]) and pred.text
        assert "<start_of_text>" not in pred.text and "<end_of_text>" not in pred.text


def test_budget_is_capped_at_the_text_positions(model: OpenCLIPModel) -> None:
    (pred,) = model.predict([ask(image((200, 10, 10)), tokens=500)])
    assert pred.error is None and pred.output_tokens == _tiny_open_clip.CONTEXT
    assert model._budget(500) == _tiny_open_clip.CONTEXT and model._budget(7) == 7


def test_end_token_ends_the_caption(folder: Path) -> None:
    m = OpenCLIPModel(cpu_spec(name="c", path=str(folder)))
    img = image((10, 10, 200))
    ids = greedy_ids(m, img, 8)
    m._end = ids[2]  # as if the model had drawn its end token third
    (pred,) = m.predict([ask(img)])
    assert pred.output_tokens == 3 and pred.text == m._decode(ids[:2])


def test_stop_strings_cut_the_caption(model: OpenCLIPModel) -> None:
    req = ask(image((200, 10, 10)))
    (full,) = model.predict([req])
    assert full.text is not None and len(full.text) >= 3
    stop = full.text[2]
    gen = GenerationSettings(8, 0.0, (stop,))
    (cut,) = model.predict([Request(req.sample, req.images, req.text, "generate", gen)])
    assert cut.text == full.text[: full.text.index(stop)]


def test_which_requests_are_captions() -> None:
    img = image((1, 2, 3))
    assert is_caption(ask(img, "Describe the image in one sentence."))
    assert is_caption(ask(img, "Provide a one-sentence caption for the provided image."))
    assert is_caption(ask(img, "Look.", category="caption"))
    assert not is_caption(ask(img, 'Does the following caption match the image? "a cat"'))
    assert not is_caption(ask(img, "How many red circles are there?"))
    assert not is_caption(choice(img, ("a", "b"), mode="generate"))  # lettered options
    assert not is_caption(choice(img, ("a", "b")))


def test_unanswerable_requests(model: OpenCLIPModel) -> None:
    good = choice(image((200, 10, 10)), ("red", "blue"))
    reqs = [
        ask(image((1, 2, 3)), "How many circles are there?"),
        choice(image((1, 2, 3)), ("x", "y"), mode="generate"),
        good,
        choice(None, ("red", "blue")),
        choice(object(), ("red", "blue")),  # not an image: fails inside the batch
        ask(None),
    ]
    preds = model.predict(reqs)
    for k in (0, 1):
        assert preds[k].unsupported is not None and preds[k].error is None
    assert preds[3].error is not None and "image" in preds[3].error
    assert preds[4].error is not None and preds[4].choice_scores is None
    assert preds[5].error is not None and "image" in preds[5].error
    assert preds[2].error is None
    assert preds[2].choice_scores == pytest.approx(
        model.predict([good])[0].choice_scores, rel=1e-4, abs=1e-5
    )


def test_prepare_transforms_images_ahead_and_answers_as_predict(
    model: OpenCLIPModel, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = choice(object(), ("red", "blue"))  # not an image: fails in the call, on its own
    reqs = [*options_batch(), *caption_batch(), bad]
    expected = model.predict(reqs)
    assert not model.process_ahead  # auto, on a CPU
    twin = OpenCLIPModel(cpu_spec(name="tiny_coca", path=str(folder), args={"process_ahead": True}))
    seen: list[int] = []
    transform = twin._transform

    def spy(img: Any) -> Any:
        seen.append(id(img))
        return transform(img)

    monkeypatch.setattr(twin, "_transform", spy)
    run = twin.prepare(reqs)
    assert len(seen) == 10  # every image once (the last is no image: it fails)
    preds = run()
    assert set(seen[10:]) == {id(bad.images[0])}  # the call transforms only the bad one
    assert preds[-1].error is not None and preds[-1].choice_scores is None
    for a, b in zip(preds[:-1], expected[:-1], strict=True):
        assert a.text == b.text and a.error is None
        if b.choice_scores is not None:
            assert_scores_close(a.choice_scores, b.choice_scores, rel=1e-4, abs=1e-5)
    chunks = [reqs[:3], reqs[3:7], reqs[7:]]
    for want, have in zip(
        [model.predict(c) for c in chunks], answer_ahead(twin, chunks), strict=True
    ):
        assert [p.text for p in have] == [p.text for p in want]


def test_captions_off_makes_a_matcher(model: OpenCLIPModel, folder: Path) -> None:
    m = OpenCLIPModel(cpu_spec(name="c", path=str(folder), args={"captions": False}))
    assert m.capabilities == frozenset({"choice"})
    cap, opt = m.predict([ask(image((9, 9, 9))), options_batch()[0]])
    assert cap.unsupported is not None and cap.error is None
    assert_scores_close(opt.choice_scores, model.predict([options_batch()[0]])[0].choice_scores)
    assert m.identity()["captions"] is False and model.identity()["captions"] is True


def test_identity(model: OpenCLIPModel, folder: Path, root: Path) -> None:
    ident = model.identity()
    assert ident["path"] == str(folder) and ident["pretrained"] is None
    assert ident["family"] == "coca"
    assert_info_apart(model, "contrastive", model.model)
    assert ident["dtype"] == "float32" and ident["revision"].startswith("local:")
    # mostly the 49,408-token embedding and head
    assert 1_000_000 < (model.info().params or 0) < 5_000_000
    assert "template" not in ident
    # built from a fixed seed: a second build elsewhere is the same model
    again = OpenCLIPModel(cpu_spec(name="c", path=str(tiny.build("coca", root / "again"))))
    assert again.identity()["revision"] == ident["revision"]
    templated = OpenCLIPModel(cpu_spec(name="c", path=str(folder), args={"template": "a {}"}))
    assert templated.identity()["template"] == "a {}"
    req = choice(image((200, 10, 10)), ("red", "blue"))
    assert templated.predict([req])[0].choice_scores != model.predict([req])[0].choice_scores


def test_bfloat16_answers_like_float32(model: OpenCLIPModel, folder: Path) -> None:
    half = OpenCLIPModel(cpu_spec(name="c", path=str(folder), dtype="bfloat16"))
    assert half.identity()["dtype"] == "bfloat16"
    reqs = [options_batch()[0], caption_batch()[1]]
    got, want = half.predict(reqs), model.predict(reqs)
    assert [p.error for p in got] == [None, None]
    assert_scores_close(got[0].choice_scores, want[0].choice_scores, abs=0.1)
    assert got[1].text and got[1].output_tokens == want[1].output_tokens


@pytest.mark.parametrize("bias", [None, -10.0])
def test_clip_and_siglip_checkpoints_only_match(bias: float | None, root: Path) -> None:
    cfg = dict(TINY_CLIP, init_logit_bias=bias) if bias is not None else TINY_CLIP
    path = open_clip_folder(root / f"clip-{bias}", cfg)
    m = OpenCLIPModel(cpu_spec(name="c", path=str(path)))
    assert m.capabilities == frozenset({"choice"})
    ident = m.identity()
    assert ident["family"] == ("clip" if bias is None else "siglip") and "captions" not in ident
    options = ("a red circle", "two green squares", "yes")
    img = image((200, 10, 10))
    pred, cap = m.predict([choice(img, options), ask(img)])
    assert pred.choice_scores == pytest.approx(
        reference_logits(path, img, options), rel=1e-4, abs=1e-5
    )
    assert cap.unsupported is not None and cap.error is None


def test_named_architecture_with_a_weights_file(clip_folder: Path, tmp_path: Path) -> None:
    import open_clip

    (tmp_path / "evalharness-test-clip.json").write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(tmp_path / "evalharness-test-clip.json")
    weights = clip_folder / "model.safetensors"
    named = OpenCLIPModel(
        cpu_spec(name="c", path="evalharness-test-clip", args={"pretrained": str(weights)})
    )
    from_folder = OpenCLIPModel(cpu_spec(name="c", path=str(clip_folder)))
    ident = named.identity()
    assert ident["path"] == "evalharness-test-clip" and ident["pretrained"] == str(weights)
    assert ident["revision"].startswith("local:") and ident["family"] == "clip"
    req = choice(image((200, 10, 10)), ("red", "blue", "a cat"))
    assert named.predict([req])[0].choice_scores == pytest.approx(
        from_folder.predict([req])[0].choice_scores, rel=1e-5
    )


def test_hub_id_loads_through_open_clip(
    folder: Path, model: OpenCLIPModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An hf-hub:org/name id, served from a local hub cache with the hub switched off."""
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--evalharness--tiny-coca"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(folder, repo / "snapshots" / commit, ignore=shutil.ignore_patterns(".*"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub = OpenCLIPModel(cpu_spec(name="c", path="hf-hub:evalharness/tiny-coca"))
    assert hub.identity()["revision"] == commit
    reqs = [options_batch()[0], caption_batch()[0]]
    a, b = hub.predict(reqs), model.predict(reqs)
    assert_scores_close(a[0].choice_scores, b[0].choice_scores, rel=1e-5)
    assert a[1].text == b[1].text


def test_load_errors_name_the_fix(
    folder: Path, clip_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(match: str, path: str | None, **args: Any) -> None:
        with pytest.raises(ModelLoadError, match=match):
            OpenCLIPModel(cpu_spec(name="c", path=path, args=args))

    fails("folder .* does not exist", str(tmp_path / "nowhere"))
    fails("no open_clip_config.json", str(tmp_path))
    empty = tmp_path / "no-weights"
    empty.mkdir()
    shutil.copy(folder / "open_clip_config.json", empty)
    fails("no weights file", str(empty))
    fails("unknown open_clip model 'coca_ViT-B-3'. Did you mean 'coca_ViT-B-32'", "coca_ViT-B-3")
    fails("spelt hf-hub:laion/CoCa-ViT-B-32", "laion/CoCa-ViT-B-32")
    fails("set model.args.pretrained to a tag of ViT-B-32 \\(.*laion2b", "ViT-B-32")
    fails(
        "weights file .*missing.safetensors does not exist",
        "ViT-B-32",
        pretrained="missing.safetensors",
    )
    fails("'laion9b' is not a pretrained tag of ViT-B-32", "ViT-B-32", pretrained="laion9b")
    fails("pretrained applies to named architectures only", str(folder), pretrained="x")
    fails("needs a checkpoint", None)
    fails(r"'captoins' \(did you mean 'captions'\?\)", str(folder), captoins=False)
    fails("args.captions must be true or false, not 'maybe'", str(folder), captions="maybe")
    with pytest.raises(ModelLoadError, match="cannot pin a revision"):
        OpenCLIPModel(cpu_spec(name="c", path="hf-hub:org/name", revision="v1"))
    monkeypatch.setitem(sys.modules, "open_clip", None)  # as if it were not installed
    fails(r"pip install open_clip_torch", str(folder))


def test_tiny_factory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALHARNESS_CACHE", str(root))
    m = tiny_coca(cpu_spec(name="tiny_coca"))
    assert m.spec.path == str(tiny.folder("coca", root))
    assert m.identity()["path"] == "tiny:coca"  # not the cache folder, which varies by machine
    (pred,) = m.predict([ask(image((5, 5, 5)))])
    assert pred.error is None and pred.text


def test_runner_end_to_end(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tiny_coca through the registry and the runner: captions on the caption suite, and, as a
    matcher, the option items of a question suite; every row written with a real answer."""
    monkeypatch.setenv("EVALHARNESS_CACHE", str(root))
    results = str(tmp_path / "results")
    caption = BenchmarkSpec("synth_caption", {"n": 4, "meteor": False})
    counting = BenchmarkSpec("synth_counting", {"n": 4})
    for model_spec, bench in (
        (cpu_spec(name="tiny_coca"), caption),
        (cpu_spec(name="tiny_coca", label="tiny-coca-match", args={"captions": False}), counting),
    ):
        spec = RunSpec(model=model_spec, benchmarks=(bench,), results_dir=results, progress=False)
        [result] = run_job(spec, out=io.StringIO())
        assert result.error_rate == 0
    runs = load_runs(results).set_index("benchmark")
    assert set(runs["status"]) == {"complete"}
    assert json.loads(runs.loc["synth_caption", "model_identity"])["path"] == "tiny:coca"
    rows = load_samples(results)
    caps = rows[rows["benchmark"] == "synth_caption"]
    assert len(caps) == 4 and set(caps["mode"]) == {"generate"}
    assert caps["error"].isna().all() and (caps["prediction"].str.len() > 0).all()
    assert caps["score"].between(0, 1).all()
    counts = rows[rows["benchmark"] == "synth_counting"]
    assert len(counts) >= 4 and set(counts["mode"]) == {"choice"}
    assert counts["error"].isna().all()
    for scores, options in zip(counts["choice_scores"], counts["choices"], strict=True):
        assert len(json.loads(scores)) == len(json.loads(options))


def test_import_stays_light() -> None:
    modules = "evalharness.models.open_clip, evalharness.models._tiny_open_clip"
    assert heavy_after_import(modules, ("torch", "transformers", "open_clip")) == []
