"""The results schema: the `runs` and `samples` tables, one typed record each.

Every column is a field here, with its type, its meaning and the value a row stored by an older
version reads as (`evalharness.store._columns`); the column families named at run time are
prefixes. The runner makes its rows from these records, the readers take columns and types from
them, and docs/results-schema.md is generated from them (`python -m evalharness.store`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from evalharness.store._columns import Prefix, Record, column

METRIC_PREFIX = "metric_"
"""Per-sample metric columns: `metric_<name>` for each name a benchmark's scoring gives."""
META_PREFIX = "meta_"
"""Per-sample metadata columns: `meta_<key>` for each scalar field of a sample's metadata."""

NAN = math.nan


@dataclass(frozen=True, kw_only=True)
class RunRecord(Record):
    """One row of the `runs` table: a run (model × benchmark × settings)."""

    TABLE: ClassVar[str] = "runs"

    run_id: str = column("stable id of the run")
    model: str = column('display name on the board (`"NAME (blind)"` for blind runs)')
    model_name: str = column("registry name (`oracle`, `hf`, `tiny_llava`, …)")
    model_identity: str = column(
        "the model's `identity()`: everything that can change an answer (path or hub id, "
        "revision or weights hash, dtype, settings); part of `run_id`. Runs written before "
        "`Model.info()` also hold `family_group` and `params` here",
        json=True,
    )
    model_family: str = column(
        "from the model's `info()`: `generative`, `contrastive`, `masking`, `captioner`, `api`, "
        "`reference` or `unknown`"
    )
    model_params: float = column("parameter count, from the model's `info()` (NaN when unknown)")
    reference: bool = column("oracle / prior / random baselines")
    blind: bool = column("images replaced by mid-gray images of the same size")
    benchmark: str = column("registry name")
    benchmark_version: str = column(
        "changes whenever generator, parameters, prompts, scoring or answer extraction "
        "(`evalharness.extract.VERSION`) change; `evalharness rescore` moves a run to the current "
        "version when its samples, prompts and generation settings are unchanged"
    )
    answers_from: str = column(
        "the run (of an older benchmark version) whose stored answers this run took over, or "
        "empty; its row names the harness and libraries that produced them",
        default="",
    )
    benchmark_spec: str | None = column(
        '`{"name", "args"}` the benchmark was built from (what `evalharness rescore` rebuilds); '
        "null in runs stored before the column: rescore reads them from `config`",
        json=True,
    )
    capability: str = column(
        "capability group: `vqa`, `captioning`, `counting`, `spatial`, `binding`, "
        "`hallucination`, `text`, `adherence`"
    )
    description: str = column(
        "the benchmark's one-line description, as the board shows it; empty in runs stored "
        "before the column until `evalharness rescore` fills it in"
    )
    difficulty_column: str = column(
        "the samples column that grades an item's difficulty (the benchmark's `difficulty`, "
        "e.g. `meta_true_count`): the board plots the score against it; empty when the "
        "benchmark names none, and in runs stored before the column until `evalharness rescore`"
    )
    data_hash: str = column(
        "hash of the content hashes of all samples of the run (empty until the run completes)",
        default="",
    )
    config: str = column("the resolved configuration of the job", json=True)
    generation: str = column(
        "decoding settings (`max_new_tokens`, `temperature`, `stop`)", json=True
    )
    reasoning_tags: str | None = column(
        "the `[open, close]` tag pairs split off each reply as its reasoning trace "
        "(`reasoning_tags`); part of the run's key when not the defaults. Null in runs stored "
        "before the setting: rescore reads them with the defaults",
        json=True,
    )
    harness_version: str = column("evalharness version")
    harness_commit: str = column("evalharness git commit (empty when unknown)")
    libraries: str = column("versions of python, torch, transformers, numpy, pandas, …", json=True)
    device: str = column("`cpu`, `cuda:0 (NVIDIA H100 …)`, …")
    seed: int = column("the run's random seed (sampling, baselines, bootstrap)")
    batch_size: int = column("samples per model call")
    limit: float = column("sample cap (NaN for none)")
    started_at: str = column("ISO-8601 UTC")
    finished_at: str = column("ISO-8601 UTC; empty while the run runs", default="")
    n_samples: int = column("samples the run asks")
    n_errors: int = column("samples that failed (`error`)", default=0)
    n_unsupported: int = column("samples the model cannot answer (`unsupported`)", default=0)
    n_truncated: int = column(
        "samples whose reply ended inside its reasoning trace (`read_status` `truncated`); 0 in "
        "runs stored before the column",
        default=0,
    )
    judge: str = column(
        "the run's judge: `key` (identity, revision, answer length, prompts: part of `run_id`), "
        "`settings` (what rescore builds it from), `agreement` and `flagged` (agreement below "
        "`judge.min_agreement`); empty without a judge",
        default="",
        json=True,
    )
    status: str = column(
        "`running` (or its process was killed), `complete`, `interrupted` (Ctrl-C, SIGTERM or "
        "SIGHUP) or `failed` (an error stopped it, such as a full disk, or its error rate was "
        "above `max_error_rate`); rerunning the command resumes all but `complete`. Only "
        "`complete` runs are ranked",
        default="running",
    )
    status_reason: str = column(
        "why a run is `interrupted` or `failed` (`stopped by SIGTERM`, `error rate 7/20 above "
        "max_error_rate=0.1; most common …`, the error that stopped it); empty otherwise. The "
        "leaderboard lists the run with it",
        default="",
    )
    score: float = column(
        "primary score; its 95 % CI in `score_ci_low` and `score_ci_high`",
        default=NAN,
    )
    score_ci_low: float = column(
        "the primary score's 95 % CI, lower end: clustered bootstrap; for a [0, 1] score whose "
        "items all scored 0 (or all 1), the exact binomial interval over the clusters "
        "(`evalharness.stats`)",
        default=NAN,
    )
    score_ci_high: float = column("the primary score's 95 % CI, upper end", default=NAN)
    score_bounded: bool = column(
        "the primary score lies in [0, 1] (accuracies, rates, ROUGE-L…): the leaderboard keeps "
        "its resampled draws, and so every interval built from them, in [0, 1]",
        default=False,
    )
    metrics: str = column(
        '`{name: {"value", "ci_low", "ci_high", "n"}}` for every aggregate, with `"note"` '
        "saying why where a value is NaN by the benchmark's rule (an official script's division "
        "by zero)",
        default="{}",
        json=True,
    )
    format_version: int = column("result-format version")
    escaped: str | None = column(
        "the columns of this row stored escaped because UTF-8 cannot encode their text (see "
        "above), null when none",
        default=None,
        json=True,
    )


@dataclass(frozen=True, kw_only=True)
class SampleRecord(Record):
    """One row of the `samples` table: a sample of a run, as asked, answered and scored."""

    TABLE: ClassVar[str] = "samples"
    PREFIXES: ClassVar[tuple[Prefix, ...]] = (
        Prefix(
            METRIC_PREFIX,
            "float",
            "every per-sample metric value; `metric_official` and `metric_robust` hold the two "
            "protocols' scores, `metric_official_<name>` the official reading's own columns",
        ),
        Prefix(
            META_PREFIX,
            "scalar",
            "the sample's scalar metadata fields (true count, relation, …)",
            part="key",
        ),
    )

    run_id: str = column("as in `runs`")
    model: str = column("as in `runs`")
    benchmark: str = column("as in `runs`")
    benchmark_version: str = column("as in `runs`")
    sample_id: str = column("unique within a benchmark version")
    cache_key: str = column("resume key")
    group: str = column("cluster for the bootstrap (items sharing an image)")
    category: str = column("question type")
    prompt: str = column("the text the model saw")
    mode: str = column("`generate` or `choice` (how the model was asked)", default="")
    form: str = column(
        "`open` or `choice` (how the answer was read); empty when unsupported", default=""
    )
    prediction: str | None = column(
        "raw model output, whole, reasoning trace included (null for choice scoring)",
        default=None,
    )
    reasoning: str | None = column(
        "the reasoning trace split off the reply (the text between `reasoning_tags`; several "
        "traces joined by a blank line); null when the reply has none. The answer is read from "
        "what follows it",
        default=None,
    )
    reasoning_tokens: int | None = column(
        "the trace's length in tokens, where the model counts it (null otherwise)", default=None
    )
    read_status: str = column(
        "how the answer was read: `rule` (the extraction rules read one), `judge` (the rules "
        "read none and the judge model named one, read back by the benchmark's scoring; or, for "
        "a benchmark whose official script has a judge read every reply, HallusionBench, the "
        "judge's verdict is the headline official reading), `unreadable` (they found none, or "
        "two different ones, and no judge read one), `truncated` (the reply ended inside its "
        "trace, as when `max_new_tokens` cut it: scored as no answer and counted in the run's "
        "`n_truncated`), `scores` (from per-option scores); empty for failed and unsupported "
        "samples",
        default="",
    )
    judge_answer: str | None = column(
        "the judge's answer (an allowed label: an option letter, an answer of the answer space, "
        "or a short answer; HallusionBench's official verdict `correct`, `incorrect` or "
        "`uncertain`); null where it was not asked or gave none",
        default=None,
    )
    judge_reply: str | None = column(
        "the judge's raw reply, whole; null where it was not asked or failed", default=None
    )
    judge_prompt_hash: str | None = column(
        "hash of the exact prompt the judge was asked (the verdict cache's key with the judge's)",
        default=None,
    )
    judge_reason: str | None = column(
        "why the judge gave no verdict: `none`, a label outside the allowed ones, a timeout or "
        "error, not confirmed (`judge.confirm_above`); null otherwise",
        default=None,
    )
    judge_agrees: float = column(
        "1 or 0 where the rules read the reply and the judge was asked too (the "
        "`judge.agreement` share; for HallusionBench every reply the judge answered, its verdict "
        "against the rules'); NaN elsewhere",
        default=NAN,
    )
    choice_scores: str | None = column(
        "per-option scores, when the model scored options", default=None, json=True
    )
    first_tokens: str | None = column(
        "where the sample asks for them (VSR), the probabilities of the first token of each "
        'asked word at the reply\'s first step: `{"probs": {"True": 0.71, "False": 0.12}}`, a '
        'word the model could not give null, and `"note"` saying why ([models.md](models.md)); '
        "null elsewhere and in rows stored before the column",
        default=None,
        json=True,
    )
    extracted: str | None = column(
        "the answer extracted from the raw output (null when none)", default=None
    )
    target: str = column("canonical target")
    targets: str = column("all accepted answers", json=True)
    choices: str | None = column("options of choice items", json=True)
    score: float = column(
        "primary per-sample score (NaN when unsupported): the headline protocol's, where the "
        "benchmark has two ([protocols.md](protocols.md))",
        default=NAN,
    )
    error: str | None = column(
        '`"TypeName: message"` when the sample failed, else null', default=None
    )
    unsupported: bool = column(
        "the model cannot answer this kind of item (not an error)", default=False
    )
    latency_s: float = column(
        "the sample's share of its batch's wall time in the model's call (input work a model "
        "prepared ahead, on the runner's worker thread, is not counted)",
        default=0.0,
    )
    input_tokens: int | None = column("prompt tokens, when the model reports them", default=None)
    output_tokens: int | None = column("reply tokens, when the model reports them", default=None)
    image_ids: str = column(
        "fingerprints of the sample's images (thumbnails under `images/`)", json=True
    )
    metadata: str = column("the full metadata, scene graph included", json=True)
    escaped: str | None = column(
        "the columns of this row stored escaped because UTF-8 cannot encode their text (a lone "
        "surrogate in `prediction`, say; see above), null when none",
        default=None,
        json=True,
    )
