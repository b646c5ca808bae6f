"""Realistic fake results folders in the documented layout (docs/results-schema.md).

Used by the leaderboard tests and by benchmarks/bench_site.py. Models have a latent ability and
items a difficulty, so scores, CIs, difficulty curves (harder with a larger true count) and blind
gaps look like real ones. `payload` puts a string into every text field of every table, for the
escaping tests.

The folder holds, besides the comparable runs: a run of an older benchmark version, a failed run, a
running run with part of its samples, a run on a sample subset (`limit`), a model missing one
benchmark, reference models (oracle, prior, random) and blind twins.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evalharness.leaderboard._runs import CAPABILITY_ORDER
from evalharness.store import THUMBNAIL_SUFFIX, jpeg_bytes

CAPABILITIES = CAPABILITY_ORDER
BENCH_BASES = {
    "vqa": "synth_vqa",
    "captioning": "synth_caption",
    "counting": "synth_counting",
    "spatial": "synth_spatial",
    "binding": "synth_binding",
    "hallucination": "synth_pope",
    "text": "synth_text",
    "adherence": "synth_adherence",
}
FAMILIES = ("generative", "contrastive", "masking", "captioner", "api")
COLOURS = (
    (220, 60, 60),
    (60, 140, 220),
    (60, 180, 90),
    (230, 180, 40),
    (150, 80, 200),
    (40, 40, 40),
)


@dataclass(frozen=True)
class FakeModel:
    name: str
    family: str
    params: float
    ability: float
    reference: bool = False
    blind: bool = False


@dataclass(frozen=True)
class FakeBenchmark:
    name: str
    capability: str
    version: str
    n: int
    continuous: bool


def _h(*parts: object, n: int = 16) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:n]


def make_results(
    root: Path | str,
    *,
    n_models: int = 6,
    n_benchmarks: int = 8,
    n_samples: int = 40,
    seed: int = 0,
    payload: str | None = None,
    extras: bool = True,
    images: bool = True,
) -> Path:
    """Write a results folder under `root` and return its path.

    `n_models` counts the evaluated models; the three reference models, blind twins (every third
    model) and the `extras` (older version, failed, running and limited runs) come on top.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    p = payload or ""
    models = _models(n_models, rng, p)
    benches = _benchmarks(n_benchmarks, n_samples, p)
    (root / "runs").mkdir(parents=True, exist_ok=True)
    (root / "FORMAT.json").write_text(
        json.dumps({"format_version": 1, "created_by": "evalharness 0.1.0"})
    )
    item_cache = {b.name: _items(b, rng, p) for b in benches}
    writer = _Writer(root, images)
    for b in benches:
        writer.images(b, item_cache[b.name])
    t = 0
    for m in models:
        for bi, b in enumerate(benches):
            if (
                m.name.endswith(f"m{n_models - 1}")
                and bi == len(benches) - 1
                and extras
                and n_models > 2
            ):
                continue  # one model misses a benchmark: partial coverage
            t += 1
            writer.run(m, b, item_cache[b.name], rng, p, t)
    if extras and models and benches:
        m = models[3] if len(models) > 3 else models[0]
        b0 = benches[0]
        old = FakeBenchmark(b0.name, b0.capability, "0+deadbeef", b0.n, b0.continuous)
        writer.run(m, old, item_cache[b0.name], rng, p, 0)
        writer.run(
            m, benches[-1], item_cache[benches[-1].name], rng, p, t + 1, status="failed", seed=7
        )
        writer.run(
            m,
            benches[1 % len(benches)],
            item_cache[benches[1 % len(benches)].name],
            rng,
            p,
            t + 2,
            status="running",
            seed=8,
        )
        writer.run(
            m, benches[0], item_cache[b0.name], rng, p, t + 3, limit=max(2, b0.n // 4), seed=9
        )
    return root


def _models(n: int, rng: np.random.Generator, p: str) -> list[FakeModel]:
    out = [
        FakeModel(f"oracle{p}", "reference", float("nan"), 6.0, reference=True),
        FakeModel(f"prior{p}", "reference", float("nan"), -0.8, reference=True),
        FakeModel(f"random{p}", "reference", float("nan"), -2.5, reference=True),
    ]
    for i in range(n):
        fam = FAMILIES[i % len(FAMILIES)]
        params = float("nan") if fam == "api" else float(10 ** rng.uniform(7.5, 11))
        ability = float(rng.normal(0.3, 0.9)) + (
            0.0 if np.isnan(params) else 0.25 * np.log10(params / 1e9)
        )
        name = f"{p}{fam}-{_size(params)} m{i}"
        out.append(FakeModel(name, p + fam if p else fam, params, ability))
        if i % 3 == 0:
            out.append(
                FakeModel(
                    f"{name} (blind)", p + fam if p else fam, params, ability - 1.2, blind=True
                )
            )
    return out


def _size(params: float) -> str:
    if np.isnan(params):
        return "api"
    return f"{params / 1e9:.1f}b" if params >= 1e9 else f"{params / 1e6:.0f}m"


def _benchmarks(n: int, n_samples: int, p: str) -> list[FakeBenchmark]:
    out = []
    for j in range(n):
        cap = CAPABILITIES[j % len(CAPABILITIES)]
        name = BENCH_BASES[cap] + (
            "" if j < len(CAPABILITIES) else f"_{j // len(CAPABILITIES) + 1}"
        )
        out.append(
            FakeBenchmark(
                p + name,
                p + cap if p and j == 0 else cap,
                f"1+{_h(name, n=8)}{p}",
                n_samples,
                cap == "captioning",
            )
        )
    return out


def _items(b: FakeBenchmark, rng: np.random.Generator, p: str) -> pd.DataFrame:
    n = b.n
    idx = np.arange(n)
    image = idx // 2  # two questions per image: a cluster for the bootstrap
    cap = b.capability.removeprefix(p) if p else b.capability
    items = pd.DataFrame(
        {
            "sample_id": [f"{p}{cap}-{i:05d}" for i in idx],
            "group": [f"{p}img{k}" for k in image],
            "image_index": image,
            "category": [f"{p}{c}" for c in np.array(["color", "shape", "size"])[idx % 3]],
        }
    )
    if cap == "counting":
        true_count = rng.integers(0, 11, n)
        items["meta_true_count"] = true_count
        items["difficulty"] = true_count / 3.0 - 1.5
        items["target"] = true_count.astype(str)
        items["image_index"] = idx  # one image per count question
        items["group"] = [f"{p}img{k}" for k in idx]
    else:
        level = rng.integers(1, 6, n)
        items["meta_level"] = level
        items["difficulty"] = level / 2.0 - 1.5 + rng.normal(0, 0.5, n)
        items["target"] = [
            f"{p}{t}" for t in np.array(["red", "left", "yes", "two", "a cat on a mat"])[idx % 5]
        ]
        items["meta_relation"] = [
            f"{p}{r}" for r in np.array(["left of", "above", "behind"])[idx % 3]
        ]
    items["prompt"] = [
        f"{p}Question {i} about the image: what is shown? Answer briefly." for i in idx
    ]
    fp = [_h(b.name.removeprefix(p) if p else b.name, int(k), n=32) for k in items["image_index"]]
    bad = f"{p}../../etc/passwd" if p else None
    items["image_ids"] = [json.dumps([f] if bad is None else [f, bad]) for f in fp]
    items["fingerprint"] = fp
    return items


class _Writer:
    def __init__(self, root: Path, with_images: bool) -> None:
        self.root = root
        self.with_images = with_images
        self._jpeg: dict[int, bytes] = {}

    def images(self, b: FakeBenchmark, items: pd.DataFrame) -> None:
        if not self.with_images:
            return
        counts = (
            items["meta_true_count"] if "meta_true_count" in items else items["image_index"] % 16
        )
        for fp, k in zip(items["fingerprint"], counts, strict=True):
            path = self.root / "images" / fp[:2] / f"{fp}{THUMBNAIL_SUFFIX}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self._image(int(k)))

    def _image(self, k: int) -> bytes:
        if k not in self._jpeg:
            from PIL import Image, ImageDraw

            img = Image.new("RGB", (160, 120), (235, 235, 228))
            draw = ImageDraw.Draw(img)
            for j in range(max(k, 1)):
                x, y = 12 + (j % 5) * 29, 14 + (j // 5) * 34
                draw.ellipse((x, y, x + 22, y + 22), fill=COLOURS[(j + k) % len(COLOURS)])
            self._jpeg[k] = jpeg_bytes(img)  # as the store writes thumbnails
        return self._jpeg[k]

    def run(
        self,
        m: FakeModel,
        b: FakeBenchmark,
        items: pd.DataFrame,
        rng: np.random.Generator,
        p: str,
        t: int,
        *,
        status: str = "complete",
        seed: int = 0,
        limit: int | None = None,
    ) -> None:
        run_id = _h(m.name, b.name, b.version, seed, limit) + p.replace("/", "_")
        rows = items if limit is None else items.iloc[:limit]
        if status == "running":
            rows = rows.iloc[: len(rows) // 2]
        samples = _samples(m, b, rows, rng, p, run_id)
        run = _run_row(m, b, samples, p, run_id, t, status, seed, limit)
        folder = self.root / "samples" / run_id
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_pandas(samples, preserve_index=False), folder / "part-000000.parquet"
        )
        pq.write_table(
            pa.Table.from_pandas(run, preserve_index=False),
            self.root / "runs" / f"{run_id}.parquet",
        )


def _samples(
    m: FakeModel,
    b: FakeBenchmark,
    items: pd.DataFrame,
    rng: np.random.Generator,
    p: str,
    run_id: str,
) -> pd.DataFrame:
    n = len(items)
    logit = m.ability - items["difficulty"].to_numpy()
    prob = 1.0 / (1.0 + np.exp(-logit))
    error = rng.random(n) < (0.0 if m.reference else 0.01)
    unsupported = np.full(n, b.continuous and m.family.endswith("contrastive"))
    if b.continuous:
        score = np.clip(prob * 1.3 + rng.normal(0, 0.15, n), 0, None).round(4)
    else:
        score = (rng.random(n) < prob).astype(np.float64)
    score[error] = 0.0
    score[unsupported] = np.nan
    target = items["target"].to_numpy(dtype=object)
    wrong = np.array([f"{p}blue", f"{p}7", f"{p}no", f"{p}a dog"], dtype=object)[np.arange(n) % 4]
    extracted = np.where(score >= 0.5, target, wrong)
    prediction = np.array([f"{p}The answer is {x}." for x in extracted], dtype=object)
    prediction[error] = None
    extracted = extracted.astype(object)
    extracted[error] = None
    frame = pd.DataFrame(
        {
            "run_id": run_id,
            "model": m.name,
            "benchmark": b.name,
            "benchmark_version": b.version,
            "sample_id": items["sample_id"].to_numpy(),
            "cache_key": [_h(run_id, s, n=24) for s in items["sample_id"]],
            "group": items["group"].to_numpy(),
            "category": items["category"].to_numpy(),
            "prompt": items["prompt"].to_numpy(),
            "mode": "generate",
            "form": "open",
            "prediction": prediction,
            "choice_scores": None,
            "extracted": extracted,
            "target": target,
            "targets": [json.dumps([t]) for t in target],
            "choices": None,
            "score": score,
            ("metric_cider" if b.continuous else "metric_correct"): score,
            "error": np.where(error, f"{p}RuntimeError: CUDA out of memory", None),
            "unsupported": unsupported,
            "latency_s": rng.uniform(0.01, 0.2, n),
            "input_tokens": rng.integers(20, 80, n).astype(float),
            "output_tokens": rng.integers(1, 20, n).astype(float),
            "image_ids": items["image_ids"].to_numpy(),
            "metadata": json.dumps({"scene": {"objects": [f"{p}ball"]}, "note": p}),
        }
    )
    for col in ("meta_true_count", "meta_level", "meta_relation"):
        if col in items:
            frame[col] = items[col].to_numpy()
    return frame


def _run_row(
    m: FakeModel,
    b: FakeBenchmark,
    samples: pd.DataFrame,
    p: str,
    run_id: str,
    t: int,
    status: str,
    seed: int,
    limit: int | None,
) -> pd.DataFrame:
    s = samples["score"].to_numpy(dtype=float)
    s = s[np.isfinite(s)]
    mean = float(s.mean()) if s.size and status == "complete" else float("nan")
    se = float(s.std(ddof=1) / np.sqrt(s.size)) if s.size > 1 else 0.0
    lo, hi = (mean - 1.96 * se, mean + 1.96 * se) if np.isfinite(mean) else (np.nan, np.nan)
    metrics: dict[str, Any] = {
        "score": {"value": mean, "ci_low": lo, "ci_high": hi, "n": int(s.size)}
    }
    if np.isfinite(mean):
        for cat, part in samples.groupby("category"):
            v = part["score"].dropna()
            metrics[f"score[{cat}]"] = {
                "value": float(v.mean()),
                "ci_low": float(v.mean()) - 0.1,
                "ci_high": float(v.mean()) + 0.1,
                "n": len(v),
            }
    identity = {
        "name": m.name,
        "hub_id": f"{p}org/{m.name}",
        "revision": _h(m.name, n=12),
        "dtype": "bfloat16",
        "family_group": m.family,
        "params": m.params,
    }
    row = {
        "run_id": run_id,
        "model": m.name,
        "model_name": ("oracle" if m.reference else "hf") + p,
        "model_identity": json.dumps(identity, default=str),
        "model_family": m.family,
        "model_params": m.params,
        "reference": m.reference,
        "blind": m.blind,
        "benchmark": b.name,
        "benchmark_version": b.version,
        "capability": b.capability,
        "description": f"{b.capability.capitalize()} items of a fake benchmark.",
        "difficulty_column": "meta_true_count" if "meta_true_count" in samples else "meta_level",
        "data_hash": _h(b.name, b.version, limit, n=32),
        "config": json.dumps(
            {"model": {"name": m.name}, "benchmark": {"name": b.name}, "seed": seed, "note": p}
        ),
        "generation": json.dumps({"max_new_tokens": 32, "temperature": 0.0, "stop": [p or "\n"]}),
        "harness_version": "0.1.0" + p,
        "harness_commit": "0123abcd" + p,
        "libraries": json.dumps({"python": "3.11.7", "torch": "2.14.1" + p, "numpy": "2.3.0"}),
        "device": "cuda:0 (NVIDIA H100 80GB HBM3)" + p,
        "seed": seed,
        "batch_size": 8,
        "limit": float("nan") if limit is None else float(limit),
        "started_at": f"2025-01-{1 + t // 1440 % 28:02d}T{t // 60 % 24:02d}:{t % 60:02d}:00+00:00",
        "finished_at": ""
        if status == "running"
        else f"2025-01-{1 + t // 1440 % 28:02d}T{t // 60 % 24:02d}:{t % 60:02d}:30+00:00",
        "n_samples": len(samples),
        "n_errors": int(samples["error"].notna().sum()),
        "n_unsupported": int(samples["unsupported"].sum()),
        "status": status,
        "score": mean,
        "score_ci_low": lo,
        "score_ci_high": hi,
        "metrics": json.dumps(metrics),
        "format_version": 1,
    }
    return pd.DataFrame([row])
