"""First-token probabilities beside the reply: from HFModel's generate call (checked against a
plain forward pass), from an OpenAI-compatible server's log-probabilities, and from references."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from model_helpers import serving, tiny_cache
from PIL import Image, ImageDraw
from test_openai_model import FakeServer, make_model
from test_openai_model import request as api_request

from evalharness.models import hf
from evalharness.models._first_tokens import from_top_logprobs
from evalharness.models._hf_inputs import process, to_model
from evalharness.models.base import ModelSpec
from evalharness.models.hf import HFModel
from evalharness.models.references import OracleModel
from evalharness.types import GenerationSettings, PILImageSource, Request, Sample

WORDS = ("True", "False")


cache = pytest.fixture(scope="module")(tiny_cache)


def picture(i: int) -> Image.Image:
    img = Image.new("RGB", (40 + 9 * i, 30 + 4 * i), ((70 * i) % 256, 180 - 30 * i, 90))
    ImageDraw.Draw(img).rectangle([3, 3, 15 + i, 12], fill=(250, 250, 0))
    return img


PROMPTS = [
    'Based on the image, is this statement "True" or "False"? The cat is on the bed.',
    "Is it true?",
    'Based on the image, is this statement "True" or "False"? The dog is left of the car, '
    'behind the red bus parked by the yellow house.\nRespond with "True" or "False" directly.',
]


def ask(i: int, text: str, words: tuple[str, ...] = WORDS) -> Request:
    img = picture(i)
    sample = Sample(str(i), (PILImageSource(img),), text, first_token_words=words)
    gen = GenerationSettings(max_new_tokens=3)
    return Request(sample, (img,), text, "generate", gen, first_token_words=words)


def tiny(family: str, batch_size: int) -> HFModel:
    model: HFModel = getattr(hf, f"tiny_{family}")(
        ModelSpec(name=f"tiny_{family}", batch_size=batch_size)
    )
    return model


def plain_forward(model: HFModel, req: Request) -> dict[str, float]:
    """The words' first-token probabilities from one unpadded forward pass over the prompt."""
    loaded = model._loaded
    item = model._prepare(0, req)
    inputs = to_model(loaded, process(loaded, [item.prompt], [item.images]))
    with torch.no_grad():
        logits = loaded.model(**inputs, use_cache=False).logits[0, -1].float()
    probs = torch.softmax(logits, dim=-1)
    out = {}
    for word in req.first_token_words:
        first = loaded.tokenizer.encode(word, add_special_tokens=False)[0]
        out[word] = float(probs[first])
    return out


@pytest.mark.parametrize("family", ["llava", "qwen2_vl", "idefics3"])
def test_probabilities_are_the_softmax_of_the_first_steps_logits(family: str, cache: Path) -> None:
    model = tiny(family, batch_size=3)  # one left-padded batch of three prompt lengths
    reqs = [ask(i, text) for i, text in enumerate(PROMPTS)]
    preds = model.predict(reqs)
    for req, pred in zip(reqs, preds, strict=True):
        assert pred.error is None and pred.text is not None and pred.first_tokens is not None
        assert pred.first_tokens.note == ""
        want = plain_forward(model, req)
        got = pred.first_tokens.probs
        assert set(got) == set(WORDS)
        assert [got[w] for w in WORDS] == pytest.approx([want[w] for w in WORDS], rel=1e-4)
        assert all(0 < (got[w] or 0) < 1 for w in WORDS)
    # the first step picks the first token: greedy, the likeliest of the vocabulary
    alone = tiny(family, batch_size=1).predict(reqs)
    for a, b in zip(preds, alone, strict=True):
        assert a.text == b.text
        assert a.first_tokens is not None and b.first_tokens is not None
        got, want = a.first_tokens.probs, b.first_tokens.probs
        assert [got[w] for w in WORDS] == pytest.approx([want[w] for w in WORDS], rel=1e-4)


def test_only_requests_that_ask_get_probabilities_and_clashing_words_get_none(
    cache: Path,
) -> None:
    model = tiny("llava", batch_size=4)
    tok = model._loaded.tokenizer
    # in the tiny vocabulary "Tr" and "True" begin with the same token
    assert tok.encode("Tr", add_special_tokens=False)[0] == tok.encode("True")[0]
    plain = ask(0, PROMPTS[0], ())
    clash = ask(1, PROMPTS[1], ("True", "Tr", "False"))
    nothing = ask(2, PROMPTS[2], ("", "False"))
    p_plain, p_clash, p_nothing = model.predict([plain, clash, nothing])
    assert p_plain.first_tokens is None and p_plain.text is not None
    assert p_clash.first_tokens is not None
    assert p_clash.first_tokens.probs["True"] is None and p_clash.first_tokens.probs["Tr"] is None
    assert "'True' begins with the same token as 'Tr'" in p_clash.first_tokens.note
    assert p_clash.first_tokens.probs["False"] == pytest.approx(
        plain_forward(model, clash)["False"], rel=1e-4
    )
    assert p_nothing.first_tokens is not None and p_nothing.first_tokens.probs[""] is None
    assert "encodes '' to no token" in p_nothing.first_tokens.note


def test_a_reference_is_sure_of_its_reply() -> None:
    oracle = OracleModel(ModelSpec(name="oracle"))
    sample = Sample("0", (), "q", targets=("false",), first_token_words=WORDS)
    req = Request(sample, (), "q", "generate", GenerationSettings(), first_token_words=WORDS)
    [pred] = oracle.predict([req])
    assert pred.text == "false" and pred.first_tokens is not None
    assert pred.first_tokens.probs == {"True": 0.0, "False": 1.0}
    [plain] = oracle.predict([Request(sample, (), "q", "generate", GenerationSettings())])
    assert plain.first_tokens is None


def top(*pairs: tuple[str, float]) -> dict[str, Any]:
    entries = [{"token": t, "logprob": lp} for t, lp in pairs]
    return {"logprobs": {"content": [{**entries[0], "top_logprobs": entries}]}}


def test_a_servers_top_logprobs_give_the_words_probabilities() -> None:
    got = from_top_logprobs(top(("True", -0.1), (" True", -3.0), ("False", -2.5)), WORDS)
    assert got.probs == pytest.approx({"True": math.exp(-0.1), "False": math.exp(-2.5)})
    assert got.note == ""
    absent = from_top_logprobs(top(("Yes", -0.2), ("\u2581True", -1.0)), WORDS)
    assert absent.probs["True"] == pytest.approx(math.exp(-1.0)) and absent.probs["False"] is None
    assert absent.note == "'False' not among the first tokens the server listed (2 likeliest)"
    for choice in ({}, {"logprobs": None}, {"logprobs": {"content": []}}):
        none = from_top_logprobs(choice, WORDS)
        assert none.probs == {"True": None, "False": None}
        assert none.note == "the server gave no log-probabilities"
    odd = from_top_logprobs({"logprobs": {"content": [{"token": "True", "logprob": "x"}]}}, WORDS)
    assert odd.probs == {"True": None, "False": None}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """The OpenAI-route tests' scripted chat-completions server."""
    with serving(FakeServer()) as srv:
        yield srv


def api_ask(text: str) -> Request:
    req = api_request(text)
    sample = Sample(req.sample.id, req.sample.images, text, first_token_words=WORDS)
    return Request(sample, req.images, text, "generate", req.generation, first_token_words=WORDS)


def test_the_api_route_asks_for_the_first_tokens_logprobs(server: FakeServer) -> None:
    server.top["q"] = [("True", -0.2), ("False", -1.9), ("The", -4.0)]
    model = make_model(server)
    with_words, without = model.predict([api_ask("q"), api_request("plain")])
    bodies = {body["messages"][-1]["content"][-1]["text"]: body for _, body in server.log}
    assert bodies["q"]["logprobs"] is True and bodies["q"]["top_logprobs"] == 20
    assert "logprobs" not in bodies["plain"]
    assert with_words.text == "echo q (1)" and with_words.first_tokens is not None
    probs = with_words.first_tokens.probs
    assert probs == pytest.approx({"True": math.exp(-0.2), "False": math.exp(-1.9)})
    assert without.first_tokens is None


def test_a_server_without_logprobs_leaves_them_out_with_the_reason(server: FakeServer) -> None:
    model = make_model(server)
    [pred] = model.predict([api_ask("no list")])  # this server gives none for it
    assert pred.error is None and pred.text == "echo no list (1)"
    assert pred.first_tokens is not None and pred.first_tokens.probs == {
        "True": None,
        "False": None,
    }
    assert pred.first_tokens.note == "the server gave no log-probabilities"


def test_a_server_refusing_logprobs_is_asked_without_and_not_asked_again(
    server: FakeServer,
) -> None:
    server.refuse_logprobs = True
    model = make_model(server, concurrency=1)
    first, second = model.predict([api_ask("a"), api_ask("b")])
    assert first.error is None and first.text == "echo a (1)"
    assert first.first_tokens is not None and first.first_tokens.probs["True"] is None
    assert first.first_tokens.note.startswith("the server refused log-probabilities (HTTP 400")
    assert second.error is None and second.first_tokens is not None
    assert second.first_tokens.note == first.first_tokens.note
    asked = [("logprobs" in body) for _, body in server.log]
    assert asked == [True, False, False]
