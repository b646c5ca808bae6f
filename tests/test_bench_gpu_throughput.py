"""benchmarks/bench_gpu_throughput.py end to end on CPU with tiny shapes, and its 2B-sized config."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from repo_paths import REPO

SCRIPT = REPO / "benchmarks" / "bench_gpu_throughput.py"

# The device's Python has torch, transformers, pandas and pyarrow but not these: the script runs
# with them unimportable, as it will there.
ABSENT_ON_DEVICE = ("hydra", "omegaconf", "datasets", "plotly", "open_clip", "lmms_eval")
RUN_WITHOUT = f"""
import importlib.abc, runpy, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {ABSENT_ON_DEVICE!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (absent on the device)")

sys.meta_path.insert(0, Absent())
# compile=vision with a backend that needs no C++ compiler (inductor's needs one on a CPU)
from evalharness.models import _hf_load
_hf_load.COMPILE_BACKEND = "aot_eager"
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One tiny run of the script: its work folder and the JSON it wrote."""
    tmp = tmp_path_factory.mktemp("bench_gpu")
    out = tmp / "out.json"
    # +ahead as on a GPU: the processor runs for the next batch while this one generates
    settings = "1+ahead,4+ahead,4+static+genpos,4+ahead+imgdev+visbatch,4+ahead+visbatch+viscompile"
    args = ["--tiny", "--samples", "8", "--settings", settings, "--workdir", str(tmp / "work")]
    proc = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT, str(SCRIPT), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        # the tiny Qwen2-VL the checkpoint borrows its tokenizer from is built in a private cache
        env={**os.environ, "EVALHARNESS_CACHE": str(tmp / "cache")},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "harness, batch 4" in proc.stdout  # the table is printed
    assert "at the matmul rate" in proc.stdout  # with the work against the device's ceilings
    return tmp / "work", json.loads(out.read_text())


def test_tiny_run_measures_every_setting_and_batched_answers_match(
    run: tuple[Path, dict[str, Any]],
) -> None:
    _, report = run
    assert report["device"] == "cpu" and report["dtype"] == "float32"
    settings = {row["setting"]: row for row in report["settings"]}
    harness = [
        "harness, batch 1, processor ahead",
        "harness, batch 4, processor ahead",
        "harness, batch 4, static cache, position ids in generate",
        "harness, batch 4, processor ahead, image work on the device, vision attention batched",
        "harness, batch 4, processor ahead, vision attention batched, vision tower compiled",
    ]
    assert list(settings) == ["plain generate, batch 1", *harness]  # in the order given
    assert settings["plain generate, batch 1"]["samples"] == 8
    assert report["skipped"] == []
    for row in settings.values():
        assert row["samples_per_s"] > 0
    for name in harness:
        row = settings[name]
        assert row["samples"] == 8 and row["errors"] == 0
        assert row["process_ahead"] is ("ahead" in name)  # auto: not on a CPU
        assert row["cache_implementation"] == ("static" if "static" in name else "dynamic")
        assert row["process_on"] == ("device" if "on the device" in name else "cpu")
        batched = "vision attention batched" in name
        assert row["vision_attention"] == ("batched" if batched else "per_image")
        assert row["compile"] == ("vision" if "compiled" in name else "none")
        assert row["positions_ahead"] is ("in generate" not in name)
        assert row["agreement"] == 1.0 and row["agreement_first_word"] == 1.0
        # the answers compared are not empty, and each 448² image became 256 image tokens
        assert row["mean_output_tokens"] > 0
        assert row["mean_input_tokens"] > 256
        # the time split: generate inside the model's call, the rest of the wall time beside it
        assert 0 < row["generate_s"] <= row["model_call_s"] <= row["seconds"]
        # the vision tower, the prefill and the decoding steps inside generate (compiled steps
        # are not seen; on a CPU nothing is compiled)
        assert row["vision_s"] > 0 and row["prefill_s"] > 0 and row["decode_s"] > 0
        assert row["vision_s"] + row["prefill_s"] + row["decode_s"] < row["generate_s"]
        assert row["runner_rest_s"] == pytest.approx(row["seconds"] - row["model_call_s"], abs=2e-3)
        # the runner's image work (decoding, thumbnails) on the worker side
        assert row["images_s"] > 0 and row["image_threads"] >= 1
        # ahead, the processor's work lands on the worker thread's side
        assert row["prepare_s"] > (0.01 if "ahead" in name else 0)
    assert report["processor"]["ms_per_sample"] > 0
    assert report["ceilings"]["matmul_tflops"] > 0 and report["ceilings"]["copy_gb_s"] > 0


def test_linear_flops_per_sample_match_the_shapes(run: tuple[Path, dict[str, Any]]) -> None:
    _, report = run
    bench = _load_script()
    flops = report["flops_per_sample"]
    vision, text = bench.TINY["vision"], bench.TINY["text"]
    e, h, i = vision["embed_dim"], text["hidden_size"], text["intermediate_size"]
    # 448² image: 32×32 patches through the vision blocks (qkv, proj, two MLP layers: 12 e² per
    # patch), merged 2×2 into 256 tokens by the merger's two layers (4e → 4e → h)
    patches = (448 // vision["patch_size"]) ** 2
    per_patch = 2 * vision["depth"] * 12 * e * e
    assert flops["vision"] == patches * per_patch + 2 * (patches // 4) * (16 * e * e + 4 * e * h)
    # language model: q, k, v, o and the three MLP layers per token and layer
    kv = h // text["num_attention_heads"] * text["num_key_value_heads"]
    per_token = 2 * text["num_hidden_layers"] * (2 * h * h + 2 * h * kv + 3 * h * i)
    prompt = flops["prefill"] / per_token  # tokens in the prompt: 256 image tokens and text
    steps = flops["decode"] / per_token  # one token per decoding step after the first token
    assert prompt == int(prompt) and 256 < prompt < 320
    assert steps == int(steps) and 0 < steps <= 15
    assert flops["other"] == 2 * h * text["vocab_size"] * (steps + 1)  # the LM head, per token


def test_settings_parse_and_refuse_unknown_modifiers() -> None:
    bench = _load_script()
    parse = bench.Setting.parse
    assert parse("128") == bench.Setting(128)
    assert parse("256+static+inline") == bench.Setting(256, static=True, ahead=False)
    assert parse(" 8+ahead").label == "harness, batch 8, processor ahead"
    assert parse("8+imgdev").model_args("sdpa") == {
        "attn_implementation": "sdpa",
        "process_on": "device",
    }
    assert parse("8+visbatch").model_args("sdpa") == {
        "attn_implementation": "sdpa",
        "vision_attention": "batched",
    }
    assert parse("8+viscompile").model_args("sdpa") == {
        "attn_implementation": "sdpa",
        "compile": "vision",
    }
    assert parse("8+genpos") == bench.Setting(8, positions_in_generate=True)
    assert parse("64+static").model_args("sdpa") == {
        "attn_implementation": "sdpa",
        "cache_implementation": "static",
    }
    with pytest.raises(SystemExit, match=r"unknown modifier \+fast \(known: \+static"):
        parse("64+fast")
    with pytest.raises(SystemExit, match="start with a batch size"):
        parse("static")
    args = bench.parse([])  # the GPU run's defaults
    assert args.settings[0] == bench.Setting(
        256, static=True, image_on_device=True, vision_batched=True, vision_compiled=True
    )
    assert args.samples == 1024


def test_checkpoint_decodes_every_id_and_the_2b_config_has_qwen2_vl_2b_size(
    run: tuple[Path, dict[str, Any]],
) -> None:
    import torch
    from transformers import AutoTokenizer, Qwen2VLForConditionalGeneration

    bench = _load_script()
    tok: Any = AutoTokenizer.from_pretrained(run[0] / "tiny")
    # The padded tokenizer covers the model's whole vocabulary, one word per filler id.
    assert len(tok) == bench.TINY["text"]["vocab_size"]
    assert tok.decode([len(tok) - 1]) == f" w{len(tok) - 1}"
    config = bench.qwen_config(bench.QWEN2_VL_2B, tok)
    cls: Any = Qwen2VLForConditionalGeneration
    with torch.device("meta"):
        model = cls._from_config(config, dtype=torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    assert 2.20e9 < params < 2.22e9  # Qwen2-VL-2B: 2.21 B parameters (embeddings tied)
    assert config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpu_throughput", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def test_a_failing_setting_is_recorded_and_the_next_one_still_runs(
    run: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _load_script()
    measure = bench.run_harness

    def refuse_batch_1(folder: Path, samples: Any, requests: Any, setting: Any, *rest: Any) -> Any:
        if setting.batch == 1:
            raise RuntimeError("process_on=device needs a torchvision processor")
        return measure(folder, samples, requests, setting, *rest)

    monkeypatch.setattr(bench, "run_harness", refuse_batch_1)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # what main sets, undone after the test
    out = tmp_path / "out.json"
    # the module's work folder: its checkpoint is reused, nothing is built again
    argv = ["--tiny", "--samples", "2", "--settings", "1,2", "--workdir", str(run[0])]
    assert bench.main([*argv, "--out", str(out)]) == 1
    rows = json.loads(out.read_text())["settings"]
    assert [r["setting"] for r in rows] == [
        "plain generate, batch 1",
        "harness, batch 1",
        "harness, batch 2",
    ]
    assert rows[1]["failed"] == "RuntimeError: process_on=device needs a torchvision processor"
    assert rows[2]["errors"] == 0 and rows[2]["agreement"] == 1.0


def test_the_runner_tells_an_observer_each_samples_image_time(tmp_path: Path) -> None:
    """The public hook the script's `Split` times the runner's image work with (`images_s`)."""
    import threading

    from model_helpers import Listed, SaysYes
    from PIL import Image

    from evalharness.models.base import ModelSpec
    from evalharness.runner.execute import run_benchmark
    from evalharness.runner.progress import Progress
    from evalharness.runner.spec import RunSpec
    from evalharness.store import ResultsStore
    from evalharness.types import PILImageSource, Sample

    class Observer:
        def __init__(self) -> None:
            self.seen: list[tuple[str, float]] = []
            self.lock = threading.Lock()

        def images_loaded(self, sample: Sample, seconds: float) -> None:
            with self.lock:
                self.seen.append((sample.id, seconds))

    samples = [
        Sample(
            id=f"s{i}",
            images=(PILImageSource(Image.new("RGB", (64, 48), (i * 30, 80, 160))),),
            prompt="?",
            targets=("yes",),
        )
        for i in range(7)
    ]
    observer = Observer()
    spec = RunSpec(model=ModelSpec(name="yes"), benchmarks=(), batch_size=3, progress=False)
    store = ResultsStore(tmp_path / "results")
    result = run_benchmark(
        spec, SaysYes(), Listed(samples), store, Progress(1, False), observer=observer
    )
    assert result is not None and result.metrics["score"].value == 1.0
    assert sorted(sid for sid, _ in observer.seen) == [s.id for s in samples]  # once each
    assert all(seconds > 0 for _, seconds in observer.seen)
    # a resumed run asks nothing: it loads no image, and tells nothing
    again = Observer()
    run_benchmark(spec, SaysYes(), Listed(samples), store, Progress(1, False), observer=again)
    assert again.seen == []
