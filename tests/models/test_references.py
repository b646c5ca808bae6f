"""Reference models on every synthetic suite: oracle is perfect, random is at chance, prior at the
majority rate the suite's own targets imply."""

from __future__ import annotations

import io
import math
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from evalharness import registry
from evalharness.benchmarks.base import Answered
from evalharness.models._info import former_identity
from evalharness.models.base import ModelInfo, ModelLoadError, ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job
from evalharness.types import Prediction, Sample, plan

SUITES = registry.benchmarks.names()
SYNTHETIC = [n for n in SUITES if n.startswith("synth_")]
BOTH = frozenset({"generate", "choice"})


def _run(tmp_path: Path, model: str, suite: str, n: int, blind: bool = False) -> float:
    spec = RunSpec(
        ModelSpec(model),
        (BenchmarkSpec(suite, {"n": n}),),
        str(tmp_path / "results"),
        progress=False,
        blind=blind,
    )
    [result] = run_job(spec, out=io.StringIO())
    assert result.n_errors == 0
    return result.metrics["score"].value


@pytest.mark.parametrize("suite", SYNTHETIC)
def test_oracle_scores_one_on_every_suite(tmp_path: Path, suite: str) -> None:
    assert _run(tmp_path, "oracle", suite, 12) == pytest.approx(1.0)


@pytest.mark.parametrize("suite", SYNTHETIC)
def test_blind_option_runs_on_every_suite(tmp_path: Path, suite: str) -> None:
    assert _run(tmp_path, "oracle", suite, 4, blind=True) == pytest.approx(1.0)


def _chance(bench: object, s: Sample) -> float | None:
    """Probability that a uniform pick among the valid answers or options scores."""
    route = plan(s, BOTH)
    assert route is not None
    if route[1] == "choice":
        return 1.0 / len(s.choices or ())
    if not s.answer_space:
        return None
    scores = [
        bench.score([Answered(s, Prediction(text=a), "open")])[0].score  # type: ignore[attr-defined]
        for a in s.answer_space
    ]
    return sum(scores) / len(scores)


@pytest.mark.parametrize(
    "suite", ["synth_counting", "synth_spatial", "synth_binding", "synth_pope", "synth_vqa"]
)
def test_random_lands_within_its_chance_interval(tmp_path: Path, suite: str) -> None:
    n = 60
    bench = registry.benchmarks.create(suite, n=n)
    chances = [_chance(bench, s) for s in bench.samples()]
    assert all(c is not None for c in chances), "every item has options or a valid-answer set"
    expected = sum(chances) / len(chances)  # type: ignore[arg-type]
    sd = math.sqrt(sum(c * (1 - c) for c in chances)) / len(chances)  # type: ignore[operator]
    observed = _run(tmp_path, "random", suite, n)
    assert abs(observed - expected) <= 4 * sd + 1e-9, (observed, expected, sd)


def _majority_rate(samples: list[Sample]) -> float:
    """Share of items whose canonical answer is the most frequent one of their question type."""
    open_counts: dict[str, Counter[str]] = defaultdict(Counter)
    option_counts: dict[tuple[str, int], Counter[int]] = defaultdict(Counter)
    for s in samples:
        route = plan(s, BOTH)
        assert route is not None
        if route[1] == "open":
            open_counts[s.category][s.targets[0]] += 1
        else:
            option_counts[(s.category, len(s.choices or ()))][s.target_index or 0] += 1
    hits = sum(max(c.values()) for c in open_counts.values())
    hits += sum(max(c.values()) for c in option_counts.values())
    return hits / len(samples)


@pytest.mark.parametrize(
    "suite", ["synth_counting", "synth_spatial", "synth_binding", "synth_pope"]
)
def test_prior_matches_the_majority_rate(tmp_path: Path, suite: str) -> None:
    n = 40
    bench = registry.benchmarks.create(suite, n=n)
    expected = _majority_rate(list(bench.samples()))
    assert _run(tmp_path, "prior", suite, n) == pytest.approx(expected)


@pytest.mark.parametrize("name", ["oracle", "random", "prior"])
def test_reference_models_refuse_settings_they_would_ignore(name: str) -> None:
    with pytest.raises(ModelLoadError, match=r"takes no model.args settings; got 'temperature'"):
        registry.models.create(name, ModelSpec(name, args={"temperature": 0.7}))
    model = registry.models.create(name, ModelSpec(name))
    assert model.info() == ModelInfo("reference", 0)
    assert former_identity(model, model.identity()) == {  # as versions before `info()` had it
        "name": name,
        "family_group": "reference",
        "params": 0,
    }


@pytest.mark.parametrize(
    ("model", "suite"),
    [("prior", "synth_text"), ("prior", "synth_vqa"), ("random", "synth_text")],
)
def test_a_fitted_reference_refits_when_its_samples_change(
    tmp_path: Path, model: str, suite: str
) -> None:
    """Fitted on 20 samples, then run with n=30: the answers are those of a fresh run on 30
    samples, not the stored ones of the 20-sample fit (taken over as another version's)."""
    once = tmp_path / "once"
    _run(once, model, suite, 20)
    again = _run(once, model, suite, 30)
    fresh = _run(tmp_path / "fresh", model, suite, 30)
    assert again == fresh


@pytest.mark.parametrize("name", ["prior", "random"])
def test_a_fitted_reference_names_what_it_learnt(name: str) -> None:
    bench = registry.benchmarks.create("synth_text", n=30)
    samples = list(bench.samples())
    first, second, third = (registry.models.create(name, ModelSpec(name)) for _ in range(3))
    first.fit(samples[:20])
    second.fit(samples)
    third.fit(list(reversed(samples)))  # the order of the samples changes nothing
    assert first.identity() != second.identity() == third.identity()
    assert set(first.identity()) == {"name", "fitted"}
