"""Generation throughput of `HFModel`'s batched path on a Qwen2-VL-2B-sized random-weight model.

    python benchmarks/bench_gpu_throughput.py              # GPU: 1024 requests, 9 settings
    python benchmarks/bench_gpu_throughput.py --tiny       # CPU: tiny shapes, in seconds
    python benchmarks/bench_gpu_throughput.py --settings 64,64+static --attn eager --samples 256

1. Builds a checkpoint folder with Qwen2-VL-2B's shapes (2.2 B parameters) and random weights,
   directly on the device, saved with safetensors. Tokenizer, chat template and processor come
   from the project's tiny Qwen2-VL (`tiny.build("qwen2_vl")`); its vocabulary is padded with
   filler words ("w123") up to the model's 151,936 ids, so that every generated id decodes to a
   word of its own and the image processor keeps the 2B's pixel limits (a 448×448 image becomes
   256 image tokens). `--tiny` builds the same folder with tiny shapes.
2. Asks N requests (one 448×448 noise image each, a short VQA-style question, 16 new tokens,
   greedy), made as the runner makes them.
3. Times the harness's own path for each batch size: `run_benchmark`, the runner's function
   for one run, with `HFModel` loaded from the folder exactly as a real checkpoint, after a
   warm-up batch. That is everything `evalharness run` does per sample: images decoded and
   thumbnailed and inputs processed for the next batch on a worker thread while the model
   generates, rows written to a results folder, answers scored. Then a plain loop of
   `model.generate` one request at a time on the first requests; and compares the answers (the
   fraction of identical answers, and of identical first words).
4. Splits each setting's time (`Split`): generate, and inside it the vision tower, the
   language model's prefill and its decoding steps (device time, `Inside`); the model's whole
   call; the runner's other main-thread time; the input work done ahead. Counts one request's
   linear-layer FLOPs by phase and measures the device's matrix-product rate and copy
   bandwidth: at that rate, the work per sample bounds the samples/s, and each phase's achieved
   rate shows how far it is from the bound.
5. Prints a table and writes it as JSON (`--out`), after every step, so an interrupted run
   still leaves what it measured. A setting that fails (its model refused at load, say) is
   recorded with its error and the next one runs; the exit status is then 1.

Random weights give nearly flat next-token distributions, where bf16 rounding alone can flip a
greedy choice; answers of 16 tokens then diverge although nothing is wrong. On a trained model
agreement is higher. In float32 (`--tiny` on CPU) every answer must agree: the script exits with
status 1 if one does not, or if any request fails.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evalharness.benchmarks.base import BaseBenchmark  # noqa: E402
from evalharness.models.base import ModelSpec  # noqa: E402
from evalharness.types import (  # noqa: E402
    GenerationSettings,
    PILImageSource,
    Request,
    Sample,
    Scored,
    request_text,
)

# Reference figures on one H100 (Qwen2-VL-2B, 448×448 images, 16 new tokens), samples/s.
REFERENCE = {
    "plain generate, batch 1": 3.0,
    "plain generate, batch 64, static KV cache (best)": 99.0,
    "floor": 250.0,
}
TARGET = 150.0

# The GPU run's settings, most telling first: a time budget cuts the tail. The fastest
# combination measured (static cache: transformers compiles the decoding step, slow to start,
# fast to run; the vision tower compiled; image work on the GPU; vision attention batched),
# then without the static cache, without the compiled tower, with position ids computed inside
# generate, with none of the options; the processor in line to show what running it ahead is
# worth; smaller and larger batches.
DEFAULT_SETTINGS = (
    "256+static+imgdev+visbatch+viscompile",
    "256+imgdev+visbatch+viscompile",
    "256+imgdev+visbatch",
    "256+imgdev+visbatch+genpos",
    "256",
    "128+inline",
    "128",
    "512+static+imgdev+visbatch+viscompile",
    "64",
)

# Qwen2-VL-2B's config, written out (no hub access). The token ids are the tiny tokenizer's.
QWEN2_VL_2B: dict[str, Any] = {
    "text": dict(
        hidden_size=1536,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        intermediate_size=8960,
        vocab_size=151936,
        max_position_embeddings=32768,
        rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [16, 24, 24]},
        sliding_window=32768,
        use_sliding_window=False,
        max_window_layers=28,
        hidden_act="silu",
        initializer_range=0.02,
    ),
    "vision": dict(
        depth=32,
        embed_dim=1280,
        num_heads=16,
        mlp_ratio=4,
        hidden_size=1536,  # the merger's output: the language model's width
        patch_size=14,
        spatial_merge_size=2,
        temporal_patch_size=2,
        in_channels=3,
        hidden_act="quick_gelu",
        initializer_range=0.02,
    ),
    "tie_word_embeddings": True,
}
# The same layout at toy size. A larger init (as the project's tiny models use) peaks the random
# logits, so float32 answers cannot hinge on the last bits of rounding.
TINY: dict[str, Any] = {
    "text": dict(
        QWEN2_VL_2B["text"],
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        vocab_size=1024,
        max_position_embeddings=4096,
        rope_parameters={"rope_type": "default", "rope_theta": 1e4, "mrope_section": [2, 3, 3]},
        sliding_window=4096,
        max_window_layers=2,
        initializer_range=0.2,
    ),
    "vision": dict(QWEN2_VL_2B["vision"], depth=2, embed_dim=32, num_heads=2, hidden_size=64),
    "tie_word_embeddings": True,
}
# Qwen2-VL-2B's image processor limits (pixels): 448×448 stays 448×448 → 32×32 patches → 256 tokens.
MIN_PIXELS, MAX_PIXELS = 56 * 56, 12845056

QUESTIONS = (
    "What colour is the car?",
    "How many people are in the picture?",
    "Is there a dog on the sofa?",
    "What is the man on the left holding in his hand?",
    "Which room of the house is shown in this photo?",
    "What is written on the sign next to the door?",
    "Is it day or night?",
    "What sport are the children in the background playing, and where?",
)
SUFFIX = "\nAnswer the question using a single word or phrase."

MARKER = "bench-checkpoint.json"
"""Written last into a built folder, with the shapes it was built from: a rerun reuses it."""


def log(msg: str) -> None:
    print(msg, flush=True)


def _transformers() -> Any:
    """The transformers package, untyped: its processor and model classes are loosely typed."""
    import transformers

    return transformers


class Phases:
    """Wall time of each named step, printed as it ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        log(f"  [{self.seconds[name]:7.2f} s] {name}")

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class Split:
    """Where one harness setting's time went, summed over its batches.

    - `prepare_s`: `HFModel.prepare` on the runner's worker thread (templates and, ahead, the
      processor), overlapping the model's call for the previous batch;
    - `model_call_s`: the prepared call on the main thread (inputs to the device, generate,
      decoding), of which `generate_s` is `generate` itself, synchronised with the device;
    - `runner_rest_s`: the rest of the main thread's wall time, the run's `seconds` minus the
      model's call: waiting for the next batch, rows written, answers scored;
    - `images_s`: the runner's image work for the next batches (decoding, thumbnails,
      fingerprints), summed over its image threads, before `prepare`.

    A large `runner_rest_s` means the device waits for the host; `images_s` / image threads +
    `prepare_s` near the wall time says the worker side is what it waits for.
    """

    def __init__(self, model: Any, device: str) -> None:
        self.seconds = {"prepare_s": 0.0, "model_call_s": 0.0, "generate_s": 0.0, "images_s": 0.0}
        self._lock = threading.Lock()
        prepare, generate = model.prepare, model._call_generate
        self.inside = Inside(model._loaded.model, device)

        def timed_prepare(requests: Sequence[Request]) -> Any:
            with self.timer("prepare_s"):
                call = prepare(requests)

            def timed_call() -> Any:
                with self.timer("model_call_s"):
                    return call()

            return timed_call

        def timed_generate(inputs: dict[str, Any], kwargs: dict[str, Any]) -> Any:
            with self.timer("generate_s"):
                try:
                    out = generate(inputs, kwargs)
                except BaseException:  # out of memory, say: the runner retries smaller batches
                    self.inside.discard()
                    raise
                sync(device)
            self.inside.collect()  # after the sync: the call's device events have all happened
            return out

        model.prepare, model._call_generate = timed_prepare, timed_generate

    def images_loaded(self, sample: Sample, seconds: float) -> None:
        """The runner's `RunObserver` hook: a sample's images decoded, on an image thread."""
        with self._lock:
            self.seconds["images_s"] += seconds

    @contextlib.contextmanager
    def timer(self, key: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.seconds[key] += time.perf_counter() - t0

    def close(self) -> None:
        """Take the timers off the model."""
        self.inside.close()

    def row(self, wall_s: float) -> dict[str, float]:
        seconds = {**self.seconds, **self.inside.seconds}
        out = {k: round(v, 3) for k, v in seconds.items()}
        out["runner_rest_s"] = round(wall_s - self.seconds["model_call_s"], 3)
        return out


def language_model_length(kwargs: dict[str, Any]) -> int:
    """The sequence length of a language model call: >1 for the prefill, 1 per decoding step."""
    x = kwargs.get("inputs_embeds")
    if x is None:
        x = kwargs.get("input_ids")
    return int(x.shape[1]) if x is not None else 0


def hook_phases(
    hf_model: Any, enter: Callable[[str], None], leave: Callable[[str], None]
) -> list[Any]:
    """Call `enter(phase)` and `leave(phase)` around the model's phases: its vision tower
    (`vision`) and its language model on the whole prompt (`prefill`) or on one token
    (`decode`). Nothing happens in compiled code (the static cache's decoding step). Returns
    the hook handles."""
    import torch

    inner = hf_model.model
    handles = []
    for part, module in (("vision", inner.visual), ("lm", inner.language_model)):
        current: list[str] = []

        def before(
            module: Any,
            args: Any,
            kwargs: dict[str, Any],
            part: str = part,
            current: list[str] = current,
        ) -> None:
            if torch.compiler.is_compiling():
                return
            if part == "vision":
                phase = "vision"
            else:
                phase = "prefill" if language_model_length(kwargs) > 1 else "decode"
            current.append(phase)
            enter(phase)

        def after(module: Any, args: Any, output: Any, current: list[str] = current) -> None:
            if not torch.compiler.is_compiling() and current:
                leave(current.pop())

        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after))
    return handles


class Inside:
    """Where `generate`'s time goes on the device, summed over calls: the vision tower
    (`vision_s`), the language model's prefill, its call on the whole prompt (`prefill_s`), and
    its decoding steps (`decode_s`). The rest of `generate_s` is generate's own work: position
    ids, choosing tokens, stop checks.

    Timed with CUDA events around the modules' forward calls (no synchronisation added; read
    after each `generate`, which the caller synchronises), with a host clock on a CPU. An event
    pair spans the device's idle gaps too: a phase the host cannot feed shows as slow. Compiled
    code is not seen: with the static cache, transformers compiles the decoding step, whose
    time then stays in the rest.
    """

    def __init__(self, hf_model: Any, device: str) -> None:
        self._cuda = device.startswith("cuda")
        self.seconds = {"vision_s": 0.0, "prefill_s": 0.0, "decode_s": 0.0}
        self._open: dict[str, Any] = {}
        self._done: list[tuple[str, Any, Any]] = []
        self._handles = hook_phases(hf_model, self._enter, self._leave)

    def _stamp(self) -> Any:
        if self._cuda:
            import torch

            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def _enter(self, phase: str) -> None:
        self._open[phase] = self._stamp()

    def _leave(self, phase: str) -> None:
        if phase in self._open:
            self._done.append((f"{phase}_s", self._open.pop(phase), self._stamp()))

    def collect(self) -> None:
        """Add up the finished calls' times (the device synchronised before)."""
        for key, start, end in self._done:
            self.seconds[key] += start.elapsed_time(end) / 1000 if self._cuda else end - start
        self.discard()

    def discard(self) -> None:
        """Forget the calls since the last `collect` (a generate that raised)."""
        self._done.clear()
        self._open.clear()

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def count_flops(hf_model: Any, call: Any) -> dict[str, float]:
    """The matrix FLOPs of the linear layers in `call()`, by phase (`hook_phases`): `vision`,
    `prefill`, `decode` (except compiled steps), `other` (the LM head and the rest)."""
    import torch

    flops = {"vision": 0.0, "prefill": 0.0, "decode": 0.0, "other": 0.0}
    phase: list[str] = []

    def linear(module: Any, args: Any, output: Any) -> None:
        if not torch.compiler.is_compiling():
            rows = args[0].numel() // module.in_features
            flops[phase[-1] if phase else "other"] += (
                2.0 * rows * module.in_features * module.out_features
            )

    def leave(_: str) -> None:
        phase.pop()

    handles = hook_phases(hf_model, phase.append, leave)
    for module in hf_model.modules():
        if isinstance(module, torch.nn.Linear):
            handles.append(module.register_forward_hook(linear))
    try:
        call()
    finally:
        for handle in handles:
            handle.remove()
    return flops


def ceilings(device: str) -> dict[str, Any]:
    """This device's two ceilings, measured: a large matrix product's rate (TFLOP/s, in the
    run's dtype on a GPU) and a device-to-device copy's bandwidth (bytes read and written)."""
    import torch

    cuda = device.startswith("cuda")
    n = 8192 if cuda else 512
    dtype = torch.bfloat16 if cuda else torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    a, b = (torch.randn(n, n, device=device, dtype=dtype, generator=gen) for _ in range(2))
    src = torch.randn(2**28 if cuda else 2**22, device=device, generator=gen)  # 1 GiB / 16 MiB
    dst = torch.empty_like(src)

    def best(fn: Any, reps: int) -> float:
        fn()
        sync(device)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            sync(device)
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2]  # the median

    matmul_s = best(lambda: a @ b, 20)
    copy_s = best(lambda: dst.copy_(src), 20)
    return {
        "matmul_tflops": float(f"{2 * n**3 / matmul_s / 1e12:.3g}"),
        "matmul": f"{n}x{n}x{n} {str(dtype).removeprefix('torch.')}",
        "copy_gb_s": float(f"{2 * src.numel() * src.element_size() / copy_s / 1e9:.3g}"),
    }


SPLIT_COLUMNS = {
    "vision_s": "vis s",
    "prefill_s": "pre s",
    "decode_s": "dec s",
    "generate_s": "gen s",
    "model_call_s": "call s",
    "runner_rest_s": "rest s",
    "prepare_s": "prep s",
    "images_s": "img s",
}
"""The time split's keys (`Split`) and their headers in the printed table."""

MODIFIERS: dict[str, dict[str, Any]] = {
    "static": {"static": True},
    "inline": {"ahead": False},
    "ahead": {"ahead": True},
    "imgdev": {"image_on_device": True},
    "visbatch": {"vision_batched": True},
    "viscompile": {"vision_compiled": True},
    "genpos": {"positions_in_generate": True},
}


@dataclass(frozen=True)
class Setting:
    """One harness configuration to time: a batch size and the model args it changes.

    Written `128`, `128+static` (static KV cache: on CUDA transformers compiles the decoding
    step), `128+inline` (the processor runs in the generating call rather than ahead, on the
    runner's worker thread), `128+ahead` (processor ahead even on a CPU), `128+imgdev` (the
    processor's image work on the model's device: `process_on=device`), `128+visbatch` (the
    vision tower attends over same-size images in one call per layer:
    `vision_attention=batched`), `128+viscompile` (the vision tower's blocks compiled:
    `compile=vision`), `128+genpos` (position ids computed inside `generate`, as transformers
    does, rather than with the inputs: the harness's way before, for comparison).
    """

    batch: int
    static: bool = False
    ahead: bool | None = None  # None: the model's default (auto: ahead on a GPU)
    image_on_device: bool = False
    vision_batched: bool = False
    vision_compiled: bool = False
    positions_in_generate: bool = False

    @classmethod
    def parse(cls, text: str) -> Setting:
        size, *mods = text.strip().split("+")
        fields: dict[str, Any] = {}
        for mod in mods:
            if mod not in MODIFIERS:
                known = ", ".join(f"+{m}" for m in MODIFIERS)
                raise SystemExit(f"setting {text!r}: unknown modifier +{mod} (known: {known})")
            fields.update(MODIFIERS[mod])
        if not size.isdigit() or int(size) < 1:
            raise SystemExit(f"setting {text!r}: start with a batch size, like 128 or 128+static")
        return cls(int(size), **fields)

    @property
    def label(self) -> str:
        parts = [f"harness, batch {self.batch}"]
        if self.static:
            parts.append("static cache")
        if self.ahead is not None:
            parts.append("processor ahead" if self.ahead else "processor inline")
        if self.image_on_device:
            parts.append("image work on the device")
        if self.vision_batched:
            parts.append("vision attention batched")
        if self.vision_compiled:
            parts.append("vision tower compiled")
        if self.positions_in_generate:
            parts.append("position ids in generate")
        return ", ".join(parts)

    def model_args(self, attn: str) -> dict[str, Any]:
        args: dict[str, Any] = {"attn_implementation": attn}
        if self.static:
            args["cache_implementation"] = "static"
        if self.ahead is not None:
            args["process_ahead"] = self.ahead
        if self.image_on_device:
            args["process_on"] = "device"
        if self.vision_batched:
            args["vision_attention"] = "batched"
        if self.vision_compiled:
            args["compile"] = "vision"
        return args


# -- the checkpoint ---------------------------------------------------------------------------------


def qwen_config(shapes: dict[str, Any], tok: Any) -> Any:
    """A Qwen2VLConfig with `shapes`, its special ids taken from the tokenizer `tok`."""
    tf = _transformers()
    ids = {t: tok.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|image_pad|>")}
    text = dict(
        shapes["text"],
        bos_token_id=tok.eos_token_id,
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=tok.pad_token_id,
    )
    return tf.Qwen2VLConfig(
        text_config=text,
        vision_config=dict(shapes["vision"]),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tok.convert_tokens_to_ids("<|vision_end|>"),
        tie_word_embeddings=shapes["tie_word_embeddings"],
    )


def padded_tokenizer(source: Path, target: Path, vocab_size: int) -> Any:
    """The tiny tokenizer with filler words appended up to `vocab_size` ids.

    The fillers (`Ġw<id>`, decoded " w<id>") are reachable by no merge, so prompts tokenize
    exactly as before; they only make every id the model can generate decode to its own word.
    """
    from transformers import AutoTokenizer

    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(source / name, target / name)
    spec = json.loads((target / "tokenizer.json").read_text())
    vocab: dict[str, int] = spec["model"]["vocab"]
    used = max([*vocab.values(), *(t["id"] for t in spec["added_tokens"])]) + 1
    if used > vocab_size:
        raise SystemExit(f"the tiny tokenizer has {used} ids, more than the model's {vocab_size}")
    for i in range(used, vocab_size):
        assert f"Ġw{i}" not in vocab
        vocab[f"Ġw{i}"] = i
    (target / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False))
    return AutoTokenizer.from_pretrained(target)


def build_checkpoint(
    target: Path, shapes: dict[str, Any], device: str, dtype: Any, phases: Phases
) -> Path:
    """Write a complete Qwen2-VL checkpoint folder with `shapes` and random weights."""
    import torch

    from evalharness.models import tiny

    tf = _transformers()

    stamp = json.dumps({"shapes": shapes, "dtype": str(dtype)}, sort_keys=True)
    if (target / MARKER).is_file() and (target / MARKER).read_text() == stamp:
        log(f"  reusing the checkpoint in {target}")
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with phases("build the tiny Qwen2-VL (tokenizer, template)"):
        source = tiny.build("qwen2_vl")
    with phases("tokenizer and processor"):
        tok = padded_tokenizer(source, target, shapes["text"]["vocab_size"])
        size = {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}
        merge = shapes["vision"]["spatial_merge_size"]
        patch = shapes["vision"]["patch_size"]
        processor = tf.Qwen2VLProcessor(
            image_processor=tf.Qwen2VLImageProcessor(size=size, patch_size=patch, merge_size=merge),
            video_processor=tf.Qwen2VLVideoProcessor(size=size, patch_size=patch, merge_size=merge),
            tokenizer=tok,
            chat_template=(source / "chat_template.jinja").read_text(),
        )
    with phases("random weights on the device"):
        config = qwen_config(shapes, tok)
        torch.manual_seed(0)
        with torch.device(device):
            model = tf.Qwen2VLForConditionalGeneration._from_config(config, dtype=dtype)
        gen = model.generation_config
        gen.eos_token_id = [tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id]
        gen.pad_token_id = tok.pad_token_id
        gen.bos_token_id = tok.eos_token_id
        params = sum(p.numel() for p in model.parameters())
        log(f"  {params:,} parameters")
    with phases("save (safetensors)"):
        model.save_pretrained(target)
        processor.save_pretrained(target)
    del model
    free_memory()
    (target / MARKER).write_text(stamp)
    return target


# -- the workload -----------------------------------------------------------------------------------


def make_samples(n: int, image_size: int) -> list[Sample]:
    """n samples: a noise image and a short VQA-style question each."""
    import numpy as np
    from PIL import Image

    out = []
    for i in range(n):
        pixels = np.random.default_rng(i).integers(0, 256, (image_size, image_size, 3), np.uint8)
        out.append(
            Sample(
                id=f"q{i:05d}",
                images=(PILImageSource(Image.fromarray(pixels)),),
                prompt=QUESTIONS[i % len(QUESTIONS)] + SUFFIX,
                targets=("yes",),
            )
        )
    return out


def make_requests(samples: Sequence[Sample], max_new_tokens: int) -> list[Request]:
    """The runner's requests for `samples` (open form), for the plain loop and warm-ups."""
    settings = GenerationSettings(max_new_tokens=max_new_tokens)
    out = []
    for s in samples:
        images = tuple(src.load() for src in s.images)
        out.append(Request(s, images, request_text(s, "open"), "generate", settings, "open"))
    return out


class Questions(BaseBenchmark):
    """The samples as a benchmark for the runner (scored by exact match with "yes")."""

    name = "bench_questions"
    capability = "vqa"
    description = "noise images with VQA-style questions (throughput only)"
    version = "1"

    def __init__(self, samples: Sequence[Sample], max_new_tokens: int) -> None:
        self._samples = list(samples)
        self.generation = GenerationSettings(max_new_tokens=max_new_tokens)

    def samples(self) -> Sequence[Sample]:
        return self._samples

    def score_open(self, sample: Sample, text: str) -> Scored:
        return Scored(extracted=text, score=float(text.strip().lower() == "yes"))


# -- measuring --------------------------------------------------------------------------------------


def free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device: str) -> float | None:
    import torch

    if not device.startswith("cuda"):
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def run_harness(
    folder: Path,
    samples: list[Sample],
    requests: list[Request],
    setting: Setting,
    args: argparse.Namespace,
    phases: Phases,
    results: Path,
) -> tuple[dict[str, Any], list[str]]:
    """The runner's `run_benchmark` over all samples in one setting."""
    from evalharness.models.hf import HFModel
    from evalharness.runner.execute import image_threads, run_benchmark
    from evalharness.runner.progress import Progress
    from evalharness.runner.spec import RunSpec
    from evalharness.store import ResultsStore

    reset_peak(args.device)
    batch, name = setting.batch, setting.label
    spec = ModelSpec(
        name="hf",
        path=str(folder),
        dtype=args.dtype,
        device=args.device,
        batch_size=batch,
        args=setting.model_args(args.attn),
    )
    with phases(f"{name}: load (HFModel)"):
        model = HFModel(spec)
        if setting.positions_in_generate:
            model._loaded.positions_ahead = False
    with phases(f"{name}: warm-up batch"):
        model.predict(requests[:batch])
        sync(args.device)
    shutil.rmtree(results, ignore_errors=True)
    split = Split(model, args.device)  # after the warm-up: only the timed run counts
    store = ResultsStore(results)
    run = RunSpec(
        model=spec,
        benchmarks=(),
        results_dir=str(results),
        batch_size=batch,
        progress=False,
        max_error_rate=1.0,
    )
    try:
        with phases(f"{name}: {len(samples)} samples through the runner"):
            t0 = time.perf_counter()
            result = run_benchmark(
                run,
                model,
                Questions(samples, args.max_new_tokens),
                store,
                Progress(1, False),
                observer=split,  # told each sample's image time
            )
            sync(args.device)
            seconds = time.perf_counter() - t0
    finally:
        split.close()  # also when the run fails: the next setting starts clean
    rows = store.read_samples(result.run_id).sort_values("sample_id")
    errors = [e for e in rows["error"] if isinstance(e, str)]
    row = {
        "setting": name,
        "batch_size": batch,
        "cache_implementation": "static" if setting.static else "dynamic",
        "batch_size_after": model.batch_size,  # lower if out-of-memory halved it
        "attn_implementation": model.identity()["attn_implementation"],
        "process_ahead": model.process_ahead,
        "process_on": model.settings.process_on,
        "vision_attention": model.settings.vision_attention,
        "compile": model.settings.compile,
        "positions_ahead": model._loaded.positions_ahead,
        "image_threads": image_threads(),
        "params": model.info().params,
        "samples": len(samples),
        "seconds": round(seconds, 3),
        "samples_per_s": round(len(samples) / seconds, 2),
        "mean_input_tokens": round(float(rows["input_tokens"].mean()), 1),
        "mean_output_tokens": round(float(rows["output_tokens"].mean()), 2),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "peak_gib": peak_gib(args.device),
        **split.row(seconds),
    }
    if setting.static and args.device.startswith("cuda"):
        row["decode_s"] = None  # compiled by transformers: not seen by the hooks
    del model
    free_memory()
    return row, [t if isinstance(t, str) else "" for t in rows["prediction"]]


def run_plain(
    folder: Path, requests: list[Request], args: argparse.Namespace, phases: Phases
) -> tuple[dict[str, Any], list[str], dict[str, Any], dict[str, float]]:
    """`model.generate` one request at a time on the first `--plain-samples` requests, with
    transformers only; the processor's cost on one batch of the largest batch size; and one
    request's linear-layer FLOPs by phase (`count_flops`)."""
    import torch

    tf = _transformers()
    reset_peak(args.device)
    with phases("plain: load"):
        processor = tf.AutoProcessor.from_pretrained(folder)
        model = tf.AutoModelForImageTextToText.from_pretrained(
            folder, dtype=args.torch_dtype, attn_implementation=args.attn
        ).to(args.device)
        model.eval()
    tok = processor.tokenizer

    def inputs(reqs: Sequence[Request], **extra: Any) -> Any:
        texts = [
            processor.apply_chat_template(
                [
                    {
                        "role": "user",
                        "content": [{"type": "image"}, {"type": "text", "text": r.text}],
                    }
                ],
                add_generation_prompt=True,
                tokenize=False,
            )
            for r in reqs
        ]
        tok.padding_side = "left"
        images = [r.images[0] for r in reqs]
        batch = processor(text=texts, images=images, padding=True, return_tensors="pt", **extra)
        return {
            k: v.to(args.device, args.torch_dtype) if v.is_floating_point() else v.to(args.device)
            for k, v in batch.items()
        }

    kwargs = dict(
        max_new_tokens=args.max_new_tokens,
        do_sample=False,
        num_beams=1,
        pad_token_id=tok.pad_token_id,
    )
    with phases("plain: warm-up (linear-layer FLOPs counted)"), torch.inference_mode():
        first = inputs(requests[:1])
        flops = count_flops(model, functools.partial(model.generate, **first, **kwargs))
        sync(args.device)
    subset = requests[: args.plain_samples]
    answers = []
    with phases(f"plain: {len(subset)} requests, batch 1"), torch.inference_mode():
        t0 = time.perf_counter()
        for r in subset:
            enc = inputs([r])
            out = model.generate(**enc, **kwargs)
            new = out[0, enc["input_ids"].shape[1] :]
            answers.append(tok.decode(new, skip_special_tokens=True).strip())
        sync(args.device)
        seconds = time.perf_counter() - t0
    row = {
        "setting": "plain generate, batch 1",
        "batch_size": 1,
        "samples": len(subset),
        "seconds": round(seconds, 3),
        "samples_per_s": round(len(subset) / seconds, 2),
        "peak_gib": peak_gib(args.device),
    }
    size = min(max(s.batch for s in args.settings), len(requests))
    with phases(f"processor only: {size} requests in one call"):
        processor_row = time_processor(inputs, requests[:size], args.device)
    del model
    free_memory()
    return row, answers, processor_row, flops


def time_processor(inputs: Any, requests: Sequence[Request], device: str) -> dict[str, Any]:
    """ms per sample of the processor call alone (best of two), on the CPU (the harness's
    default); on a GPU also with the image work moved there (`device=`, as `process_on=device`
    asks)."""
    out: dict[str, Any] = {"batch_size": len(requests)}
    runs: dict[str, dict[str, Any]] = {"ms_per_sample": {}}
    if device.startswith("cuda"):
        runs["ms_per_sample_image_work_on_gpu"] = {"device": device}
    for key, extra in runs.items():
        try:
            best = float("inf")
            for _ in range(2):
                t0 = time.perf_counter()
                inputs(requests, **extra)
                sync(device)
                best = min(best, time.perf_counter() - t0)
            out[key] = round(best / len(requests) * 1000, 2)
        except Exception as exc:  # an older processor without `device`: report, go on
            out[key] = f"{type(exc).__name__}: {exc}"
    return out


def agreement(plain: Sequence[str], ours: Sequence[str]) -> dict[str, float]:
    """Fractions of identical answers and of identical first words."""
    pairs = list(zip(plain, ours, strict=False))
    exact = sum(a == b for a, b in pairs) / len(pairs)
    first = sum(a.split()[:1] == b.split()[:1] for a, b in pairs) / len(pairs)
    return {"agreement": round(exact, 4), "agreement_first_word": round(first, 4)}


# -- report -----------------------------------------------------------------------------------------


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return str(torch.cuda.get_device_name(torch.device(device)))
    return f"CPU ({platform.processor() or platform.machine()})"


def table(report: dict[str, Any]) -> str:
    head = (
        f"{report['model']} · {report['device_name']} · torch {report['torch']} · "
        f"transformers {report['transformers']} · {report['dtype']} · "
        f"attn {report['attn_implementation']} · {report['date']}\n"
        f"{report['samples']} requests, one {report['image_size']}² image each, "
        f"{report['max_new_tokens']} new tokens (greedy)\n"
    )
    cols = ("samples/s", "agree", "1st word", "in tok", "out tok", "peak GiB")
    names = [row["setting"] for row in report["settings"]] + list(report["skipped"])
    w = max([44, *(len(n) + 2 for n in names)])
    lines = [f"{'setting':<{w}}" + "".join(f"{c:>10}" for c in (*cols, *SPLIT_COLUMNS.values()))]
    for row in report["settings"]:
        if "failed" in row:
            lines.append(f"{row['setting']:<{w}}failed: {row['failed'][:200]}")
            continue
        cells = [
            f"{row['samples_per_s']:.2f}",
            *(_fmt(row.get(k), ".3f") for k in ("agreement", "agreement_first_word")),
            *(_fmt(row.get(k), ".1f") for k in ("mean_input_tokens", "mean_output_tokens")),
            _fmt(row.get("peak_gib"), ".2f"),
            *(_fmt(row.get(k), ".2f") for k in SPLIT_COLUMNS),
        ]
        lines.append(f"{row['setting']:<{w}}" + "".join(f"{c:>10}" for c in cells))
    for name in report["skipped"]:
        lines.append(f"{name:<{w}}{'skipped (time budget)':>30}")
    proc = report.get("processor") or {}
    if isinstance(proc.get("ms_per_sample"), float):
        lines.append(
            f"processor alone: {proc['ms_per_sample']} ms/sample at batch {proc['batch_size']}"
            f" (≤ {1000 / max(proc['ms_per_sample'], 1e-9):.0f} samples/s if nothing overlaps it)"
        )
    if "ms_per_sample_image_work_on_gpu" in proc:
        lines.append(
            f"  with device= (image work on the GPU): {proc['ms_per_sample_image_work_on_gpu']}"
        )
    lines.append(
        "vis s, pre s, dec s: the vision tower, the language model's prefill and its "
        "decoding steps (uncompiled) inside generate (device time); gen s: generate; call s: "
        "the model's whole call (main thread); rest s: the main thread's other time (waiting "
        "for the next batch, rows, scores); prep s: the model's input work for the next batch "
        "(worker thread, overlapped); img s: the runner's image work before it (summed over "
        "its image threads)"
    )
    if report["dtype"] != "float32":
        lines.append(
            "agree: identical answers to plain batch-1 generate; random weights give flat "
            "next-token distributions, where bf16 rounding alone flips greedy choices"
        )
    lines += work_lines(report)
    refs = "; ".join(f"{k} ≈ {v:g}/s" for k, v in REFERENCE.items())
    lines.append(f"reference (H100): {refs}; target ≥ {TARGET:g}/s")
    lines.append("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in report["phases_s"].items()))
    return head + "\n".join(lines)


def work_lines(report: dict[str, Any]) -> list[str]:
    """The work per sample against the device's ceilings, and how fast the best setting ran
    each phase."""
    flops, top = report.get("flops_per_sample"), report.get("ceilings")
    if not flops or not top:
        return []
    per = {k: v / 1e12 for k, v in flops.items()}
    total = sum(per.values())
    lines = [
        "work per sample (linear layers, TFLOP): "
        + ", ".join(f"{k} {v:.4g}" for k, v in per.items())
        + f"; measured: matmul {top['matmul_tflops']:g} TFLOP/s ({top['matmul']}), copy "
        f"{top['copy_gb_s']:g} GB/s; at the matmul rate: ≤ {top['matmul_tflops'] / total:.0f} "
        "samples/s"
    ]
    rows = [r for r in report["settings"] if "vision_s" in r]
    if rows:
        best = max(rows, key=lambda r: r["samples_per_s"])
        n = best["samples"]
        rates = {
            k: per[k] * n / best[f"{k}_s"] for k in ("vision", "prefill") if best[f"{k}_s"] > 0
        }
        decode = best.get("decode_s")
        own = best["generate_s"] - best["vision_s"] - best["prefill_s"] - (decode or 0.0)
        steps = (
            f"decoding steps {decode:.2f} s, generate's own work {own:.2f} s"
            if decode is not None
            else f"compiled decoding steps and generate's own work {own:.2f} s"
        )
        lines.append(
            f"best ({best['setting']}): "
            + ", ".join(f"{k} at {v:.3g} TFLOP/s" for k, v in rates.items())
            + f"; of generate's {best['generate_s']:.2f} s, {steps}"
        )
    return lines


def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def write(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


# -- main -------------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="tiny shapes (CPU, seconds)")
    p.add_argument("--samples", type=int, help="requests (default 1024; 16 with --tiny)")
    p.add_argument(
        "--settings",
        help="harness settings, in the order run (default "
        + ",".join(DEFAULT_SETTINGS)
        + "; 1,4 with --tiny):\n"
        + "a batch size, optionally with +static (static KV cache), +inline (processor in the\n"
        + "generating call), +ahead (processor ahead on the worker thread, even on a CPU),\n"
        + "+imgdev (the processor's image work on the model's device), +visbatch (the vision\n"
        + "tower's attention batched over same-size images), +viscompile (the vision tower's\n"
        + "blocks compiled), +genpos (position ids computed inside generate, not ahead)",
    )
    p.add_argument("--plain-samples", type=int, default=32, help="requests for the plain loop")
    p.add_argument("--image-size", type=int, default=448)
    p.add_argument("--max-new-tokens", type=int, default=16)
    p.add_argument("--device", help="auto (default; cpu with --tiny), cuda, cuda:1, cpu")
    p.add_argument("--dtype", default="auto", help="auto: bfloat16 on GPU, float32 on CPU")
    p.add_argument("--attn", default="sdpa", help="model.args.attn_implementation")
    p.add_argument("--workdir", type=Path, help="checkpoint folder (kept; default: temporary)")
    p.add_argument("--out", type=Path, help="JSON (default benchmarks/results/gpu_throughput.json)")
    p.add_argument(
        "--budget-s",
        type=float,
        default=400,
        help="start no harness setting after this many seconds (default 400)",
    )
    args = p.parse_args(argv)
    args.samples = args.samples or (16 if args.tiny else 1024)
    args.device = args.device or ("cpu" if args.tiny else "auto")
    text = args.settings or ("1,4" if args.tiny else ",".join(DEFAULT_SETTINGS))
    args.settings = [Setting.parse(x) for x in text.split(",") if x.strip()]
    name = "gpu_throughput_tiny.json" if args.tiny else "gpu_throughput.json"
    args.out = args.out or REPO / "benchmarks" / "results" / name
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    # Everything is local: a stray hub call fails at once instead of waiting on the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if importlib.util.find_spec("torchvision") is None:
        log(
            "error: torchvision is not installed; Qwen2-VL's processor needs it (install the "
            "torchvision build that matches torch)"
        )
        return 2
    phases = Phases()
    with phases("import torch, transformers"):
        import torch
        import transformers

        from evalharness.models._hf_load import resolve_device, resolve_dtype

    args.device = resolve_device(args.device)
    args.torch_dtype = resolve_dtype(args.dtype, args.device)
    if not args.tiny and not args.device.startswith("cuda"):
        log("error: the 2B-sized model needs a GPU; on a CPU run with --tiny")
        return 2
    shapes = TINY if args.tiny else QWEN2_VL_2B
    temp = None if args.workdir else Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    workdir = args.workdir or temp
    assert workdir is not None
    report: dict[str, Any] = {
        "model": "Qwen2-VL, tiny shapes" if args.tiny else "Qwen2-VL-2B shapes, random weights",
        "shapes": shapes,
        "device": args.device,
        "device_name": device_name(args.device),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "dtype": str(args.torch_dtype).removeprefix("torch."),
        "attn_implementation": args.attn,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "samples": args.samples,
        "image_size": args.image_size,
        "max_new_tokens": args.max_new_tokens,
        "reference_samples_per_s": REFERENCE,
        "target_samples_per_s": TARGET,
        "settings": [],
        "skipped": [],
        "phases_s": phases.seconds,
    }
    try:
        folder = build_checkpoint(
            workdir / ("tiny" if args.tiny else "qwen2_vl_2b"),
            shapes,
            args.device,
            args.torch_dtype,
            phases,
        )
        with phases(f"make {args.samples} samples"):
            samples = make_samples(args.samples, args.image_size)
            requests = make_requests(samples, args.max_new_tokens)
        with phases("device ceilings: matrix product, copy"):
            report["ceilings"] = ceilings(args.device)
        plain_row, plain_answers, report["processor"], flops = run_plain(
            folder, requests, args, phases
        )
        report["flops_per_sample"] = flops
        report["settings"].append(plain_row)
        write(report, args.out)
        failed = False
        # In the order given: when the time budget runs out, the last settings are skipped.
        for setting in args.settings:
            if phases.elapsed() > args.budget_s:
                report["skipped"].append(setting.label)
                continue
            try:
                row, answers = run_harness(
                    folder, samples, requests, setting, args, phases, workdir / "results"
                )
            except Exception as exc:  # a load refused, say: recorded, and the next setting runs
                reason = f"{type(exc).__name__}: {exc}"
                log(f"  {setting.label}: failed: {reason}")
                report["settings"].append({"setting": setting.label, "failed": reason})
                write(report, args.out)
                free_memory()
                failed = True
                continue
            row.update(agreement(plain_answers, answers))
            report["settings"].append(row)
            write(report, args.out)
            if row["errors"]:
                log(f"  {row['errors']} requests failed; first: {row['first_error']}")
                failed = True
            if args.tiny and report["dtype"] == "float32" and row["agreement"] < 1:
                log(f"  {setting.label}: answers differ from plain batch-1 generate in float32")
                failed = True
        report["total_s"] = round(phases.elapsed(), 1)
        write(report, args.out)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    log("")
    log(table(report))
    log(f"written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
