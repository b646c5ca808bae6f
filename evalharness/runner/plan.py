"""What a run is before anything is asked: its samples, key and run row, and what of it is
already answered (a resumed run's stored rows, or an older version's run's answers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from evalharness._version import __version__
from evalharness.benchmarks.base import Benchmark
from evalharness.errors import EvalharnessError
from evalharness.extract import DEFAULT_REASONING_TAGS
from evalharness.models._info import former_identity, info_of
from evalharness.models.base import Fittable, Model
from evalharness.runner import provenance
from evalharness.runner._reuse import older_answers, reusable, sample_key
from evalharness.runner.spec import BenchmarkSpec, RunSpec, stable_hash
from evalharness.store import FORMAT_VERSION, META_PREFIX, ResultsStore, RunRecord, stored_text
from evalharness.types import GenerationSettings, Sample

if TYPE_CHECKING:
    from evalharness.judge import Judge


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def generation_for(
    max_new_tokens: int | None,
    benchmark: Benchmark,
    thinking_tokens: int | None = None,
    reasoning_tags: tuple[tuple[str, str], ...] | None = None,
) -> GenerationSettings:
    """The benchmark's generation settings, its answer length overridden when one is given, with
    the thinking budget and the reasoning tags it applies to."""
    g = benchmark.generation
    if max_new_tokens is None and thinking_tokens is None and reasoning_tags is None:
        return g
    tokens = g.max_new_tokens if max_new_tokens is None else max_new_tokens
    return GenerationSettings(tokens, g.temperature, g.stop, thinking_tokens, reasoning_tags)


def run_samples(benchmark: Benchmark, limit: int | None) -> tuple[list[Sample], list[Sample]]:
    """All of the benchmark's samples, and the first `limit` of them: those a run asks."""
    everything = list(benchmark.samples())
    for s in everything:  # a row's other text is stored escaped; its id must match as it is
        if stored_text(s.id) != s.id:
            raise EvalharnessError(
                f"benchmark {benchmark.name!r}: sample id {s.id!r} is not valid text (UTF-8 "
                "cannot encode it); its ids must be, to be stored and resumed."
            )
    return everything, everything[:limit] if limit is not None else everything


def data_hash(samples: Sequence[Sample]) -> str:
    """The hash of a run's sample set (`data_hash` in the runs table)."""
    return stable_hash([s.content_hash() for s in samples], 32)


@dataclass
class RunPlan:
    """What a run is before anything is asked: its samples, key and row."""

    samples: list[Sample]
    generation: GenerationSettings
    key_fields: dict[str, Any]
    run_key: str
    base_row: RunRecord
    judge: Judge | None = None
    former: list[dict[str, Any]] = field(default_factory=list)
    """This run's key fields as earlier versions made them (`former_key_fields`)."""

    @property
    def run_id(self) -> str:
        return self.run_key[:16]

    def key(self, sample: Sample) -> str:
        # Worked out when needed: for a stored row now, for the rest as its batch is prepared
        # (on the worker thread), so that a run does not first hash every image it will ask about.
        return sample_key(self.run_key, sample)


def plan_run(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    source: BenchmarkSpec | None,
    judge: Judge | None = None,
) -> RunPlan:
    all_samples, samples = run_samples(benchmark, spec.limit)
    if isinstance(model, Fittable):
        model.fit(all_samples)
    generation = generation_for(
        spec.max_new_tokens, benchmark, spec.max_thinking_tokens, spec.reasoning_tags
    )
    identity = model.identity()
    key_fields = {
        "format": FORMAT_VERSION,
        "model": identity,
        "label": spec.model_label,
        "blind": spec.blind,
        "benchmark": benchmark.name,
        "version": benchmark.version,
        "generation": generation.as_dict(),
        "seed": spec.seed,
    }
    if spec.reasoning_tags != DEFAULT_REASONING_TAGS:  # other tags read other answers
        key_fields["reasoning_tags"] = [list(pair) for pair in spec.reasoning_tags]
    if judge is not None:  # another judge reads other answers
        key_fields["judge"] = judge.key()
    run_key = stable_hash(key_fields, length=32)
    base_row = run_row(
        spec, model, benchmark, run_key[:16], identity, generation, samples, now(), source
    )
    former = former_key_fields(model, key_fields, judge)
    return RunPlan(samples, generation, key_fields, run_key, base_row, judge, former)


def former_key_fields(
    model: Model, key_fields: dict[str, Any], judge: Judge | None
) -> list[dict[str, Any]]:
    """The run's key fields as versions before `Model.info()` made them: the model's identity
    (and the judge model's) held the model's kind and size, so a run stored then has another
    key. A run under one of these keys is this run; `resume` takes its answers instead of
    asking the model again. Kept in the key, the display info would have stayed a reason to
    ask again (a corrected parameter count); this way only the runs stored before the change
    need the translation. Empty when nothing differs (a plugin model without `info()`)."""
    models = [key_fields["model"]]
    former_model = former_identity(model, key_fields["model"])
    if former_model is not None:
        models.append(former_model)
    judges: list[Any] = [key_fields.get("judge")]
    former_judge = judge.former_key() if judge is not None else None
    if former_judge is not None:
        judges.append(former_judge)
    out = []
    for m in models:
        for j in judges:
            fields = {**key_fields, "model": m}
            if j is not None:
                fields["judge"] = j
            if fields != key_fields:
                out.append(fields)
    return out


def run_row(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    run_id: str,
    identity: dict[str, Any],
    generation: GenerationSettings,
    samples: Sequence[Sample],
    started: str,
    source: BenchmarkSpec | None = None,
) -> RunRecord:
    """The run's row before it is answered; `finish_run` fills in its counts and scores."""
    info = info_of(model)
    return RunRecord(
        run_id=run_id,
        model=spec.model_label,
        model_name=spec.model.name,
        model_identity=json.dumps(identity, sort_keys=True, default=str),
        model_family=info.family_group,
        model_params=float(info.params) if info.params is not None else float("nan"),
        reference=bool(model.reference),
        blind=spec.blind,
        benchmark=benchmark.name,
        benchmark_version=benchmark.version,
        benchmark_spec=json.dumps(
            {"name": source.name, "args": dict(source.args)} if source is not None else None,
            sort_keys=True,
            default=str,
        ),
        capability=benchmark.capability,
        description=described(benchmark),
        difficulty_column=difficulty_column(benchmark),
        config=json.dumps(dict(spec.config), sort_keys=True, default=str),
        generation=json.dumps(generation.as_dict()),
        reasoning_tags=json.dumps([list(pair) for pair in spec.reasoning_tags]),
        harness_version=__version__,
        harness_commit=provenance.harness_commit(),
        libraries=json.dumps(provenance.library_versions(), sort_keys=True),
        device=provenance.device_name(),
        seed=spec.seed,
        batch_size=spec.batch_size,
        limit=float(spec.limit) if spec.limit is not None else float("nan"),
        started_at=started,
        n_samples=len(samples),
        format_version=FORMAT_VERSION,
    )


def described(benchmark: Benchmark) -> str:
    """The benchmark's description as its runs store it (the board shows it)."""
    text = getattr(benchmark, "description", "")
    return text if isinstance(text, str) else ""


def difficulty_column(benchmark: Benchmark) -> str:
    """The samples column that grades the benchmark's items (its `difficulty` metadata field,
    where it names one), as its runs store it: the board plots the score against it."""
    field = getattr(benchmark, "difficulty", "")
    return META_PREFIX + field if isinstance(field, str) and field else ""


@dataclass(frozen=True)
class Resume:
    """What of a run is answered before it asks anything: the reused rows by sample id, and
    where they came from (the run row's `answers_from`)."""

    done: dict[str, dict[str, Any]]
    answers_from: str

    def todo(self, samples: Sequence[Sample]) -> list[Sample]:
        """The samples left to ask, in order."""
        return [s for s in samples if s.id not in self.done]


def resume(store: ResultsStore, benchmark: Benchmark, plan: RunPlan) -> Resume:
    """The run's stored rows that still hold (same resume key, no error); for a new run, an
    older version's run's answers to the same questions. The caller holds the run's lock."""
    done = reusable(store.read_samples(plan.run_id, spare=True), plan.samples, plan.key)
    if done:  # resumed: it keeps what it said of its answers' origin
        return Resume(done, (store.read_run(plan.run_id) or {}).get("answers_from") or "")
    # a new run: an older version's run, or this run as stored before under its former key,
    # may have asked the same already
    done, origin = older_answers(
        store, benchmark, plan.samples, plan.key_fields, plan.run_id, plan.key, plan.former
    )
    return Resume(done, origin)
