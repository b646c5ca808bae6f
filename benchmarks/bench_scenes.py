"""Generation speed of the synthetic suites: scene graph + rendered image per item, in items/s.

Run: python benchmarks/bench_scenes.py [--n 500] [--workers 2]
Each suite builds `n` images and renders every distinct image once (as the runner would); with
--workers > 1, each suite runs as that many seed shards in separate processes.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from evalharness.benchmarks.synthetic.adherence import AdherenceSuite
from evalharness.benchmarks.synthetic.binding import BindingSuite
from evalharness.benchmarks.synthetic.caption import CaptionSuite
from evalharness.benchmarks.synthetic.counting import CountingSuite
from evalharness.benchmarks.synthetic.pope import PopeSuite
from evalharness.benchmarks.synthetic.spatial import SpatialSuite
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.benchmarks.synthetic.text import TextSuite
from evalharness.benchmarks.synthetic.vqa import VQASuite

SUITES: dict[str, type[SyntheticSuite]] = {
    s.name: s
    for s in (
        CountingSuite,
        SpatialSuite,
        BindingSuite,
        PopeSuite,
        CaptionSuite,
        VQASuite,
        TextSuite,
        AdherenceSuite,
    )
}


def generate(name: str, n: int, seed: int, clutter: float) -> tuple[int, int]:
    """(images, samples) built and rendered for one suite and seed."""
    suite = SUITES[name](n=n, seed=seed, clutter=clutter)
    samples = suite.samples()
    rendered: set[str] = set()
    for s in samples:
        for img in s.images:
            fp = img.fingerprint()
            if fp not in rendered:
                img.load()
                rendered.add(fp)
    return len(rendered), len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500, help="images per suite and worker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clutter", type=float, default=0.3)
    args = parser.parse_args()
    print(
        f"{'suite':18} {'images/s':>10} {'samples/s':>10}   ({args.workers} worker(s), n={args.n})"
    )
    total_images, total_time = 0, 0.0
    with ProcessPoolExecutor(args.workers) as pool:
        list(
            pool.map(
                generate, list(SUITES), [2] * len(SUITES), [0] * len(SUITES), [0.0] * len(SUITES)
            )
        )
        for name in SUITES:
            start = time.perf_counter()
            jobs = [
                pool.submit(generate, name, args.n, seed, args.clutter)
                for seed in range(args.workers)
            ]
            images, samples = map(sum, zip(*(j.result() for j in jobs), strict=True))
            elapsed = time.perf_counter() - start
            total_images, total_time = total_images + images, total_time + elapsed
            print(f"{name:18} {images / elapsed:10.0f} {samples / elapsed:10.0f}")
    print(f"{'all':18} {total_images / total_time:10.0f}")


if __name__ == "__main__":
    main()
