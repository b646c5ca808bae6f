"""Tiny offline checkpoints: complete folders, reproducible, cached, safe against interrupted builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_helpers import heavy_after_import
from repo_paths import REPO
from transformers import AutoTokenizer

from evalharness.models import _tiny_vlm, tiny
from evalharness.models._fingerprint import checkpoint_hash

GENERATIVE = _tiny_vlm.GENERATIVE


def test_generative_families_are_listed() -> None:
    for family in ("llava", "qwen2_vl", "qwen2_5_vl", "idefics3", "paligemma", "blip2"):
        assert family in GENERATIVE
    assert set(GENERATIVE) <= set(tiny.FAMILIES)


@pytest.mark.parametrize("family", GENERATIVE)
def test_build_writes_a_complete_small_checkpoint(family: str, tmp_path: Path) -> None:
    folder = tiny.build(family, tmp_path)
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", tiny.MARKER} <= names
    assert "processor_config.json" in names or "preprocessor_config.json" in names
    config = json.loads((folder / "config.json").read_text())
    text = config.get("text_config", config)
    assert text["num_hidden_layers"] == 2
    # the embedding table covers exactly the saved tokenizer (PaliGemma's included, which its
    # processor extends with location tokens)
    assert text["vocab_size"] == len(AutoTokenizer.from_pretrained(folder))
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5_000_000
    # a template lives next to the weights, so the processor (or tokenizer) formats chats
    assert "chat_template.jinja" in names


def test_build_is_cached_and_reproducible(tmp_path: Path) -> None:
    first = tiny.build("llava", tmp_path / "a")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert tiny.build("llava", tmp_path / "a") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt
    second = tiny.build("llava", tmp_path / "b")
    assert checkpoint_hash(first) == checkpoint_hash(second)
    assert tiny.is_built("llava", tmp_path / "a")
    # no temporary folders are left behind
    assert [p.name for p in (tmp_path / "a").iterdir()] == [first.name]


def test_interrupted_build_is_replaced(tmp_path: Path) -> None:
    target = tiny.folder("qwen2_vl", tmp_path)
    target.mkdir(parents=True)
    (target / "config.json").write_text("{half written")  # no marker: a crashed build
    assert not tiny.is_built("qwen2_vl", tmp_path)
    folder = tiny.build("qwen2_vl", tmp_path)
    assert folder == target
    assert json.loads((folder / "config.json").read_text())["model_type"] == "qwen2_vl"


def test_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(out: Path) -> None:
        (out / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    monkeypatch.setitem(tiny.BUILDERS, "broken", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        tiny.build("broken", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_default_root_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALHARNESS_CACHE", str(tmp_path))
    assert tiny.default_root() == tmp_path
    assert tiny.folder("llava").parent == tmp_path
    monkeypatch.delenv("EVALHARNESS_CACHE")
    assert tiny.default_root() == Path.home() / ".cache" / "evalharness" / "tiny"


def test_unknown_family_and_double_registration() -> None:
    with pytest.raises(KeyError, match="llava"):
        tiny.build("lava")
    with pytest.raises(ValueError, match="registered twice"):

        @tiny.builder("llava")
        def other(out: Path) -> None: ...


def test_tokenizer_keeps_special_tokens_whole() -> None:
    tok = tiny.train_tokenizer(["<image>", "<|vision_start|>"])
    ids = tok("<|vision_start|><image> How many red circles?", add_special_tokens=False)[
        "input_ids"
    ]
    assert ids[:2] == tok.convert_tokens_to_ids(["<|vision_start|>", "<image>"])
    # words of the corpus are whole tokens, so prompts stay short
    assert len(tok(" circles", add_special_tokens=False)["input_ids"]) == 1
    assert tok.decode(ids[2:]) == " How many red circles?"


def test_import_stays_light() -> None:
    modules = "evalharness.models.tiny, evalharness.models.hf"
    assert heavy_after_import(modules, ("torch", "transformers")) == []


def test_the_docs_list_every_model_arg_of_every_route() -> None:
    """docs/models.md, which `evalharness run --help` points to, has each route's args with the
    defaults its settings class declares."""
    from evalharness.models import captioner, hf_contrastive, open_clip, openai
    from evalharness.models._hf_settings import HFSettings
    from evalharness.models.settings import describe

    docs = (REPO / "docs" / "models.md").read_text()
    section = docs.split("## Model settings (`model.args`)")[1].split("\n## ")[0]
    routes = section.split("`model=")[1:]
    for route, cls in (
        ("hf`", HFSettings),
        ("hf_contrastive`", hf_contrastive.ContrastiveSettings),
        ("captioner`", captioner.CaptionerSettings),
        ("open_clip`", open_clip.OpenCLIPSettings),
        ("openai`", openai.Settings),
    ):
        [table] = [r for r in routes if r.startswith(route)]
        rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| `")]
        listed = {row[0].strip("|` "): row[1] for row in rows}
        shown = {
            "None": "—",
            "True": "true",
            "False": "false",
            "''": '""',
        }
        assert listed == {name: shown.get(d, d.strip("'")) for name, d, _ in describe(cls)}, route
