"""Local lmms-eval tasks for the bridge tests: VQAv2-schema parquet files and task YAMLs that read
them (`dataset_path: parquet`) and reuse lmms-eval's own VQAv2 prompt and scoring functions; and a
one-call run of such a task through our runner."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.store import load_runs, load_samples

TASK = "local_vqa"
QUESTIONS = ("What colour is the shape?", "How many dots are there?", "Is it raining?")
WORDS = ("red", "blue", "two", "yes", "no", "cat", "dog", "three", "green", "left")
POST_PROMPT = "\nAnswer the question using a single word or phrase."
VQAV2 = "lmms_eval.tasks.vqav2.utils"


def image_png(seed: int, size: tuple[int, int] = (32, 24)) -> bytes:
    """A distinct noisy RGB image per seed (not square, so every resizing path is exercised)."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def answers_matching(answer: str, k: int, filler: int) -> list[str]:
    """Ten annotator answers of which exactly `k` are `answer`."""
    others = [w for w in WORDS if w != answer]
    return [answer] * k + [others[(filler + j) % len(others)] for j in range(10 - k)]


def vqa_accuracy(k: int) -> float:
    """VQA accuracy of an answer given by k of 10 annotators: the mean over the ten
    leave-one-out subsets of min(1, matches / 3) (the official EvalAI definition)."""
    with_it = k * min(1.0, (k - 1) / 3) if k else 0.0
    return (with_it + (10 - k) * min(1.0, k / 3)) / 10


def write_vqa(path: Path, answers: Sequence[Sequence[str]], *, shared_image: bool = True) -> Path:
    """A parquet file in the lmms-lab/VQAv2 schema, one row per answer list. With
    `shared_image`, rows 0 and 1 ask about the same image (the same image_id and bytes)."""
    from datasets import Dataset, Features, Image, Value

    n = len(answers)
    seeds = [0 if (shared_image and i == 1) else i for i in range(n)]
    rows: dict[str, list[Any]] = {
        "question": [QUESTIONS[i % len(QUESTIONS)] + f" ({i})" for i in range(n)],
        "answers": [
            [
                {"answer": a, "answer_confidence": "yes", "answer_id": j + 1}
                for j, a in enumerate(ans)
            ]
            for ans in answers
        ],
        "question_id": [100 + i for i in range(n)],
        "image_id": seeds,
        "question_type": ["what"] * n,
        "answer_type": ["other"] * n,
        "image": [{"bytes": image_png(s), "path": None} for s in seeds],
    }
    answer = {"answer": Value("string"), "answer_confidence": Value("string")}
    features = Features(
        {
            "question": Value("string"),
            "answers": [{**answer, "answer_id": Value("int64")}],
            "question_id": Value("int64"),
            "image_id": Value("int64"),
            "question_type": Value("string"),
            "answer_type": Value("string"),
            "image": Image(),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(rows, features=features).to_parquet(str(path))
    return path


def write_task(
    folder: Path,
    name: str,
    data: Path,
    *,
    post_prompt: str = POST_PROMPT,
    extra: str = "",
    metrics: str | None = None,
    process_results: str = f"{VQAV2}.vqav2_process_results_val",
    variants: Mapping[str, str] | None = None,
) -> Path:
    """A task YAML under `folder` (an include_path) that reads `data` and scores like VQAv2 val;
    `variants` adds per-model prompts (`lmms_eval_specific_kwargs`)."""
    folder.mkdir(parents=True, exist_ok=True)
    metric_list = metrics or (
        "  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n"
    )
    variant_lines = "".join(
        f'  {model}:\n    pre_prompt: ""\n    post_prompt: {json.dumps(post)}\n'
        for model, post in (variants or {}).items()
    )
    text = f"""task: {name}
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_visual: !function {VQAV2}.vqav2_doc_to_visual
doc_to_text: !function {VQAV2}.vqav2_doc_to_text
doc_to_target: "answer"
generation_kwargs:
  max_new_tokens: 16
process_results: !function {process_results}
metric_list:
{metric_list}lmms_eval_specific_kwargs:
  default:
    pre_prompt: ""
    post_prompt: {json.dumps(post_prompt)}
{variant_lines}{extra}metadata:
  - version: 0.0
"""
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def run(tmp_path: Path, model: ModelSpec, bench_args: dict[str, Any], **kw: Any) -> Any:
    """Run `lmms:local_vqa` with these settings; the result, samples (in doc order) and runs."""
    spec = RunSpec(
        model=model,
        benchmarks=(BenchmarkSpec(f"lmms:{TASK}", bench_args),),
        results_dir=str(tmp_path / "results"),
        progress=False,
        **kw,
    )
    [result] = run_job(spec)
    samples = load_samples(tmp_path / "results").sort_values(
        "sample_id", key=lambda s: s.astype(int)
    )
    return result, samples.reset_index(drop=True), load_runs(tmp_path / "results")
