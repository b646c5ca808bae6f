"""The synthetic suites: reproducible samples, versions, oracle and wrong answers, aggregates."""

from __future__ import annotations

import importlib
import math
import tomllib
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pytest
from caption_helpers import official_corpus
from repo_paths import REPO

from evalharness.benchmarks.base import Answered, Benchmark
from evalharness.benchmarks.synthetic.adherence import AdherenceSuite
from evalharness.benchmarks.synthetic.binding import BindingSuite
from evalharness.benchmarks.synthetic.caption import CaptionSuite
from evalharness.benchmarks.synthetic.counting import CountingSuite
from evalharness.benchmarks.synthetic.describe import DescribeSuite
from evalharness.benchmarks.synthetic.pope import PopeSuite
from evalharness.benchmarks.synthetic.spatial import SpatialSuite
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.benchmarks.synthetic.text import TextSuite
from evalharness.benchmarks.synthetic.vqa import VQASuite
from evalharness.stats import Estimate, estimate
from evalharness.types import LETTERS, Capability, Prediction, Sample, Scored, plan

SUITES: list[type[SyntheticSuite]] = [
    CountingSuite,
    SpatialSuite,
    BindingSuite,
    PopeSuite,
    CaptionSuite,
    VQASuite,
    TextSuite,
    AdherenceSuite,
]
# graded by a judge against the scene's truth (tests/judge): no option form, no rule-scored answer
JUDGED: list[type[SyntheticSuite]] = [DescribeSuite]
GENERATE: frozenset[Capability] = frozenset({"generate"})
CHOICE: frozenset[Capability] = frozenset({"choice"})


def small(cls: type[SyntheticSuite], **knobs: Any) -> SyntheticSuite:
    # METEOR starts a JVM that takes many seconds; its wiring is the metrics module's to test
    extra = {"meteor": False} if cls is CaptionSuite else {}
    return cls(n=knobs.pop("n", 8), **extra, **knobs)


def wrong_text(sample: Sample) -> str:
    others = [a for a in (sample.answer_space or ()) if a not in sample.targets]
    return others[0] if others else "zzzz qqqq"


def answer(sample: Sample, caps: frozenset[Capability], right: bool = True) -> Answered | None:
    """What a perfect (or a perfectly wrong) model answers, in the form the runner would ask."""
    how = plan(sample, caps)
    if how is None:
        return None
    mode, form = how
    if form == "open":
        return Answered(
            sample, Prediction(text=sample.target if right else wrong_text(sample)), form
        )
    assert sample.choices is not None and sample.target_index is not None
    index = sample.target_index if right else (sample.target_index + 1) % len(sample.choices)
    if mode == "choice":
        scores = [float(i == index) for i in range(len(sample.choices))]
        return Answered(sample, Prediction(choice_scores=scores), form)
    return Answered(sample, Prediction(text=LETTERS[index]), form)


def answer_all(
    suite: SyntheticSuite, caps: frozenset[Capability], right: bool = True
) -> list[Answered]:
    found = [answer(s, caps, right) for s in suite.samples()]
    return [a for a in found if a is not None]


def frame(answered: Sequence[Answered], scored: Sequence[Scored]) -> pd.DataFrame:
    """Scored rows as the runner stores them: score, category, group, meta_<k>, metric columns."""
    rows = []
    for a, sc in zip(answered, scored, strict=True):
        row: dict[str, Any] = {
            "score": sc.score,
            "category": a.sample.category,
            "group": a.sample.group,
        }
        for k, v in a.sample.metadata.items():
            if isinstance(v, str | int | float | bool):
                row[f"meta_{k}"] = v
        row.update(sc.metrics)
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate(
    suite: SyntheticSuite, answered: Sequence[Answered], scored: Sequence[Scored]
) -> dict[str, Estimate]:
    return estimate(frame(answered, scored), suite.aggregates(suite.samples()), resamples=50)


def mean_score(suite: SyntheticSuite, answered: Sequence[Answered]) -> float:
    scored = suite.score(answered)
    return sum(s.score for s in scored) / len(scored)


# --- samples and versions ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", SUITES)
def test_samples_are_well_formed(cls: type[SyntheticSuite]) -> None:
    suite = small(cls)
    samples = suite.samples()
    assert samples and len({s.id for s in samples}) == len(samples)
    assert suite.generation.max_new_tokens <= 48
    for s in samples:
        assert s.id.startswith(f"{suite.name}-") and s.id.startswith(s.group)
        assert s.category and s.prompt
        assert "scene" in s.metadata
        assert s.targets or s.choices
        if s.answer_space is not None:
            assert s.target in s.answer_space
        if s.choices is not None:
            assert s.target_index is not None and 0 <= s.target_index < len(s.choices)
            assert len(set(s.choices)) == len(s.choices)
            assert s.choice_texts is None or len(s.choice_texts) == len(s.choices)
        assert plan(s, GENERATE) is not None


@pytest.mark.parametrize("cls", SUITES)
def test_regeneration_is_identical_and_seed_changes_content(cls: type[SyntheticSuite]) -> None:
    a, b = small(cls, seed=5).samples(), small(cls, seed=5).samples()
    assert [s.content_hash() for s in a] == [s.content_hash() for s in b]
    assert a[0].images[0].load().tobytes() == b[0].images[0].load().tobytes()
    assert a[0].metadata == b[0].metadata
    other = small(cls, seed=6).samples()
    assert {s.content_hash() for s in a}.isdisjoint(s.content_hash() for s in other)
    # a longer run starts with the same images: they depend on (seed, index) only; so do the
    # questions, except POPE's popular and adversarial ones, drawn from statistics of all images
    longer = small(cls, seed=5, n=10).samples()[: len(a)]
    assert [s.images[0].fingerprint() for s in longer] == [s.images[0].fingerprint() for s in a]
    if cls is not PopeSuite:
        assert [s.content_hash() for s in longer] == [s.content_hash() for s in a]


@pytest.mark.parametrize("cls", SUITES)
def test_version_follows_knobs_and_templates(cls: type[SyntheticSuite]) -> None:
    base = small(cls)
    assert small(cls).version == base.version
    assert small(cls, image_size=192).version != base.version
    assert small(cls, clutter=0.5).version != base.version
    reworded = type("Reworded", (cls,), {"templates": (*cls.templates, "changed")})
    assert small(reworded).version != base.version
    rescored = type("Rescored", (cls,), {"scoring": cls.scoring + "!"})
    assert small(rescored).version != base.version


def test_entry_points_name_the_suites() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    entries = pyproject["project"]["entry-points"]["evalharness.benchmarks"]
    synthetic = {
        k: v for k, v in entries.items() if v.startswith("evalharness.benchmarks.synthetic")
    }
    assert len(synthetic) == len(SUITES) + len(JUDGED)
    for name, target in synthetic.items():
        module, attr = target.split(":")
        cls = getattr(importlib.import_module(module), attr)
        assert cls.name == name
        assert isinstance(cls(n=2), Benchmark)


def test_invalid_knobs_are_refused_with_the_knob_and_its_valid_values() -> None:
    from evalharness.benchmarks.base import BenchmarkSettingError

    with pytest.raises(BenchmarkSettingError, match=r"min_count <= max_count .*min_count=5"):
        CountingSuite(min_count=5, max_count=2)
    with pytest.raises(BenchmarkSettingError, match=r"clutter goes from 0 .* \(given clutter=2\.0"):
        SpatialSuite(clutter=2.0)
    with pytest.raises(BenchmarkSettingError, match="n must be a whole number, got 'abc'"):
        VQASuite(n="abc")  # type: ignore[arg-type]  # as a command line may give it
    assert SpatialSuite(clutter=1).version == SpatialSuite(clutter=1.0).version
    with pytest.raises(BenchmarkSettingError, match=r"cannot fit .* lower the object counts"):
        CountingSuite(n=1, max_count=1000).samples()
    with pytest.raises(TypeError):
        CountingSuite(5)  # type: ignore[call-arg]  # knobs are keyword-only


# --- oracle and wrong answers -----------------------------------------------------------------


@pytest.mark.parametrize("cls", [c for c in SUITES if c is not CaptionSuite])
@pytest.mark.parametrize("caps", [GENERATE, CHOICE], ids=["generate", "choice"])
def test_oracle_scores_one_and_wrong_answers_zero(
    cls: type[SyntheticSuite], caps: frozenset[Capability]
) -> None:
    suite = small(cls)
    right = answer_all(suite, caps)
    if caps == CHOICE and cls is AdherenceSuite:
        assert right == []  # format following has no option form
        return
    assert right
    assert mean_score(suite, right) == 1.0
    assert mean_score(suite, answer_all(suite, caps, right=False)) == 0.0


def test_caption_oracle_and_wrong_captions() -> None:
    suite = small(CaptionSuite, n=10)
    right = answer_all(suite, GENERATE)
    scored = suite.score(right)
    assert all(s.metrics["ROUGE-L"] == pytest.approx(1.0) for s in scored)
    assert all(
        s.metrics["shape_hallucinated"] == 0 and s.metrics["object_hallucinated"] == 0
        for s in scored
    )
    assert all(s.score == pytest.approx(1.0) for s in scored)  # primary: ROUGE-L
    assert (
        min(s.metrics["CIDEr"] for s in scored) > 1.0
    )  # CIDEr-D of a reference, on its 0-10 scale
    wrong = suite.score(answer_all(suite, GENERATE, right=False))
    assert all(s.score == 0.0 for s in wrong)
    assert mean_score(suite, answer_all(suite, CHOICE)) == 1.0
    assert mean_score(suite, answer_all(suite, CHOICE, right=False)) == 0.0
    # another image's caption is a worse caption than this image's
    samples = suite.samples()
    shifted = [
        Answered(s, Prediction(text=samples[i - 1].target), "open") for i, s in enumerate(samples)
    ]
    assert mean_score(suite, shifted) < mean_score(suite, right) / 2


@pytest.mark.slow  # METEOR loads its paraphrase tables: several seconds
def test_caption_corpus_bleu_and_meteor_are_pycocoevalcaps() -> None:
    suite = CaptionSuite(n=16)
    samples = suite.samples()
    # the next image's caption, cut short: partial matches, brevity penalties
    answered = [
        Answered(s, Prediction(text=" ".join(samples[i - 1].target.split()[: 2 + i % 5])), "open")
        for i, s in enumerate(samples)
    ]
    est = aggregate(suite, answered, suite.score(answered))
    official = official_corpus(
        {a.sample.id: a.prediction.text for a in answered},
        {s.id: list(s.targets) for s in samples},
    )
    assert est["BLEU-4"].value == pytest.approx(official["BLEU-4"], abs=1e-12)
    assert est["METEOR"].value == pytest.approx(official["METEOR"], abs=1e-12)


@pytest.mark.parametrize("cls", SUITES)
def test_oracle_aggregates(cls: type[SyntheticSuite]) -> None:
    suite = small(cls)
    right = answer_all(suite, GENERATE)
    est = aggregate(suite, right, suite.score(right))
    assert set(est) == {a.name for a in suite.aggregates(suite.samples())}
    assert est["score"].value == pytest.approx(1.0)
    for name, e in est.items():
        if "chair" in name or "hallucinat" in name:
            assert e.value == 0.0, name
        elif name.startswith("accuracy") or name in {"consistency", "pair_accuracy", "compliance"}:
            assert e.value == 1.0, name


# --- aggregates on hand-made answers ------------------------------------------------------------


def test_counting_error_aggregates() -> None:
    suite = CountingSuite(n=40, seed=0)
    samples = [
        next(s for s in suite.samples() if s.metadata["true_count"] == k) for k in (2, 3, 3, 5)
    ]
    replies = ["2", "There are 4.", "three", "I cannot tell."]
    answered = [
        Answered(s, Prediction(text=r), "open") for s, r in zip(samples, replies, strict=True)
    ]
    scored = suite.score(answered)
    assert [s.score for s in scored] == [1.0, 0.0, 1.0, 0.0]
    est = estimate(frame(answered, scored), suite.aggregates(samples), resamples=20)
    assert est["score"].value == 0.5
    assert est["mae"].value == pytest.approx(1 / 3)  # the unanswered one has no error size
    assert est["off_by_one_rate"].value == 0.25
    assert est["accuracy[count=3]"].value == 0.5
    assert est["accuracy[count=5]"].value == 0.0


def test_spatial_consistency_is_pairwise() -> None:
    suite = SpatialSuite(n=2, seed=0)
    answered = []
    for s in suite.samples():
        if s.category == "yes_no" and s.id.endswith("-a"):
            reply = s.target  # right on the first phrasing ...
        elif s.category == "yes_no":
            reply = "no" if s.target == "yes" else "yes"  # ... wrong on the reversal
        elif s.category == "where" and s.group.endswith("0"):
            reply = s.target  # both right
        elif s.category == "where":  # both wrong, but consistent with each other
            reply = {"left": "above", "right": "below", "above": "left", "below": "right"}[s.target]
        else:
            reply = s.target
        answered.append(Answered(s, Prediction(text=reply), "open"))
    est = aggregate(suite, answered, suite.score(answered))
    # pairs: 2 yes/no pairs inconsistent, 1 where pair right, 1 where pair wrong but consistent
    assert est["consistency"].value == 0.5
    assert est["pair_accuracy"].value == 0.25
    assert est["score[nearest]"].value == 1.0
    # a lone half of a pair carries no pair metric
    lone = suite.score(answered[:1])
    assert "pair_consistent" not in lone[0].metrics


def test_pope_aggregates_per_strategy() -> None:
    suite = PopeSuite(n=10, seed=0)
    samples = suite.samples()
    assert sum(s.target == "yes" for s in samples) * 2 == len(samples)  # balanced
    always_yes = [Answered(s, Prediction(text="Yes, there is."), "open") for s in samples]
    est = aggregate(suite, always_yes, suite.score(always_yes))
    for strategy in ("random", "popular", "adversarial"):
        assert est[f"{strategy}/yes_ratio"].value == 1.0
        assert est[f"{strategy}/recall"].value == 1.0
        assert est[f"{strategy}/precision"].value == 0.5
        assert est[f"{strategy}/accuracy"].value == 0.5
    unsure = [Answered(s, Prediction(text="I can't tell."), "open") for s in samples]
    est = aggregate(suite, unsure, suite.score(unsure))
    assert est["yes_ratio"].value == 0.0 and est["accuracy"].value == 0.0


def test_pope_negatives_follow_their_strategy() -> None:
    suite = PopeSuite(n=30, seed=1)
    for s in suite.samples():
        if s.target == "no" and s.category == "adversarial":
            objs = s.metadata["scene"]["objects"]
            words = s.prompt.split()
            color, shape = words[3], words[4]
            assert any(o["shape"] == shape or o["color"] == color for o in objs)
            assert not any(o["shape"] == shape and o["color"] == color for o in objs)


def test_adherence_separates_format_from_correctness() -> None:
    suite = AdherenceSuite(n=6, seed=0)
    samples = suite.samples()
    assert {s.category for s in samples} == {"number", "yes_no", "word", "json"}

    def chatty(s: Sample) -> str:
        return (
            f"```json\n{s.target}\n```"
            if s.category == "json"
            else f"The answer is {s.target}, I think."
        )

    answered = [Answered(s, Prediction(text=chatty(s)), "open") for s in samples]
    est = aggregate(suite, answered, suite.score(answered))
    assert est["compliance"].value == 0.0
    assert est["accuracy"].value == 1.0
    assert est["score"].value == 0.0
    terse = [
        Answered(s, Prediction(text=f" {s.target.upper()}.\n"), "open")
        for s in samples
        if s.category != "json"
    ]
    assert all(sc.metrics["compliant"] == 1.0 for sc in suite.score(terse))


def test_vqa_accuracy_is_strict_and_lenient_accuracy_is_not() -> None:
    suite = VQASuite(n=20, seed=0)
    count = next(s for s in suite.samples() if s.category == "count" and s.target == "2")
    scored = suite.score(
        [
            Answered(count, Prediction(text="Two."), "open"),
            Answered(count, Prediction(text="There are two of them."), "open"),
        ]
    )
    assert (scored[0].score, scored[0].metrics["correct"]) == (1.0, 1.0)
    assert (scored[1].score, scored[1].metrics["correct"]) == (0.0, 1.0)


def test_text_reading_is_case_insensitive_and_partial_credit() -> None:
    suite = TextSuite(n=4, seed=0)
    sign = next(s for s in suite.samples() if s.category == "word")
    target = sign.target
    replies = [f'The sign says "{target.swapcase()}".', target[:-1], "something else entirely"]
    scored = suite.score([Answered(sign, Prediction(text=r), "open") for r in replies])
    assert scored[0].score == 1.0 and scored[0].metrics["exact"] == 1.0
    assert 0.5 <= scored[1].score < 1.0 and scored[1].metrics["exact"] == 0.0
    assert scored[2].score == 0.0


def test_caption_hallucination_counts_absent_shapes_and_colours() -> None:
    suite = small(CaptionSuite, n=6)
    samples = suite.samples()
    sample = samples[0]
    objs = sample.metadata["scene"]["objects"]
    absent_shape = next(
        sh for sh in ("star", "hexagon", "circle", "square") if all(o["shape"] != sh for o in objs)
    )
    caption = f"{sample.target} There is also a {objs[0]['color']} {absent_shape}."
    answered = [
        Answered(s, Prediction(text=caption if s is sample else s.target), "open") for s in samples
    ]
    scored = suite.score(answered)
    assert scored[0].metrics["shape_hallucinated"] == 1.0
    assert scored[0].metrics["object_hallucinated"] == 1.0
    assert scored[0].metrics["color_hallucinated"] == 0.0
    est = aggregate(suite, answered, scored)
    assert est["shape_chair_s"].value == pytest.approx(1 / 6)
    assert est["shape_chair_i"].value > 0


def test_binding_items_exist_in_both_forms() -> None:
    suite = BindingSuite(n=4, seed=0)
    by_kind = {s.category: s for s in suite.samples()}
    assert set(by_kind) == {"color", "shape", "swap_binding", "swap_order"}
    assert plan(by_kind["color"], GENERATE) == ("generate", "open")
    assert plan(by_kind["swap_binding"], GENERATE) == ("generate", "choice")
    assert plan(by_kind["swap_binding"], CHOICE) == ("choice", "choice")
    color = by_kind["color"]
    sc = suite.score([Answered(color, Prediction(text=f"It is {color.target}."), "open")])
    assert sc[0].score == 1.0 and sc[0].extracted == color.target
    swapped = by_kind["swap_binding"].choices or ()
    assert sorted(swapped[0].split()) == sorted(swapped[1].split())  # same words, other binding


def test_count_metrics_are_finite_or_nan_only_for_unanswered() -> None:
    suite = CountingSuite(n=5)
    answered = [Answered(s, Prediction(text="none"), "open") for s in suite.samples()]
    for sc in suite.score(answered):
        assert math.isfinite(sc.metrics["abs_error"])
