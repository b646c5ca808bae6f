"""HFModel on tiny offline checkpoints: every family end to end, batching, choice scores, errors."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from model_helpers import answer_ahead, assert_info_apart, assert_scores_close, tiny_cache
from PIL import Image, ImageDraw

from evalharness.models import _hf_load, _tiny_vlm, hf, tiny
from evalharness.models._hf_inputs import extend, limit_images, option_logprobs, process, to_model
from evalharness.models._hf_load import check_process_on
from evalharness.models._hf_settings import HFSettings
from evalharness.models.base import ModelLoadError, ModelSpec
from evalharness.models.hf import HFModel
from evalharness.types import GenerationSettings, PILImageSource, Request, Sample

FAMILIES = _tiny_vlm.GENERATIVE
MODEL_TYPE = {"blip2": "blip-2"}


cache = pytest.fixture(scope="module")(tiny_cache)


def picture(i: int, size: tuple[int, int] | None = None) -> Image.Image:
    img = Image.new("RGB", size or (40 + 7 * i, 30 + 5 * i), ((60 * i) % 256, 200 - 20 * i, 90))
    ImageDraw.Draw(img).ellipse([4, 4, 20, 20], fill=(255, 255, 0))
    return img


QUESTIONS = [
    "What colour is the circle?",
    "How many shapes are there?",
    "Is there a red square to the left of the blue circle in this image?",
    "Describe the image.",
    "Which shape is above the triangle? Answer with a single word.",
    "Count the stars.",
    "Is the background green?",
    "What shape is yellow, and is it on the left or on the right of the picture?",
]


def ask(
    i: int, text: str, images: tuple[Image.Image, ...] | None = None, max_new_tokens: int = 6
) -> Request:
    imgs = (picture(i),) if images is None else images
    sample = Sample(id=str(i), images=tuple(PILImageSource(x) for x in imgs), prompt=text)
    return Request(
        sample, imgs, text, "generate", GenerationSettings(max_new_tokens=max_new_tokens)
    )


def choose(i: int, options: tuple[str, ...], image: Image.Image | None = None) -> Request:
    img = image or picture(i)
    sample = Sample(
        id=str(i), images=(PILImageSource(img),), prompt="Which colour?", choices=options
    )
    return Request(
        sample,
        (img,),
        "Which colour?",
        "choice",
        GenerationSettings(),
        form="choice",
        choices=options,
    )


def tiny_model(family: str, **spec: Any) -> HFModel:
    factory = getattr(hf, f"tiny_{family}")
    model: HFModel = factory(ModelSpec(name=f"tiny_{family}", **spec))
    return model


@pytest.mark.parametrize("family", FAMILIES)
def test_family_answers_end_to_end(family: str, cache: Path) -> None:
    model = tiny_model(family, batch_size=2)
    reqs = [ask(0, QUESTIONS[0]), ask(1, QUESTIONS[2], max_new_tokens=3)]
    reqs.append(choose(2, ("red", "dark blue", "green")))
    gen_a, gen_b, choice = model.predict(reqs)
    for p, limit in ((gen_a, 6), (gen_b, 3)):
        assert p.error is None and isinstance(p.text, str)
        assert p.output_tokens is not None and 0 <= p.output_tokens <= limit
        assert p.input_tokens is not None and p.input_tokens > 5
        assert p.latency_s > 0
    assert choice.error is None and choice.choice_scores is not None
    assert len(choice.choice_scores) == 3 and all(math.isfinite(s) for s in choice.choice_scores)
    ident = model.identity()
    assert ident["path"] == f"tiny:{family}"
    assert ident["family"] == MODEL_TYPE.get(family, family)
    assert_info_apart(model, "generative", model._loaded.model)
    assert ident["dtype"] == "float32" and ident["revision"].startswith("local:")
    assert model.capabilities == frozenset({"generate", "choice"}) and model.reference is False


@pytest.mark.parametrize("family", FAMILIES)
def test_images_reach_the_model(family: str, cache: Path) -> None:
    """The image is a real input: a different picture changes the option scores."""
    model = tiny_model(family)
    red, blue = model.predict(
        [choose(0, ("red", "blue"), picture(0)), choose(0, ("red", "blue"), picture(3, (50, 40)))]
    )
    assert red.choice_scores is not None and blue.choice_scores is not None
    assert red.choice_scores != pytest.approx(blue.choice_scores, abs=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_same_answers_at_every_batch_size(family: str, cache: Path) -> None:
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS)]
    answers = {}
    for size in (1, 4, 7):
        model = tiny_model(family, batch_size=size)
        ran: list[int] = []  # the batch sizes generate really ran at
        call = model._call_generate

        def spy(
            inputs: dict[str, Any], kwargs: dict[str, Any], call: Any = call, ran: Any = ran
        ) -> Any:
            ran.append(int(inputs["input_ids"].shape[0]))
            return call(inputs, kwargs)

        model._call_generate = spy  # type: ignore[method-assign]
        preds = model.predict(reqs)
        assert all(p.error is None for p in preds)
        # batched for real: a batch that failed would be rerun request by request
        assert ran == [min(size, len(reqs) - i) for i in range(0, len(reqs), size)], ran
        answers[size] = [(p.text, p.output_tokens, p.input_tokens) for p in preds]
    assert answers[1] == answers[4] == answers[7]
    # answers come back in request order, not in the sorted order they ran in
    assert len({a[0] for a in answers[1]}) > 1
    backwards = tiny_model(family, batch_size=4).predict(reqs[::-1])[::-1]
    assert [(p.text, p.output_tokens, p.input_tokens) for p in backwards] == answers[1]


def test_batches_do_not_mix_image_counts(cache: Path) -> None:
    two = (picture(1), picture(2))
    reqs = [
        ask(0, QUESTIONS[0]),
        ask(1, QUESTIONS[1], two),
        ask(2, QUESTIONS[2]),
        ask(3, "Hi", two),
    ]
    alone = [tiny_model("qwen2_vl", batch_size=1).predict([r])[0].text for r in reqs]
    together = tiny_model("qwen2_vl", batch_size=4).predict(reqs)
    assert [p.text for p in together] == alone
    assert all(p.error is None for p in together)
    assert together[1].input_tokens > together[0].input_tokens  # two images, more tokens


@pytest.mark.parametrize("family", FAMILIES)
def test_choice_scores_match_generation(family: str, cache: Path) -> None:
    """Scoring the greedy continuation gives the log-probabilities generation saw."""
    model = tiny_model(family)
    loaded = model._loaded
    item = model._prepare(0, ask(0, QUESTIONS[0]))
    inputs = to_model(loaded, process(loaded, [item.prompt], [item.images]))
    with torch.no_grad():
        out = loaded.model.generate(
            **inputs,
            max_new_tokens=4,
            do_sample=False,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=loaded.tokenizer.pad_token_id,
        )
    ids = out.sequences[0, inputs["input_ids"].shape[1] :].tolist()
    steps = [torch.log_softmax(step[0].float(), -1) for step in out.logits]
    expected = [sum(steps[i][t].item() for i, t in enumerate(ids[:n])) for n in (4, 2)]
    # two rows of different lengths: the shorter one is right-padded
    pair = to_model(loaded, process(loaded, [item.prompt] * 2, [item.images] * 2))
    rows, opt = extend(pair, [ids, ids[:2]], loaded)
    with torch.no_grad():
        got = option_logprobs(loaded.model, rows, opt, model._keep_arg).tolist()
    assert [g[0] for g in got] == pytest.approx(expected, abs=1e-4)
    assert [g[1] for g in got] == [4, 2]


@pytest.mark.parametrize("family", ["llava", "qwen2_vl"])
def test_option_loglik_equals_a_plain_forward_pass(family: str, cache: Path) -> None:
    """Summed option log-probabilities (batched, right-padded, in chunks) equal those of one
    unpadded forward pass over the prompt and each option alone."""
    options = ("red", "a dark blue circle on the left", "green star")
    req = choose(0, options)
    req = Request(
        req.sample,
        req.images,
        "Question: Which colour?\nAnswer:",
        "choice",
        GenerationSettings(),
        form="choice",
        choices=options,
    )
    model = tiny_model(family, batch_size=2, args={"choice_score": "sum"})
    (pred,) = model.predict([req])
    assert pred.choice_scores is not None
    loaded = model._loaded
    prompt = model._prepare(0, req).prompt
    base = to_model(loaded, process(loaded, [prompt], [list(req.images)]))
    expected = []
    for option in options:
        sep = "" if prompt[-1].isspace() else " "
        ids = loaded.tokenizer(sep + option, add_special_tokens=False)["input_ids"]
        tail = torch.tensor([ids], dtype=base["input_ids"].dtype)
        inputs = dict(base)
        inputs["input_ids"] = torch.cat([base["input_ids"], tail], dim=1)
        for key in ("attention_mask", "token_type_ids", "mm_token_type_ids"):
            if key in base:  # the option's tokens: attended, plain text
                fill = 1 if key == "attention_mask" else 0
                inputs[key] = torch.cat([base[key], torch.full_like(tail, fill)], dim=1)
        with torch.no_grad():
            logits = loaded.model(**inputs, use_cache=False).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        start = base["input_ids"].shape[1] - 1
        expected.append(sum(logp[start + i, t].item() for i, t in enumerate(ids)))
    assert pred.choice_scores == pytest.approx(expected, abs=1e-4)


def test_choice_sum_and_mean(cache: Path) -> None:
    options = ("red", "dark blue circle", "a small green star on the left")
    req = choose(0, options)
    (by_sum,) = tiny_model("llava", args={"choice_score": "sum"}).predict([req])
    (by_mean,) = tiny_model("llava").predict([req])  # mean is the default
    assert by_sum.choice_scores is not None and by_mean.choice_scores is not None
    tok = tiny_model("llava")._loaded.tokenizer
    counts = [len(tok(" " + o, add_special_tokens=False)["input_ids"]) for o in options]
    assert counts[0] < counts[2]
    assert by_sum.choice_scores == pytest.approx(
        [m * n for m, n in zip(by_mean.choice_scores, counts, strict=True)]
    )
    assert all(s < 0 for s in by_sum.choice_scores)
    with pytest.raises(ModelLoadError, match="choice_score"):
        tiny_model("llava", args={"choice_score": "max"})
    with pytest.raises(ModelLoadError, match="process_ahead must be auto, true or false"):
        tiny_model("llava", args={"process_ahead": "sometimes"})


def out_of_memory_above(limit: int, model: HFModel, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make generate raise CUDA out-of-memory on batches over `limit` rows; returns the list of
    batch sizes it is called with."""
    real, sizes = model._call_generate, []

    def flaky(inputs: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        sizes.append(inputs["input_ids"].shape[0])
        if sizes[-1] > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(inputs, kwargs)

    monkeypatch.setattr(model, "_call_generate", flaky)
    return sizes


def test_out_of_memory_halves_the_batch(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS[:7])]
    expected = [p.text for p in tiny_model("llava", batch_size=7).predict(reqs)]
    model = tiny_model("llava", batch_size=7)
    sizes = out_of_memory_above(2, model, monkeypatch)
    preds = model.predict(reqs)
    assert [p.text for p in preds] == expected and all(p.error is None for p in preds)
    assert sizes[:3] == [7, 4, 2] and max(sizes[3:]) <= 2
    assert model.batch_size == 2
    sizes.clear()
    model.predict(reqs)  # later calls start at the lowered size
    assert sizes[0] == 2


def test_a_batch_prepared_before_out_of_memory_is_split_again(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS)]
    expected = [p.text for p in tiny_model("qwen2_vl", batch_size=4).predict(reqs)]
    model = tiny_model("qwen2_vl", batch_size=4, args={"process_ahead": True})
    sizes = out_of_memory_above(2, model, monkeypatch)
    run = model.prepare(reqs)  # two batches of 4, processed before any generates
    preds = run()
    # the second prepared batch runs at the lowered size at once, not at 4 again
    assert sizes == [4, 2, 2, 2, 2]
    assert [p.text for p in preds] == expected and all(p.error is None for p in preds)


def test_prepare_does_the_processing_and_the_call_only_generates(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS[:6])] + [choose(6, ("red", "blue"))]
    model = tiny_model("qwen2_vl", batch_size=2, args={"process_ahead": True})
    expected = model.predict(reqs)
    calls: list[int] = []
    real = hf.process

    def spy(loaded: Any, texts: list[str], images: list[Any]) -> dict[str, Any]:
        calls.append(len(texts))
        return real(loaded, texts, images)

    monkeypatch.setattr(hf, "process", spy)
    run = model.prepare(reqs)
    # the six generate requests in batches of 2, and the choice item's two option rows
    assert calls == [2, 2, 2, 2]
    preds = run()
    assert calls == [2, 2, 2, 2]  # nothing processed again
    assert [p.text for p in preds] == [p.text for p in expected]
    assert_scores_close(preds[-1].choice_scores, expected[-1].choice_scores)
    # by default (auto) a model on the CPU processes in the call: a processor running beside
    # generation would only take cores from it
    calls.clear()
    run = tiny_model("qwen2_vl", batch_size=2).prepare(reqs)
    assert calls == []
    assert [p.text for p in run()] == [p.text for p in expected] and calls == [2, 2, 2, 2]


def test_preparing_beside_a_running_call_changes_no_answer(cache: Path) -> None:
    """The runner's pattern: batch k + 1 is prepared on a worker thread while batch k runs."""
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS)] + [choose(8, ("red", "blue", "green"))]
    chunks = [reqs[i : i + 3] for i in range(0, len(reqs), 3)]
    model = tiny_model("qwen2_vl", batch_size=3, args={"process_ahead": True})
    expected = [model.predict(c) for c in chunks]
    for want, have in zip(expected, answer_ahead(model, chunks), strict=True):
        assert [p.text for p in have] == [p.text for p in want]
        assert [p.error for p in have] == [None] * len(want)


def test_a_prepared_choice_item_survives_out_of_memory(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = choose(0, ("red", "dark blue", "green"))
    expected = tiny_model("qwen2_vl").predict([req])[0].choice_scores
    model = tiny_model("qwen2_vl", batch_size=4, args={"process_ahead": True})
    real, rows = model._call_scores, []

    def flaky(inputs: dict[str, Any], opt: Any) -> Any:
        rows.append(opt.shape[0])
        if rows[-1] > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(inputs, opt)

    monkeypatch.setattr(model, "_call_scores", flaky)
    run = model.prepare([req])  # the three option rows processed here
    (pred,) = run()
    assert rows == [3, 2, 1, 1, 1] and pred.error is None
    assert pred.choice_scores == pytest.approx(expected, abs=1e-5)


def test_out_of_memory_at_batch_one_is_a_per_sample_error(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tiny_model("qwen2_vl", batch_size=4)

    def never(inputs: dict[str, Any], *rest: Any) -> Any:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(model, "_call_generate", never)
    monkeypatch.setattr(model, "_call_scores", never)
    preds = model.predict([ask(0, QUESTIONS[0]), ask(1, QUESTIONS[1]), choose(2, ("a", "b"))])
    assert all(p.error is not None and "out of GPU memory" in p.error for p in preds)
    assert model.batch_size == 1


def test_choice_rows_back_off_too(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    req = choose(0, ("red", "blue", "green", "yellow"))
    expected = tiny_model("qwen2_vl").predict([req])[0].choice_scores
    model = tiny_model("qwen2_vl", batch_size=4)
    real = model._call_scores

    def flaky(inputs: dict[str, Any], opt: Any) -> Any:
        if opt.shape[0] > 1:
            raise torch.cuda.OutOfMemoryError("simulated")
        return real(inputs, opt)

    monkeypatch.setattr(model, "_call_scores", flaky)
    assert model.predict([req])[0].choice_scores == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("ahead", [False, True])
def test_image_work_on_the_models_device_gives_the_same_answers(
    cache: Path, monkeypatch: pytest.MonkeyPatch, ahead: bool
) -> None:
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS[:5])] + [choose(5, ("red", "blue"))]
    default = tiny_model("qwen2_vl", batch_size=2)
    model = tiny_model(
        "qwen2_vl", batch_size=2, args={"process_on": "device", "process_ahead": ahead}
    )
    assert default._loaded.image_device is None
    assert model._loaded.image_device == model._loaded.device  # the CPU here, a GPU there
    devices: list[Any] = []
    for m in (default, model):
        images = m._loaded.processor.image_processor
        real = images.preprocess

        def spy(*args: Any, real: Any = real, **kwargs: Any) -> Any:
            devices.append(kwargs.get("device"))
            return real(*args, **kwargs)

        monkeypatch.setattr(images, "preprocess", spy)
    expected = default.predict(reqs)
    assert devices and set(devices) == {None}  # by default the image work stays on the CPU
    devices.clear()
    preds = model.predict(reqs)
    assert devices and set(devices) == {model._loaded.device}
    assert [p.text for p in preds] == [p.text for p in expected]
    assert_scores_close(preds[-1].choice_scores, expected[-1].choice_scores)


def position_ids_seen(model: HFModel, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """The position ids each `generate` call of `model` was given (`given`) or computed itself
    (`computed`), and whether each `get_rope_index` call ran inside `generate` (`rope`)."""
    seen: dict[str, list[Any]] = {"given": [], "computed": [], "rope": []}
    inner = model._loaded.model
    generating: list[bool] = []
    real_call, real_prepare, real_rope = (
        model._call_generate,
        inner._prepare_position_ids_for_generation,
        inner.model.get_rope_index,
    )

    def call(inputs: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        if "position_ids" in inputs:
            seen["given"].append(inputs["position_ids"])
        generating.append(True)
        try:
            return real_call(inputs, kwargs)
        finally:
            generating.clear()

    def prepare(*args: Any, **kwargs: Any) -> Any:
        out = real_prepare(*args, **kwargs)
        if generating:
            seen["computed"].append(out)
        return out

    def rope(*args: Any, **kwargs: Any) -> Any:
        seen["rope"].append(bool(generating))
        return real_rope(*args, **kwargs)

    monkeypatch.setattr(model, "_call_generate", call)
    monkeypatch.setattr(inner, "_prepare_position_ids_for_generation", prepare)
    monkeypatch.setattr(inner.model, "get_rope_index", rope)
    return seen


@pytest.mark.parametrize("ahead", [False, True])
@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_position_ids_come_with_the_inputs_and_are_generates_own(
    family: str, ahead: bool, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # prompts of different lengths (left padding), images of different sizes in one batch
    # (different position grids), and a request without an image (text positions only)
    sizes = [(84, 84), (400, 100), (100, 400), (56, 112), (84, 84)]
    reqs = [ask(i, QUESTIONS[i], (picture(i, size),)) for i, size in enumerate(sizes)]
    reqs.append(ask(5, QUESTIONS[5], ()))
    reqs.append(choose(6, ("red", "blue")))
    model = tiny_model(family, batch_size=3, args={"process_ahead": ahead})
    plain = tiny_model(family, batch_size=3, args={"process_ahead": ahead})
    assert model._loaded.positions_ahead
    plain._loaded.positions_ahead = False  # generate computes them, as transformers does
    ours, theirs = (position_ids_seen(m, monkeypatch) for m in (model, plain))
    expected = plain.predict(reqs)
    got = model.predict(reqs)
    assert [p.error for p in got] == [None] * len(reqs)
    assert [(p.text, p.output_tokens) for p in got] == [(p.text, p.output_tokens) for p in expected]
    assert got[-1].choice_scores == expected[-1].choice_scores
    # the same ids, computed before generate rather than inside it
    assert theirs["given"] == [] and len(theirs["computed"]) == 3
    assert ours["computed"] == [] and len(ours["given"]) == 3
    for given, computed in zip(ours["given"], theirs["computed"], strict=True):
        assert torch.equal(given, computed)
    # transformers' walk over each sample (the two batches with images, then the choice
    # item's forward): inside generate, or for ours before it
    assert theirs["rope"] == [True, True, False]
    assert ours["rope"] == [False, False, False]


def test_other_models_leave_position_ids_to_generate(cache: Path) -> None:
    assert not tiny_model("llava")._loaded.positions_ahead


def test_image_work_on_the_device_needs_a_torchvision_image_processor() -> None:
    from types import SimpleNamespace

    import transformers

    on_device = HFSettings(process_on="device")
    check_process_on("m", HFSettings(), SimpleNamespace())  # the default asks nothing of it
    pil: Any = transformers.Qwen2VLImageProcessorPil()
    with pytest.raises(ModelLoadError, match=r"'m': args.process_on=device needs a torchvision"):
        check_process_on("m", on_device, SimpleNamespace(image_processor=pil))
    fast: Any = transformers.Qwen2VLImageProcessor()
    check_process_on("m", on_device, SimpleNamespace(image_processor=fast))
    with pytest.raises(ModelLoadError, match="process_on must be cpu or device, not 'gpu'"):
        tiny_model("llava", args={"process_on": "gpu"})


@pytest.mark.parametrize("ahead", [False, True])
def test_rejected_image_fails_only_its_request(cache: Path, ahead: bool) -> None:
    thin = Image.new("RGB", (1, 300))  # Qwen2-VL refuses aspect ratios over 200
    reqs = [ask(0, QUESTIONS[0]), ask(1, QUESTIONS[1], (thin,)), ask(2, QUESTIONS[2])]
    reqs.append(choose(3, ("a", "b"), thin))
    reqs.append(choose(4, ("a", "")))  # nothing to score in the empty option
    model = tiny_model("qwen2_vl", batch_size=4, args={"process_ahead": ahead})
    preds = model.predict(reqs)
    good = tiny_model("qwen2_vl", batch_size=1).predict([reqs[0], reqs[2]])
    assert [preds[0].text, preds[2].text] == [p.text for p in good]
    for bad in (preds[1], preds[3]):
        assert bad.error is not None and "rejected" in bad.error and "tiny_qwen2_vl" in bad.error
    assert preds[4].error is not None and "empty" in preds[4].error


def test_limits_and_settings(cache: Path) -> None:
    big = Image.new("L", (400, 100))
    (small,) = limit_images([big], 64)
    assert small.size == (64, 16) and small.mode == "RGB" and big.size == (400, 100)
    model = tiny_model("llava", args={"max_new_tokens": 2, "system_prompt": "Be brief."})
    (pred,) = model.predict([ask(0, QUESTIONS[0], max_new_tokens=9)])
    assert pred.output_tokens is not None and pred.output_tokens <= 2
    assert model._prepare(0, ask(0, "Hi")).prompt.startswith("Be brief.")
    ident = model.identity()
    assert ident["max_new_tokens"] == 2 and ident["system_prompt"] == "Be brief."
    assert ident["chat_template"] == tiny_model("llava").identity()["chat_template"]


@pytest.mark.parametrize("family", ["qwen2_vl", "llava"])
def test_static_kv_cache_gives_the_same_answers(family: str, cache: Path) -> None:
    reqs = [ask(i, q) for i, q in enumerate(QUESTIONS[:5])]
    dynamic = tiny_model(family, batch_size=4).predict(reqs)
    static = tiny_model(family, batch_size=4, args={"cache_implementation": "static"})
    assert static.identity()["cache_implementation"] == "static"
    seen: list[Any] = []
    call = static._call_generate

    def spy(inputs: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        seen.append(kwargs.get("cache_implementation"))
        return call(inputs, kwargs)

    static._call_generate = spy  # type: ignore[method-assign]
    got = static.predict(reqs)
    assert seen == ["static", "static"]
    assert [p.error for p in got] == [None] * len(reqs)
    assert [p.text for p in got] == [p.text for p in dynamic]


def test_stop_strings_cut_the_answer() -> None:
    assert hf._cut_at_stop("red. Then blue\nQ:", ("\n", ".")) == "red"
    assert hf._cut_at_stop("red", ("\n",)) == "red"


# -- load errors ------------------------------------------------------------------------------


def copy_of(family: str, tmp_path: Path) -> Path:
    target = tmp_path / family
    shutil.copytree(tiny.build(family), target)
    return target


def load(path: Path | str | None, **args: Any) -> HFModel:
    return HFModel(ModelSpec(name="mine", path=None if path is None else str(path), args=args))


def test_local_folder_loads_like_a_checkpoint(cache: Path, tmp_path: Path) -> None:
    folder = copy_of("idefics3", tmp_path)
    model = load(folder)
    ident = model.identity()
    assert ident["path"] == str(folder) and ident["trust_remote_code"] is False
    assert ident["attn_implementation"] == "sdpa"
    assert ident["revision"] == tiny_model("idefics3").identity()["revision"]
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one changed bit in the weights changes the identity
    weights.write_bytes(bytes(data))
    assert load(folder).identity()["revision"] != ident["revision"]


def test_load_errors_name_the_model_and_the_fix(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"'mine'.*model\.path"):
        load(None)
    with pytest.raises(ModelLoadError, match="does not exist"):
        load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        load(tmp_path / "empty")
    with pytest.raises(ModelLoadError, match=r"'attn_impl' \(did you mean 'attn_implementation'"):
        load(copy_of("llava", tmp_path), attn_impl="sdpa")


def test_a_hub_id_that_cannot_be_fetched_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no network wait
    with pytest.raises(ModelLoadError) as info:
        load("evalharness-tests/no-such-model")
    message = str(info.value)
    assert message.startswith("model 'mine': cannot find evalharness-tests/no-such-model: ")
    assert "\n" not in message and ".." not in message and "For a hub id, check the name" in message


def test_missing_chat_template(cache: Path, tmp_path: Path) -> None:
    folder = copy_of("llava", tmp_path)
    template = (folder / "chat_template.jinja").read_text()
    (folder / "chat_template.jinja").unlink()
    with pytest.raises(ModelLoadError, match=r"no chat template.*args\.chat_template"):
        load(folder)
    (tmp_path / "t.jinja").write_text(template)
    model = load(folder, chat_template=str(tmp_path / "t.jinja"))
    assert model.predict([ask(0, "Hi")])[0].error is None


def test_remote_code_needs_opt_in(tmp_path: Path) -> None:
    folder = tmp_path / "custom"
    folder.mkdir()
    config = {"model_type": "my_vlm", "auto_map": {"AutoConfig": "configuration_my.MyConfig"}}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="trust_remote_code=true"):
        load(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "my_vlm"}))
    with pytest.raises(ModelLoadError, match="unknown to this transformers"):
        load(folder)


def test_not_a_generative_model(tmp_path: Path) -> None:
    folder = tmp_path / "clip"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "clip"}))
    with pytest.raises(ModelLoadError, match="not an image-text-to-text"):
        load(folder)


def test_corrupt_weights(cache: Path, tmp_path: Path) -> None:
    folder = copy_of("blip2", tmp_path)
    (folder / "model.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(ModelLoadError, match="cannot load the weights"):
        load(folder)


def vision_sdpa_calls(model: HFModel, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batch size of each SDPA call made inside `model`'s vision tower, as they happen."""
    calls: list[int] = []
    inside: list[bool] = []
    tower = model._loaded.model.model.visual
    tower.register_forward_pre_hook(lambda *_: inside.append(True))  # append returns None
    tower.register_forward_hook(
        lambda *_: inside.clear()
    )  # a hook's result would replace the output
    real = torch.nn.functional.scaled_dot_product_attention

    def spy(q: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        if inside:
            calls.append(q.shape[0])
        return real(q, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
    return calls


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_batched_vision_attention_gives_the_same_answers_in_fewer_calls(
    family: str, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    same = [ask(i, q, (picture(i, (84, 84)),)) for i, q in enumerate(QUESTIONS[:4])]
    sizes = [(400, 100), (84, 84), (100, 400)]  # 8, 4 and 8 patches in the tiny processor
    mixed = [ask(i, QUESTIONS[i], (picture(i, size),)) for i, size in enumerate(sizes, start=4)]
    options = [choose(7, ("red", "blue"), picture(7, (84, 84)))]  # two rows, one image each
    default = tiny_model(family, batch_size=4)
    model = tiny_model(family, batch_size=4, args={"vision_attention": "batched"})
    # the answers do not change: like process_on, the setting is not part of the run's key
    assert model.identity() == default.identity()
    before = vision_sdpa_calls(default, monkeypatch)
    expected = [default.predict(reqs) for reqs in (same, mixed, options)]
    after = vision_sdpa_calls(model, monkeypatch)
    got = [model.predict(reqs) for reqs in (same, mixed, options)]
    assert [p.error for preds in got for p in preds] == [None] * 8
    assert [[p.text for p in preds] for preds in got] == [[p.text for p in e] for e in expected]
    assert got[2][0].choice_scores == expected[2][0].choice_scores  # bit for bit
    # transformers' SDPA way: one call per image (Qwen2.5-VL: per window) in every layer
    depth = model._loaded.model.config.vision_config.depth
    assert before == [1] * 9 * depth
    # batched: per layer, one call for the 4 images of one size, one per image for the
    # mixed sizes, one for the two option rows
    assert after == [4] * depth + [1] * 3 * depth + [2] * depth


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_compiled_vision_tower_gives_the_same_answers(
    family: str, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default backend (inductor) needs a C++ compiler on a CPU; aot_eager traces the same
    # graphs (what a transformers change could break) and runs them without generating code
    monkeypatch.setattr(_hf_load, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    reqs = [ask(i, q, (picture(i, (84, 84)),)) for i, q in enumerate(QUESTIONS[:5])]
    reqs.append(choose(5, ("red", "blue"), picture(5, (84, 84))))
    args = {"vision_attention": "batched"}
    default = tiny_model(family, batch_size=2, args=args)
    model = tiny_model(family, batch_size=2, args={**args, "compile": "vision"})
    blocks = model._loaded.model.model.visual.blocks
    assert all(b._compiled_call_impl is not None for b in blocks)
    assert default._loaded.model.model.visual.blocks[0]._compiled_call_impl is None
    # compiled code may round differently: a run with it is another run
    assert model.identity() == {**default.identity(), "compile": "vision"}
    expected, got = default.predict(reqs), model.predict(reqs)
    assert [p.error for p in got] == [None] * len(reqs)
    assert [p.text for p in got] == [p.text for p in expected]
    assert_scores_close(got[-1].choice_scores, expected[-1].choice_scores, rel=1e-4)
    assert tiny_model(family, args={"compile": "none"}).identity() == default.identity()
    with pytest.raises(ModelLoadError, match=r"compile=vision is for vision towers.*llava"):
        tiny_model("llava", args={"compile": "vision"})
    with pytest.raises(ModelLoadError, match=r"args\.compile must be none or vision, not 'all'"):
        tiny_model("qwen2_vl", args={"compile": "all"})


def test_batched_vision_attention_is_refused_where_it_does_not_apply(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelLoadError, match=r"'tiny_llava': .* is a 'llava' model\. Leave"):
        tiny_model("llava", args={"vision_attention": "batched"})
    with pytest.raises(ModelLoadError, match="must be per_image or batched, not 'fast'"):
        tiny_model("qwen2_vl", args={"vision_attention": "fast"})
    with pytest.raises(ModelLoadError, match="works with attn_implementation=sdpa, not 'eager'"):
        tiny_model("qwen2_vl", args={"vision_attention": "batched", "attn_implementation": "eager"})
    # a transformers that hands the packed images to flash_attention_2 alone (4.x)
    import transformers.models.qwen2_vl.modeling_qwen2_vl as qwen2_vl

    monkeypatch.delattr(qwen2_vl, "is_flash_attention_requested")
    with pytest.raises(ModelLoadError, match=r"needs a transformers .* \(5.0 or later\)"):
        tiny_model("qwen2_vl", args={"vision_attention": "batched"})


def test_a_device_that_is_not_there_is_refused_before_loading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from evalharness.models._hf_load import resolve_device

    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ModelLoadError, match=r"'gpu' is not a device: use auto"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ModelLoadError, match="torch sees no CUDA device here"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(ModelLoadError, match="use cuda:0 to cuda:1"):
        resolve_device("cuda:3")
