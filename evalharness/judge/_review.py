"""Rules first, judge second: where the judge takes over a sample's reading, and what is stored.

`review` runs after the rules have read every reply. A reply they could not read
(`read_status` "unreadable") goes to the judge; the label it gives is read back by the benchmark's
own scoring, as if the model had answered just that, and the sample's route becomes "judge". A
share of the replies the rules did read (`JudgeSpec.agreement`, picked by a hash of the sample id
so that reruns pick the same) goes to the judge too, and `judge_agrees` records whether both
read the same answer. Nothing is imputed: "none", a label outside the allowed ones or a failed
judge leave the sample unreadable, with the reason in `judge_reason`.

A benchmark whose official script has a judge read every reply (`OfficialJudged`:
HallusionBench's GPT-4 check) is asked otherwise: every open reply the rules read, or could not,
goes to the judge in the script's words; the verdict, read as the script reads it, is the
official reading (route "judge" where that is the headline), and the rule reading stays the
robust one. `judge_agrees` records, for every judged reply, whether the judge's verdict equals
the rules'. A judge that gives no reply leaves that sample's official reading to the rules,
with the reason kept.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from evalharness.benchmarks.protocols import OFFICIAL
from evalharness.extract import normalize
from evalharness.judge._judge import Judge, Verdict
from evalharness.judge._prompt import Ask, grade_ask, read_ask
from evalharness.stats import Aggregate, Estimate, estimate
from evalharness.store import METRIC_PREFIX
from evalharness.types import Scored

if TYPE_CHECKING:
    import pandas as pd

    from evalharness.benchmarks.base import Answered, Benchmark

COLUMNS = ("judge_answer", "judge_reply", "judge_prompt_hash", "judge_reason", "judge_agrees")
"""The sample columns the judge writes (null where it was not asked)."""

RULE, JUDGE, UNREADABLE = "rule", "judge", "unreadable"


@dataclass
class Item:
    """One scored sample: its stored record (changed in place), what was answered and how the
    rules scored it."""

    record: dict[str, Any]
    answered: Answered
    scored: Scored


@runtime_checkable
class OfficialJudged(Protocol):
    """A benchmark whose official script asks a judge model about every reply."""

    def official_ask(self, answered: Answered, rule: Scored) -> tuple[Ask, str] | None:
        """The script's question about one reply, and the verdict the rule reading (`rule`, the
        sample as scored without a judge) gives, which the judge's is compared with; None for
        a reply the script would not ask about."""
        ...

    def score_judged(
        self, answered: Sequence[Answered], verdicts: Sequence[str | None]
    ) -> list[Scored]:
        """Every sample scored with the judge's verdict as its official reading (None: no
        verdict, the rule reading stands), as `score` scores them without one."""
        ...


def blank(record: dict[str, Any]) -> None:
    for col in COLUMNS:
        record[col] = math.nan if col == "judge_agrees" else None


def picked(sample_id: str, share: float) -> bool:
    """Whether a sample is in the agreement share: the same samples on every rerun."""
    if share <= 0:
        return False
    h = int(hashlib.sha256(sample_id.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


def review(judge: Judge, benchmark: Benchmark, items: Sequence[Item]) -> set[str]:
    """Ask the judge about the unreadable replies and the agreement share (and, for a benchmark
    with a `rubric`, to grade every open reply; for an `OfficialJudged` one, about every reply);
    the metric names it wrote into the records."""
    if isinstance(benchmark, OfficialJudged):
        return official(judge, benchmark, items)
    written: set[str] = set()
    rubric = str(getattr(benchmark, "rubric", "") or "")
    if rubric:  # open-ended: the judge grades every reply; options are read as usual
        graded = [
            i
            for i in items
            if i.answered.form == "open"
            and i.answered.prediction.error is None
            and i.record["read_status"] in (RULE, UNREADABLE)
        ]
        written |= grade(judge, benchmark, rubric, graded)
        items = [i for i in items if not any(i is g for g in graded)]
    unread = [i for i in items if i.record["read_status"] == UNREADABLE]
    checked = [
        i
        for i in items
        if i.record["read_status"] == RULE
        and i.answered.form in ("open", "choice")
        and picked(str(i.record["sample_id"]), judge.spec.agreement)
    ]
    asked = [*unread, *checked]
    if not asked:
        return written
    asks = [
        read_ask(i.answered.sample, i.answered.form, i.answered.prediction.text or "")
        for i in asked
    ]
    verdicts = judge.ask(asks, benchmark.name)
    for item, verdict in zip(asked, verdicts, strict=True):
        rec = item.record
        _note(rec, verdict)
        reading = _read(benchmark, item.answered, verdict)
        if rec["read_status"] == RULE:
            if verdict.answer is not None or verdict.reply is not None:  # a verdict, "none" too
                same = reading is not None and _same(reading.extracted, item.scored.extracted)
                rec["judge_agrees"] = 1.0 if same else 0.0
            continue
        if reading is None:
            if verdict.answer is not None:
                rec["judge_reason"] = (
                    f"the judge's answer {verdict.answer!r} is not an answer to this item"
                )
            continue
        rec["extracted"] = reading.extracted
        rec["score"] = float(reading.score)
        rec["read_status"] = JUDGE
        for name, value in reading.metrics.items():
            rec[METRIC_PREFIX + name] = float(value)
            written.add(name)
    return written


def official(judge: Judge, benchmark: OfficialJudged, items: Sequence[Item]) -> set[str]:
    """The official script's judge on every reply the rules read or could not (a failed or
    truncated one is not asked); the whole run is scored again with its verdicts, since a
    benchmark's numbers over groups of samples (HallusionBench's qAcc) depend on them all."""
    asked: list[tuple[int, Ask, str]] = []
    for n, item in enumerate(items):
        if item.record["read_status"] in (RULE, UNREADABLE):
            question = benchmark.official_ask(item.answered, item.scored)
            if question is not None:
                asked.append((n, *question))
    if not asked:
        return set()
    name = str(getattr(benchmark, "name", ""))
    verdicts = judge.ask([ask for _, ask, _ in asked], name)
    labels: list[str | None] = [None] * len(items)
    for (n, _, rule), verdict in zip(asked, verdicts, strict=True):
        rec = items[n].record
        _note(rec, verdict)
        labels[n] = verdict.answer
        if verdict.answer is not None:
            rec["judge_agrees"] = 1.0 if verdict.answer == rule else 0.0
    rescored = benchmark.score_judged([i.answered for i in items], labels)
    headline = getattr(benchmark, "headline", "") == OFFICIAL
    written: set[str] = set()
    for item, label, scored in zip(items, labels, rescored, strict=True):
        rec = item.record
        rec["score"] = float(scored.score)
        if label is not None and headline:
            rec["read_status"] = JUDGE
        for metric, value in scored.metrics.items():
            rec[METRIC_PREFIX + metric] = float(value)
            written.add(metric)
    return written


def _note(rec: dict[str, Any], verdict: Verdict) -> None:
    rec["judge_reply"] = verdict.reply
    rec["judge_prompt_hash"] = verdict.prompt_hash
    rec["judge_answer"] = verdict.answer
    rec["judge_reason"] = verdict.reason or None


def grade(judge: Judge, benchmark: Benchmark, rubric: str, items: Sequence[Item]) -> set[str]:
    """The judge's rubric grade of each reply as its score (the benchmark's `graded` hook, where
    it has one, keeps its own readings beside it); a reply without a grade is unreadable and
    scores 0, its reason kept."""
    if not items:
        return set()
    asks = [grade_ask(i.answered.sample, rubric, i.answered.prediction.text or "") for i in items]
    verdicts = judge.ask(asks, benchmark.name)
    written: set[str] = set()
    hook = getattr(benchmark, "graded", None)
    for item, verdict in zip(items, verdicts, strict=True):
        rec = item.record
        _note(rec, verdict)
        if verdict.answer is None:
            rec["read_status"] = UNREADABLE
            rec["score"] = 0.0
            if METRIC_PREFIX + "correct" in rec:
                rec[METRIC_PREFIX + "correct"] = 0.0
            continue
        value = float(verdict.answer)
        scored = (
            hook(item.scored, value)
            if hook is not None
            else Scored(item.scored.extracted, value, {**item.scored.metrics, "judge_grade": value})
        )
        rec["score"] = float(scored.score)
        rec["read_status"] = JUDGE
        for name, v in scored.metrics.items():
            rec[METRIC_PREFIX + name] = float(v)
            written.add(name)
    return written


def _read(benchmark: Benchmark, answered: Answered, verdict: Verdict) -> Scored | None:
    """The judge's label read by the benchmark's own scoring, in place of the reply (the rest
    of the prediction, first-token probabilities say, stays); None when it reads no answer."""
    if verdict.answer is None:
        return None
    import dataclasses

    from evalharness.benchmarks.base import Answered

    said = dataclasses.replace(answered.prediction, text=verdict.answer)
    again = Answered(answered.sample, said, answered.form)
    [scored] = benchmark.score([again])
    return None if scored.extracted in (None, "") else scored


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and normalize(a) == normalize(b)


SHARES = ("read_rule", "read_judge", "read_unreadable")


def route_estimates(rows: pd.DataFrame, seed: int) -> dict[str, Estimate]:
    """The shares of a run's answered replies read by rule, by the judge and by neither
    (unreadable or truncated), and the judge's agreement with the rules, each with its CI."""
    import pandas as pd

    status = rows["read_status"] if "read_status" in rows else pd.Series([""] * len(rows))
    read = status.isin([RULE, JUDGE, UNREADABLE, "truncated"])
    frame = pd.DataFrame(
        {
            "group": rows["group"] if "group" in rows else range(len(rows)),
            "read_rule": (status == RULE).astype(float).where(read),
            "read_judge": (status == JUDGE).astype(float).where(read),
            "read_unreadable": status.isin([UNREADABLE, "truncated"]).astype(float).where(read),
            "judge_agreement": pd.to_numeric(rows.get("judge_agrees", math.nan), errors="coerce"),
        }
    )
    aggs = [Aggregate.mean(c, bounded=True) for c in (*SHARES, "judge_agreement")]
    return estimate(frame, aggs, cluster="group", seed=seed)


def judge_summary(judge: Judge, agreement: Mapping[str, Estimate]) -> dict[str, Any]:
    """What the run row says of its judge: who, how it was asked, and whether it is flagged."""
    est = agreement.get("judge_agreement")
    low = est is not None and est.n > 0 and est.value < judge.spec.min_agreement
    return {
        "key": judge.key(),
        "settings": judge.settings(),
        "agreement": None if est is None else est.value,
        "flagged": bool(low),
    }
