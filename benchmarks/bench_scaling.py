"""Scaling of a data-parallel run: samples/s with 1, 2, … workers, and the efficiency against
N times one worker.

    python benchmarks/bench_scaling.py                          # CPU: tiny Qwen2-VL, 1 and 2 workers
    python benchmarks/bench_scaling.py --workers 1,2,4 --samples 480 --extra benchmark.args.n=400
    python benchmarks/bench_scaling.py --devices 0,1,2,3 --model hf \\
        --path Qwen/Qwen2-VL-2B-Instruct --batch-size 32 --samples 2000      # a GPU node

Each measurement is the real command, `evalharness run … workers=N` (or `devices=…`, one GPU
per rank), in a fresh results folder: ranks started by torch's launcher, each loading the model
and answering its shard, the last one scoring the run. A run has a fixed cost (start, imports,
model load, scoring) that does not shrink with more workers; so each setting runs twice, with
`--base` and with `--samples` samples, and the rate is the difference in samples over the
difference in time: the samples/s of the answering itself. Efficiency is rate(N) / (N × rate(1));
perfect scaling is 1.0. Per-worker samples/s is rate(N) / N (per GPU with `--devices`).

On a CPU each rank gets cores/N threads (OMP_NUM_THREADS), so N workers share the machine's
cores as one process would use them all. Other load on the machine makes the numbers noisy:
`--repeat` takes the best of several.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_once(args: argparse.Namespace, workers: int, samples: int, folder: Path) -> float:
    """Seconds for `evalharness run` of `samples` samples with `workers` ranks."""
    shutil.rmtree(folder, ignore_errors=True)
    spread = [f"devices={','.join(args.device_list[:workers])}"] if args.device_list else []
    if not spread and workers > 1:
        spread = [f"workers={workers}"]
    model = [f"model={args.model}"] + ([f"model.path={args.path}"] if args.path else [])
    command = [
        sys.executable, "-m", "evalharness.cli.main", "run", *model,
        f"benchmark={args.benchmark}", f"limit={samples}", f"batch_size={args.batch_size}",
        f"results_dir={folder}", "progress=false", *args.extra,
    ]  # fmt: skip
    env = dict(os.environ)
    if not args.device_list:  # share the cores between the ranks, as one process would use them
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    t0 = time.perf_counter()
    proc = subprocess.run(command + spread, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command + spread)}\n{proc.stderr}")
    return seconds


def measure(args: argparse.Namespace, workers: int, folder: Path) -> dict[str, float]:
    """The answering rate with `workers` ranks: best of `--repeat` (large minus base) runs."""
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        base = run_once(args, workers, args.base, folder)
        full = run_once(args, workers, args.samples, folder)
        rate = (args.samples - args.base) / max(full - base, 1e-9)
        if rate > best.get("samples_per_s", 0.0):
            best = {"samples_per_s": rate, "base_s": base, "full_s": full}
    return best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", default="1,2", help="worker counts to measure (default 1,2)")
    p.add_argument("--devices", default="", help="GPUs, one per rank (devices=…): 0,1,2,3")
    p.add_argument("--model", default="tiny_qwen2_vl", help="model (default tiny_qwen2_vl)")
    p.add_argument("--path", default="", help="model.path, for model=hf")
    p.add_argument("--benchmark", default="synth_counting", help="benchmark (synth_counting)")
    p.add_argument("--samples", type=int, default=192, help="samples of the large run (192)")
    p.add_argument("--base", type=int, default=32, help="samples of the base run (32)")
    p.add_argument("--batch-size", type=int, default=8, help="batch_size (8)")
    p.add_argument("--repeat", type=int, default=1, help="best of this many measurements (1)")
    p.add_argument(
        "--extra",
        nargs="*",
        default=[],
        help="more settings (benchmark.args.n=400 for more samples)",
    )
    p.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = p.parse_args()
    args.device_list = [d for d in args.devices.split(",") if d.strip()]
    counts = [int(n) for n in args.workers.split(",")]
    if args.device_list:  # one rank per device: 1, 2, … up to all of them
        counts = [n for n in counts if n <= len(args.device_list)] or [len(args.device_list)]
    if args.samples <= args.base:
        raise SystemExit("--samples must be larger than --base")

    unit = "GPU" if args.device_list else "worker"
    print(
        f"{args.model} on {args.benchmark}: {args.samples} vs {args.base} samples, batch "
        f"{args.batch_size}; {os.cpu_count()} CPU cores; {platform.processor() or platform.machine()}"
        f"; load average before: {os.getloadavg()[0]:.1f}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        for n in counts:
            m = measure(args, n, Path(tmp) / f"w{n}")
            rows.append({"workers": n, **m})
            one = rows[0]["samples_per_s"] if rows[0]["workers"] == 1 else None
            eff = m["samples_per_s"] / (n * one) if one else float("nan")
            rows[-1]["efficiency"] = eff
            print(
                f"  {n} {unit}{'s' if n > 1 else ' '}: {m['samples_per_s']:7.2f} samples/s "
                f"({m['samples_per_s'] / n:6.2f} per {unit}), efficiency {eff:.2f} "
                f"(runs of {m['base_s']:.1f} s and {m['full_s']:.1f} s; load average "
                f"{os.getloadavg()[0]:.1f})",
                flush=True,
            )
    if args.out:
        args.out.write_text(
            json.dumps(
                {"settings": vars(args) | {"out": str(args.out)}, "rows": rows},
                indent=2,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
