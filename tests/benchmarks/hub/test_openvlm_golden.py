"""The OpenVLM-suite adapters agree exactly with each benchmark's official evaluation code, on
the generated cases of tests/benchmarks/hub/golden (see its README for the code and commits)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub.chartqa import relaxed_correct
from evalharness.benchmarks.hub.mme import MME
from evalharness.benchmarks.hub.ocrbench import CATEGORIES, OCRBench, ocrbench_correct
from evalharness.metrics import (
    mathvista_normalise,
    mathvista_rule,
    mmmu_choice,
    mmmu_open,
    mmmu_open_correct,
)
from evalharness.stats import estimate
from evalharness.types import Prediction, Sample

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str) -> Any:
    return json.loads((GOLDEN / f"{name}.json").read_text())


def test_mmmu_choice_parse_matches_official() -> None:
    cases = golden("mmmu")["choice"]
    assert len(cases) >= 300 and any(c["official"] is None for c in cases)
    for c in cases:
        assert mmmu_choice(c["reply"], c["options"]) == c["official"], c


def test_mmmu_open_parse_and_match_match_official() -> None:
    cases = golden("mmmu")["open"]
    assert len(cases) >= 300 and any(c["official"] for c in cases)
    for c in cases:
        read = mmmu_open(c["reply"])
        assert sorted(repr(v) for v in read) == c["parsed"], c
        answer = c["answer"]
        answers = ast.literal_eval(answer) if answer.startswith("[") else [answer]
        assert mmmu_open_correct(read, answers) == c["official"], c


def test_chartqa_relaxed_accuracy_matches_pix2struct() -> None:
    cases = golden("chartqa")
    assert len(cases) >= 300
    for c in cases:
        assert relaxed_correct(c["reply"], c["answer"]) == c["official"], c


def test_mathvista_rules_and_normalisation_match_official() -> None:
    cases = golden("mathvista")
    assert {c["official_route"] for c in cases} == {"rule", "judge"}
    for c in cases:
        kind, answer_type, choices = c["question_type"], c["answer_type"], c["choices"]
        read = mathvista_rule(c["reply"], kind, answer_type, choices, quick=c["quick_extract"])
        if c["official_route"] == "judge":
            assert read is None, c
            continue
        assert read is not None, c
        value = mathvista_normalise(read, kind, answer_type, choices, c["precision"])
        assert value == c["normalized"], c
        assert (value == c["answer"]) == c["official"], c


def _scored_frame(bench: Any, answered: list[Answered]) -> pd.DataFrame:
    rows = []
    for a, s in zip(answered, bench.score(answered), strict=True):
        rows.append(
            {"group": a.sample.group, "category": a.sample.category, "score": s.score, **s.metrics}
        )
    return pd.DataFrame(rows)


def test_mme_scores_match_official_calculation() -> None:
    data = golden("mme")
    bench = MME()
    answered = []
    seen: dict[str, int] = {}
    for item in data["items"]:
        group = f"{item['category']}/{item['image']}"
        seen[group] = seen.get(group, 0) + 1
        sample = Sample(
            id=f"{group}#{seen[group]}",
            images=(),
            prompt=item["question"],
            targets=(item["answer"].lower(),),
            category=item["category"],
            group=group,
        )
        answered.append(Answered(sample, Prediction(text=item["reply"]), "open"))
    samples = [a.sample for a in answered]
    est = estimate(_scored_frame(bench, answered), bench.aggregates(samples), resamples=20)
    official = data["scores"]
    assert est["perception"].value == pytest.approx(official["perception"], abs=1e-9)
    assert est["cognition"].value == pytest.approx(official["cognition"], abs=1e-9)
    for task, value in official["tasks"].items():
        assert est[f"score[{task}]"].value == pytest.approx(value, abs=1e-9), task
    total = official["perception"] + official["cognition"]
    assert est["total"].value == pytest.approx(total, abs=1e-9)
    assert est["score"].value == pytest.approx(total / 2800, abs=1e-12)


def test_ocrbench_items_and_final_score_match_official() -> None:
    data = golden("ocrbench")
    bench = OCRBench()
    answered = []
    for i, item in enumerate(data["items"]):
        answers = item["answers"] if isinstance(item["answers"], list) else [item["answers"]]
        right = ocrbench_correct(item["predict"], answers, item["dataset_name"])
        assert float(right) == float(item["official"] or 0), item
        sample = Sample(
            id=str(i),
            images=(),
            prompt="what is written in the image?",
            targets=tuple(answers),
            category=item["type"],
            group=str(i),
            metadata={"dataset": item["dataset_name"]},
        )
        answered.append(Answered(sample, Prediction(text=item["predict"]), "open"))
    samples = [a.sample for a in answered]
    est = estimate(_scored_frame(bench, answered), bench.aggregates(samples), resamples=20)
    assert est["final_score"].value == data["scores"]["final"]
    assert est["score"].value == pytest.approx(data["scores"]["final"] / 1000)
    for category in CATEGORIES:
        assert est[f"score[{category}]"].value == data["scores"]["types"][category], category
    recognition = sum(data["scores"]["types"][c] for c in CATEGORIES[:6])
    assert est["text_recognition"].value == recognition
