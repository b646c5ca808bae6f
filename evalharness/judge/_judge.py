"""The judge: a model of any route asked to read replies the rules cannot, or to grade them.

It is built from a `ModelSpec` through the model registry, as the evaluated model is, and asked
in text only. Every prompt goes through the verdict cache first; what is left is estimated
(calls and tokens) before anything is sent, and an API judge over `confirm_above` calls is not
asked until `confirm` says so. A judge that fails (an error, a timeout, a crash) gives no
verdict: the reason is kept and the sample stays unreadable.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from evalharness.errors import EvalharnessError
from evalharness.judge._cache import VerdictCache
from evalharness.judge._prompt import Ask, estimate_tokens, parse, prompt_hash, template_hash
from evalharness.models._info import former_identity, info_of
from evalharness.models.base import Model, ModelSpec
from evalharness.types import GenerationSettings, Prediction, Request, Sample


@dataclass(frozen=True)
class JudgeSpec:
    """The `judge=` settings, parsed once at the edge."""

    model: ModelSpec
    agreement: float = 0.1
    """Share of the replies the rules read that the judge reads too, to measure agreement."""
    min_agreement: float = 0.8
    """The board flags a judge whose agreement with the rules is below this."""
    max_new_tokens: int = 16
    confirm_above: int = 500
    """An API judge is not asked more than this many calls in a run without `confirm`."""
    confirm: bool = False
    batch_size: int = 8


@dataclass(frozen=True)
class Verdict:
    """The judge's reading of one reply: an allowed label, or None with the reason."""

    answer: str | None
    reply: str | None
    prompt_hash: str
    reason: str = ""
    cached: bool = False


@dataclass
class Judge:
    spec: JudgeSpec
    model: Model
    cache: VerdictCache
    out: TextIO = field(default_factory=lambda: sys.stderr)
    calls: int = 0
    """Prompts sent to the judge model by this object (cache hits are not calls)."""

    def key(self) -> dict[str, Any]:
        """What picks the judge's verdicts: its identity (revision included), answer length and
        prompts. Part of the run's key and of every cache key."""
        return {
            "model": self.model.identity(),
            "name": self.spec.model.name,
            "max_new_tokens": self.spec.max_new_tokens,
            "prompts": template_hash(),
        }

    def settings(self) -> dict[str, Any]:
        """The settings the judge was built from, as `judge_spec` reads them (what
        `evalharness rescore` builds the judge again from)."""
        s, m = self.spec, self.spec.model
        model = {
            "name": m.name,
            "label": m.label,
            "path": m.path,
            "revision": m.revision,
            "dtype": m.dtype,
            "device": m.device,
            "args": dict(m.args),
        }
        return {
            "model": model,
            "agreement": s.agreement,
            "min_agreement": s.min_agreement,
            "max_new_tokens": s.max_new_tokens,
            "confirm_above": s.confirm_above,
            "confirm": s.confirm,
            "batch_size": s.batch_size,
        }

    def key_hash(self) -> str:
        from evalharness.runner.spec import stable_hash

        return stable_hash(self.key(), length=32)

    def former_key(self) -> dict[str, Any] | None:
        """The key versions before `Model.info()` gave this judge, when it differs: its model's
        identity held the model's kind and size then. Verdicts cached under it are this
        judge's, and a run keyed with it is the same run (`runner.plan.former_key_fields`)."""
        key = self.key()
        former = former_identity(self.model, key["model"])
        return None if former is None else {**key, "model": former}

    @property
    def is_api(self) -> bool:
        return info_of(self.model).family_group == "api"

    def ask(self, asks: Sequence[Ask], what: str = "") -> list[Verdict]:
        """A verdict for each question, from the cache where it has one."""
        from evalharness.runner.spec import stable_hash

        jkey = self.key_hash()
        keys = [VerdictCache.key(jkey, a.prompt) for a in asks]
        former = self.former_key()
        fkey = None if former is None else stable_hash(former, length=32)
        replies: dict[str, str] = {}
        failed: dict[str, str] = {}
        cached = set()
        todo: dict[str, str] = {}
        for k, a in zip(keys, asks, strict=True):
            older = [VerdictCache.key(fkey, a.prompt)] if fkey else []
            hit = self.cache.get(k, *older)
            if hit is not None:
                replies[k] = hit
                cached.add(k)
            else:
                todo[k] = a.prompt
        if todo:
            self._run(todo, replies, failed, what, len(cached))
        out = []
        for k, a in zip(keys, asks, strict=True):
            h = prompt_hash(a.prompt)
            if k in replies:
                answer, reason = parse(a, replies[k])
                out.append(Verdict(answer, replies[k], h, reason, k in cached))
            else:
                out.append(Verdict(None, None, h, failed.get(k, "the judge was not asked")))
        return out

    def _run(
        self,
        todo: dict[str, str],
        replies: dict[str, str],
        failed: dict[str, str],
        what: str,
        hits: int,
    ) -> None:
        tokens = estimate_tokens(list(todo.values()), self.spec.max_new_tokens)
        m = self.spec.model
        name = m.label or m.path or m.name
        about = f" for {what}" if what else ""
        print(
            f"judge {name}{about}: {len(todo)} call{'s' if len(todo) != 1 else ''}, "
            f"~{tokens} tokens ({hits} from the verdict cache)",
            file=self.out,
        )
        if self.is_api and len(todo) > self.spec.confirm_above and not self.spec.confirm:
            why = (
                f"the judge was not asked: {len(todo)} calls are above "
                f"judge.confirm_above={self.spec.confirm_above}; set judge.confirm=true"
            )
            print(f"judge {name}: {why}", file=self.out)
            failed.update(dict.fromkeys(todo, why))
            return
        generation = GenerationSettings(self.spec.max_new_tokens, 0.0, ())
        items = list(todo.items())
        new: dict[str, str] = {}
        size = max(1, self.spec.batch_size)
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            requests = [
                Request(Sample(id=f"judge:{k}", images=(), prompt=p), (), p, "generate", generation)
                for k, p in batch
            ]
            self.calls += len(requests)
            try:
                predictions: list[Prediction] = self.model.predict(requests)
                if len(predictions) != len(requests):
                    raise RuntimeError(
                        f"returned {len(predictions)} answers for {len(requests)} prompts"
                    )
            except Exception as exc:  # a judge crash costs its verdicts, never the run
                predictions = [Prediction.from_exception(exc) for _ in requests]
            for (k, _), pred in zip(batch, predictions, strict=True):
                if pred.error is not None:
                    failed[k] = f"the judge failed: {pred.error}"
                elif pred.text is None:
                    failed[k] = "the judge gave no text"
                else:
                    new[k] = replies[k] = pred.text
        self.cache.put(new)


def build_judge(spec: JudgeSpec, results_dir: str | Path, out: TextIO | None = None) -> Judge:
    """The judge of `spec`, its model built through the registry as any evaluated model is."""
    from evalharness import registry

    model = registry.models.create(spec.model.name, spec.model)
    return Judge(spec, model, VerdictCache(results_dir), out or sys.stderr)


class JudgeSettingError(EvalharnessError, ValueError):
    """A `judge.*` setting has an invalid value."""


def judge_spec(settings: Mapping[Any, Any], seed: int = 0) -> JudgeSpec:
    """The `judge=` config (as a plain mapping) as a JudgeSpec; a bad value is refused with one
    line naming it. The model name is checked against the registry here, before anything runs."""
    from evalharness import registry

    m = dict(settings.get("model") or {})
    name = str(m.get("name") or "")
    if not name:
        raise JudgeSettingError("judge.model.name is not set: name the judge's model.")
    registry.models.get(name)  # an unknown name is refused, with "did you mean"
    batch = int(settings.get("batch_size") or 8)
    model = ModelSpec(
        name=name,
        label=str(m.get("label") or ""),
        path=m.get("path"),
        revision=m.get("revision"),
        dtype=str(m.get("dtype") or "auto"),
        device=str(m.get("device") or "auto"),
        args=dict(m.get("args") or {}),
        seed=seed,
        batch_size=batch,
    )
    spec = JudgeSpec(
        model=model,
        agreement=float(settings.get("agreement", 0.1)),
        min_agreement=float(settings.get("min_agreement", 0.8)),
        max_new_tokens=int(settings.get("max_new_tokens", 16)),
        confirm_above=int(settings.get("confirm_above", 500)),
        confirm=bool(settings.get("confirm", False)),
        batch_size=batch,
    )
    for what, value in (("agreement", spec.agreement), ("min_agreement", spec.min_agreement)):
        if not 0 <= value <= 1:
            raise JudgeSettingError(f"judge.{what} is a share from 0 to 1, got {value}.")
    if spec.max_new_tokens < 1:
        raise JudgeSettingError(
            f"judge.max_new_tokens must be at least 1, got {spec.max_new_tokens}."
        )
    if batch < 1:
        raise JudgeSettingError(f"judge.batch_size must be at least 1, got {batch}.")
    return spec
