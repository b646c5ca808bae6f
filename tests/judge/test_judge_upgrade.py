"""A judged run stored before `Model.info()` (the model's and the judge model's identities held
their kind and size, so both keys were others) is taken over after the upgrade: neither the
model nor the judge is asked again, on a rerun or on a rescore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from judge_helpers import REPLIES, Replier, RuleJudge, judge_of, run

from evalharness import ModelInfo, registry
from evalharness.runner.rescore import rescore
from evalharness.store import load_runs, load_samples


class FormerJudge(RuleJudge):
    """The rule judge as versions before `info()` had it."""

    def identity(self) -> dict[str, object]:
        return {"name": self.name, "family_group": "generative", "params": 5}


class Judge(RuleJudge):
    def info(self) -> ModelInfo:
        return ModelInfo("generative", 5)


class FormerReplier(Replier):
    def identity(self) -> dict[str, object]:
        return {"name": self.name, "family_group": "generative", "params": 7}


class NewReplier(Replier):
    def info(self) -> ModelInfo:
        return ModelInfo("generative", 7)


def test_a_judged_run_stored_before_model_info_asks_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    RuleJudge.asked.clear()
    results = tmp_path / "results"
    with monkeypatch.context() as m:
        m.setitem(registry.models._extra, "rule_judge", FormerJudge)
        first = judge_of(results, agreement=1.0)
        old = run(results, first, FormerReplier())
    asked = len(RuleJudge.asked)
    assert asked == len(REPLIES)
    before = load_samples(results).set_index("sample_id")

    monkeypatch.setitem(registry.models._extra, "rule_judge", Judge)
    again = judge_of(results, agreement=1.0)
    assert again.key_hash() != first.key_hash()  # the judge's key changed too
    model = NewReplier()
    new = run(results, again, model)
    assert new.run_id != old.run_id and new.n_reused == new.n_samples
    assert model.calls == 0 and again.calls == 0 and len(RuleJudge.asked) == asked
    assert again.cache.hits == asked and again.cache.misses == 0
    runs = load_runs(results).set_index("run_id")
    assert runs.loc[new.run_id, "answers_from"] == old.run_id
    after = load_samples(results).query("run_id == @new.run_id").set_index("sample_id")
    columns: list[Any] = ["prediction", "extracted", "score", "read_status", "judge_reply"]
    assert after[columns].equals(before.loc[after.index, columns])

    assert rescore(results) == 2  # both runs, each from the verdict cache
    assert len(RuleJudge.asked) == asked
