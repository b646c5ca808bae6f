"""Side by side: lmms-eval's CLI and ours, same tiny Qwen2-VL, same local VQA questions.

    python benchmarks/bench_vs_lmms.py                            # 500 questions, 3 runs each
    python benchmarks/bench_vs_lmms.py --samples 100 --repeats 1 --keep /tmp/bench

Every run is a fresh process, timed from launch to exit (start-up included, as a user sees it):

  lmms-eval  python -m lmms_eval --model qwen2_vl --model_args pretrained=DIR,device_map=cpu,
             device=cpu,min_pixels=784,max_pixels=784 --tasks bench_vqa --include_path DIR
             --batch_size B --log_samples        (a task YAML reading the parquet file, scored
             by lmms-eval's VQAv2 functions)
  ours       evalharness run model=hf model.path=DIR model.args.system_prompt="You are a helpful
             assistant." benchmark=vqav2 benchmark.args.data_files=FILE batch_size=B

(a) each with its defaults (lmms-eval batch 1, ours batch 8); (b) both at batch 1 and at batch 8.
Also times each with one question only (start-up: imports, data and model loading).
Prints the median and minimum wall time of each, the ratios against the goals (our default ≤ 1/3 of
lmms-eval's default; ≤ 2/3 at equal batch size) and how many predictions agree with lmms-eval's at
batch 1. The model, prompt, system prompt and token budget are the same on both sides; the images
are flat 28×28 squares (one grey level per question) so that lmms-eval's own image handling (a
JPEG re-encode and a resize in its qwen2_vl wrapper) leaves the pixels the model sees unchanged.
`--images noise` uses noisy 40×30 images instead, to see what that handling changes.
`--max-new-tokens N` sets the answer budget on both sides (default 16, the VQAv2 task's). A
random-weight model never stops early, so every answer costs 16 decoding steps; real models answer
these questions in one to three tokens, which `--max-new-tokens 3` approximates.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SYSTEM = "You are a helpful assistant."  # lmms-eval's qwen2_vl default system prompt
TASK = "bench_vqa"
WORDS = ("red", "blue", "two", "yes", "no", "cat", "dog", "three", "green", "left")
QUESTIONS = ("What colour is the shape?", "How many dots are there?", "Is it raining?")


def image(i: int, kind: str) -> bytes:
    import numpy as np
    from PIL import Image

    if kind == "flat":
        img = Image.new("RGB", (28, 28), ((i * 37) % 256,) * 3)
    else:
        rng = np.random.default_rng(i)
        img = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_data(path: Path, n: int, kind: str) -> None:
    """n questions in the lmms-lab/VQAv2 schema (both harnesses read it)."""
    from datasets import Dataset, Features, Image, Value

    rows: dict[str, list[Any]] = {
        "question": [f"{QUESTIONS[i % 3]} ({i})" for i in range(n)],
        "answers": [
            [
                {"answer": WORDS[(i + j) % 10], "answer_confidence": "yes", "answer_id": j + 1}
                for j in range(10)
            ]
            for i in range(n)
        ],
        "question_id": list(range(n)),
        "image_id": list(range(n)),
        "question_type": ["what"] * n,
        "answer_type": ["other"] * n,
        "image": [{"bytes": image(i, kind), "path": None} for i in range(n)],
    }
    answer = {
        "answer": Value("string"),
        "answer_confidence": Value("string"),
        "answer_id": Value("int64"),
    }
    features = Features(
        {
            "question": Value("string"),
            "answers": [answer],
            "question_id": Value("int64"),
            "image_id": Value("int64"),
            "question_type": Value("string"),
            "answer_type": Value("string"),
            "image": Image(),
        }
    )
    Dataset.from_dict(rows, features=features).to_parquet(str(path))


TASK_YAML = """task: {task}
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_visual: !function lmms_eval.tasks.vqav2.utils.vqav2_doc_to_visual
doc_to_text: !function lmms_eval.tasks.vqav2.utils.vqav2_doc_to_text
doc_to_target: "answer"
generation_kwargs:
  max_new_tokens: {max_new_tokens}
process_results: !function lmms_eval.tasks.vqav2.utils.vqav2_process_results_val
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
lmms_eval_specific_kwargs:
  default:
    pre_prompt: ""
    post_prompt: "\\nAnswer the question using a single word or phrase."
metadata:
  - version: 0.0
"""


def entry_point_env(root: Path) -> dict[str, str]:
    """Our CLI's environment; a stand-in for the `hf` entry point where the installed package
    metadata predates it."""
    from evalharness import registry

    env = {**os.environ, "TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    paths = [str(REPO), env.get("PYTHONPATH", "")]  # this checkout's code, whatever is installed
    if "hf" not in registry.models.names():
        info = root / "site" / "evalharness_bench_entry_points-0.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: bench-entry-points\nVersion: 0\n"
        )
        (info / "entry_points.txt").write_text(
            "[evalharness.models]\nhf = evalharness.models.hf:HFModel\n"
        )
        paths.insert(0, str(root / "site"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return wall


def lmms_run(
    root: Path, model: Path, batch: int, out: Path, env: dict[str, str], limit: int | None = None
) -> float:
    cmd = [
        sys.executable, "-m", "lmms_eval", "--model", "qwen2_vl",
        "--model_args", f"pretrained={model},device_map=cpu,device=cpu,min_pixels=784,max_pixels=784",
        "--tasks", TASK, "--include_path", str(root / "tasks"), "--output_path", str(out),
        "--log_samples",
    ]  # fmt: skip
    if batch != 1:
        cmd += ["--batch_size", str(batch)]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    wall = timed(cmd, env, root)
    if not list(out.glob(f"*/*_samples_{TASK}.jsonl")):  # its exit code is 0 even on a crash
        raise SystemExit(f"lmms-eval wrote no samples under {out}")
    return wall


def lmms_predictions(out: Path) -> dict[str, str]:
    [path] = out.glob(f"*/*_samples_{TASK}.jsonl")
    rows = (json.loads(line) for line in path.read_text().splitlines())
    return {str(r["doc_id"]): r["filtered_resps"] for r in rows}


def our_run(
    root: Path,
    model: Path,
    batch: int | None,
    out: Path,
    env: dict[str, str],
    limit: int | None = None,
    max_new_tokens: int = 16,
) -> float:
    cmd = [
        sys.executable, "-m", "evalharness.cli.main", "run", "model=hf", f"model.path={model}",
        f"max_new_tokens={max_new_tokens}",
        f"model.args.system_prompt={SYSTEM}", "benchmark=vqav2",
        f"benchmark.args.data_files={root / 'vqa.parquet'}", f"results_dir={out}", "progress=false",
    ]  # fmt: skip
    if batch is not None:
        cmd.append(f"batch_size={batch}")
    if limit is not None:
        cmd.append(f"limit={limit}")
    return timed(cmd, env, root)


def our_predictions(out: Path) -> dict[str, str]:
    from evalharness.store import load_samples

    samples = load_samples(out)
    return dict(zip(samples["sample_id"].astype(str), samples["prediction"], strict=True))


def agreement(mine: dict[str, str], theirs: dict[str, str]) -> str:
    same = sum(mine.get(k) == v for k, v in theirs.items())
    return f"{same}/{len(theirs)}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", choices=["flat", "noise"], default="flat")
    parser.add_argument("--keep", type=Path, help="work in this folder instead of a temporary one")
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=16,
        help="answer token budget on both sides (16: the VQAv2 task's; a random-weight model "
        "always uses all of it, where real models answer VQA in 1-3 tokens)",
    )
    args = parser.parse_args()

    from evalharness.models import tiny

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_vs_lmms_"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        model = tiny.build("qwen2_vl", root=root / "model")
        write_data(root / "vqa.parquet", args.samples, args.images)
        (root / "tasks").mkdir(exist_ok=True)
        (root / "tasks" / f"{TASK}.yaml").write_text(
            TASK_YAML.format(
                task=TASK, data=root / "vqa.parquet", max_new_tokens=args.max_new_tokens
            )
        )
        env = entry_point_env(root)
        env["LMMS_EVAL_DATASETS_CACHE"] = str(root / "hf-datasets")
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        threads = os.environ.get("OMP_NUM_THREADS", "unset")
        print(
            f"{args.samples} questions, {args.repeats} run(s) each; {os.cpu_count()} CPUs, "
            f"OMP_NUM_THREADS={threads}, load average {load}, "
            f"max_new_tokens={args.max_new_tokens}"
        )

        tokens = args.max_new_tokens
        settings: dict[str, Callable[[Path], float]] = {
            "lmms-eval default (batch 1)": lambda o: lmms_run(root, model, 1, o, env),
            "lmms-eval batch 8": lambda o: lmms_run(root, model, 8, o, env),
            "ours batch 1": lambda o: our_run(root, model, 1, o, env, None, tokens),
            "ours default (batch 8)": lambda o: our_run(root, model, None, o, env, None, tokens),
            # one question: what start-up (imports, loading data and model) costs each
            "lmms-eval start-up (limit 1)": lambda o: lmms_run(root, model, 1, o, env, 1),
            "ours start-up (limit 1)": lambda o: our_run(root, model, None, o, env, 1, tokens),
        }
        walls: dict[str, list[float]] = {name: [] for name in settings}
        outs: dict[str, Path] = {}
        for rep in range(args.repeats):  # interleaved, so load changes hit every setting alike
            for i, (name, fn) in enumerate(settings.items()):
                out = root / "runs" / f"{i}-{rep}"
                walls[name].append(fn(out))
                outs[name] = out
                print(f"  run {rep + 1}: {name:<28} {walls[name][-1]:6.1f} s", flush=True)

        median = {name: statistics.median(w) for name, w in walls.items()}
        best = {name: min(w) for name, w in walls.items()}
        reference = lmms_predictions(outs["lmms-eval default (batch 1)"])
        preds = {
            "lmms-eval default (batch 1)": reference,
            "lmms-eval batch 8": lmms_predictions(outs["lmms-eval batch 8"]),
            "ours batch 1": our_predictions(outs["ours batch 1"]),
            "ours default (batch 8)": our_predictions(outs["ours default (batch 8)"]),
        }
        print(f"\n{'setting':<30} {'median s':>8} {'min s':>6}  agrees with lmms-eval batch 1")
        for name in settings:
            agrees = agreement(preds[name], reference) if name in preds else ""
            print(f"{name:<30} {median[name]:8.1f} {best[name]:6.1f}  {agrees}")
        goals = [
            ("defaults", "ours default (batch 8)", "lmms-eval default (batch 1)", 1 / 3),
            ("batch 1", "ours batch 1", "lmms-eval default (batch 1)", 2 / 3),
            ("batch 8", "ours default (batch 8)", "lmms-eval batch 8", 2 / 3),
        ]
        print()
        for label, ours, theirs, goal in goals:
            ratio, ratio_min = median[ours] / median[theirs], best[ours] / best[theirs]
            verdict = "met" if ratio <= goal else "MISSED"
            print(
                f"{label:<9} ours / lmms-eval = {ratio:.2f} (medians), {ratio_min:.2f} (minima);"
                f" goal ≤ {goal:.2f}: {verdict}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
