"""Helpers for the hub adapter tests: tiny datasets written in each dataset's own schema, a model
that answers from a table, and a one-call run through the runner."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalharness import registry
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunResult, RunSpec, run_job
from evalharness.store import load_samples
from evalharness.types import FirstTokens, Prediction, Request

ADAPTERS = {
    "vqav2": "evalharness.benchmarks.hub.vqav2:VQAv2",
    "textvqa": "evalharness.benchmarks.hub.textvqa:TextVQA",
    "coco_caption": "evalharness.benchmarks.hub.coco_caption:COCOCaption",
    "nocaps": "evalharness.benchmarks.hub.nocaps:NoCaps",
    "flickr30k": "evalharness.benchmarks.hub.flickr30k:Flickr30k",
    "countbenchqa": "evalharness.benchmarks.hub.countbenchqa:CountBenchQA",
    "cvbench_count": "evalharness.benchmarks.hub.cv_bench:CVBenchCount",
    "cvbench_relation": "evalharness.benchmarks.hub.cv_bench:CVBenchRelation",
    "cvbench_depth": "evalharness.benchmarks.hub.cv_bench:CVBenchDepth",
    "cvbench_distance": "evalharness.benchmarks.hub.cv_bench:CVBenchDistance",
    "cvbench": "evalharness.benchmarks.hub.cv_bench:CVBench",
    "vsr": "evalharness.benchmarks.hub.vsr:VSR",
    "vsr_zeroshot": "evalharness.benchmarks.hub.vsr:VSRZeroShot",
    "whatsup": "evalharness.benchmarks.hub.whatsup:WhatsUp",
    "pope": "evalharness.benchmarks.hub.pope:POPE",
    "hallusionbench": "evalharness.benchmarks.hub.hallusionbench:HallusionBench",
    "mmmu": "evalharness.benchmarks.hub.mmmu:MMMU",
    "mme": "evalharness.benchmarks.hub.mme:MME",
    "ocrbench": "evalharness.benchmarks.hub.ocrbench:OCRBench",
    "chartqa": "evalharness.benchmarks.hub.chartqa:ChartQA",
    "docvqa": "evalharness.benchmarks.hub.docvqa:DocVQA",
    "mathvista": "evalharness.benchmarks.hub.mathvista:MathVista",
    "mmbench": "evalharness.benchmarks.hub.mmbench:MMBench",
    "mmstar": "evalharness.benchmarks.hub.mmstar:MMStar",
    "ai2d": "evalharness.benchmarks.hub.ai2d:AI2D",
    "scienceqa_img": "evalharness.benchmarks.hub.scienceqa:ScienceQAImg",
    "seedbench_img": "evalharness.benchmarks.hub.seedbench:SEEDBenchImg",
    "realworldqa": "evalharness.benchmarks.hub.realworldqa:RealWorldQA",
}
"""Registry name → entry point target, as pyproject.toml lists them."""

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")


def adapter(name: str) -> Any:
    module, _, attr = ADAPTERS[name].partition(":")
    return getattr(__import__(module, fromlist=[attr]), attr)


def png(i: int) -> bytes:
    """A distinct 8×8 image per index."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), COLOURS[i % len(COLOURS)]).save(buf, format="PNG")
    return buf.getvalue()


def image_cell(i: int) -> dict[str, Any]:
    return {"bytes": png(i), "path": None}


def write_parquet(
    path: Path, rows: Mapping[str, Sequence[Any]], features: Mapping[str, Any]
) -> Path:
    """Rows written as the hub's parquet files are: with the dataset's features (Image columns)."""
    from datasets import Dataset, Features

    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(dict(rows), features=Features(dict(features))).to_parquet(str(path))
    return path


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


class TableModel:
    """Answers each sample id from `args.answers`, else `args.default`: a scripted model. Asked
    for first-token probabilities, it gives those `args.first_tokens` lists for the sample id
    (word → probability), and none otherwise."""

    capabilities = frozenset({"generate"})
    reference = False

    def __init__(self, spec: ModelSpec) -> None:
        self.answers = dict(spec.args.get("answers", {}))
        self.default = str(spec.args.get("default", "I cannot tell."))
        self.first = {k: dict(v) for k, v in spec.args.get("first_tokens", {}).items()}

    def identity(self) -> dict[str, object]:
        ident: dict[str, object] = {"name": "table", "answers": self.answers}
        ident["default"] = self.default
        if self.first:
            ident["first_tokens"] = self.first
        return ident

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        for r in requests:
            for image in r.images[:1]:  # the image, where the item has one, must be readable
                image.load()
        return [self._answer(r) for r in requests]

    def _answer(self, r: Request) -> Prediction:
        text = self.answers.get(r.sample.id, self.default)
        listed = self.first.get(r.sample.id)
        if not r.first_token_words or listed is None:
            return Prediction(text=text)
        probs = {w: listed.get(w) for w in r.first_token_words}
        return Prediction(text=text, first_tokens=FirstTokens(probs))


def register() -> None:
    """The adapters and the scripted model registered in-process, as entry points would."""
    for name in ADAPTERS:
        registry.benchmarks.register(name, adapter(name))
    registry.models.register("table", TableModel)


def run(
    tmp_path: Path,
    benchmark: str,
    args: Mapping[str, Any],
    model: str = "oracle",
    **model_args: Any,
) -> tuple[RunResult, pd.DataFrame]:
    """One benchmark through the runner; the result and the stored sample rows by sample id."""
    results = tmp_path / f"results-{model}-{len(list(tmp_path.iterdir()))}"
    spec = RunSpec(
        model=ModelSpec(model, args=model_args),
        benchmarks=(BenchmarkSpec(benchmark, dict(args)),),
        results_dir=str(results),
        progress=False,
        max_error_rate=1.0,
    )
    [result] = run_job(spec, out=io.StringIO())
    return result, load_samples(results).set_index("sample_id")
