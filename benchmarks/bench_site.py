"""Scale check of the leaderboard build: models × benchmarks × samples of fake results.

    python benchmarks/bench_site.py                      # 50 models × 30 benchmarks × 1,000 samples
    python benchmarks/bench_site.py --models 10 --samples 200 --keep /tmp/site

Prints the build time (fake-data generation is timed separately and not counted), the size of
index.html and of the whole site. The goal: ≤ 20 s on 2 cores and an index page ≤ 3 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# The tests' fake results, as a module of their folder: an installed package may own the
# top-level name `tests` (one of lmms-eval's dependencies does).
sys.path.insert(0, str(REPO / "tests" / "leaderboard"))

from fake_results import make_results  # noqa: E402

from evalharness.leaderboard import build_site  # noqa: E402


def _size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models",
        type=int,
        default=50,
        help="models on the board, references and blind twins included",
    )
    parser.add_argument("--benchmarks", type=int, default=30)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--results", type=Path, help="reuse (or create) fake results here")
    parser.add_argument(
        "--keep", type=Path, help="write the site here instead of a temporary folder"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_site_"))
    try:
        results = args.results or tmp / "results"
        if not (results / "FORMAT.json").exists():
            # references (3) and blind twins (one per three models) are part of the model count
            evaluated = max(1, round((args.models - 3) * 3 / 4))
            t0 = time.perf_counter()
            make_results(
                results, n_models=evaluated, n_benchmarks=args.benchmarks, n_samples=args.samples
            )
            print(f"generated fake results in {time.perf_counter() - t0:.1f} s (not counted)")
        out = args.keep or tmp / "site"
        if out.exists() and args.keep:
            shutil.rmtree(out)
        t0 = time.perf_counter()
        index = build_site(results, out)
        elapsed = time.perf_counter() - t0
        n_files, total = _size(out)
        n_runs = len(list((results / "runs").glob("*.parquet")))
        n_models = len(list((out / "models").glob("*.html")))
        print(
            f"board: {n_models} models, {args.benchmarks} benchmarks, {args.samples} samples each, {n_runs} runs"
        )
        print(f"build time: {elapsed:.1f} s on {os.cpu_count()} CPUs (goal ≤ 20 s on 2 cores)")
        print(f"index.html: {index.stat().st_size / 1e6:.2f} MB (goal ≤ 3 MB)")
        print(f"site: {n_files} files, {total / 1e6:.1f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
