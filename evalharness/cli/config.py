"""Structured config schemas, and checks of command-line overrides before Hydra sees them.

Hydra's own errors for a misspelt key or an unknown group option are accurate but terse; these
checks say what is wrong, suggest the closest valid name and list the valid ones.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalharness.cli._search import check_yaml, existing, launcher_options, search_dirs
from evalharness.errors import EvalharnessError, did_you_mean

GROUPS = ("model", "benchmark", "suite", "sweep", "judge")


@dataclass
class ModelConfig:
    name: str = "oracle"
    label: str | None = None
    path: str | None = None
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class BenchmarkConfig:
    name: str = "???"
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class SuiteConfig:
    name: str = ""
    benchmarks: list[str] = field(default_factory=list)
    average: str = ""
    """How the board averages the suite, in words (shown under its table); empty: no average."""


@dataclass
class JudgeConfig:
    """A judge model (`evalharness.judge`): any model route, read by `judge.model.*`."""

    model: ModelConfig = field(default_factory=ModelConfig)
    agreement: float = 0.1
    min_agreement: float = 0.8
    max_new_tokens: int = 16
    confirm_above: int = 500
    confirm: bool = False
    batch_size: int = 8


@dataclass
class EvalConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    benchmark: BenchmarkConfig | None = None
    suite: SuiteConfig | None = None
    judge: JudgeConfig | None = None
    benchmark_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Settings per benchmark name, applied in suites too: benchmark_args.synth_counting.n=50."""
    protocol: str | None = None
    """Headline scoring of every benchmark that defines two: official or robust (null: each one's own)."""
    results_dir: str = "results"
    limit: int | None = None
    batch_size: int = 8
    seed: int = 0
    blind: bool = False
    max_error_rate: float = 0.1
    max_new_tokens: int | None = None
    max_thinking_tokens: int | None = None
    """Tokens a reasoning model may think before it must answer in max_new_tokens more (null: one budget)."""
    reasoning_tags: list[list[str]] | None = None
    """[open, close] tag pairs of a reasoning trace (null: <think>, <thinking>, <reasoning>, ◁think▷)."""
    progress: bool = True
    flush_s: float = 1.0
    max_image_pixels: int = 40_000_000
    shards: int | None = None
    """Split each run's samples into this many shards, one worker each (`runner.shards`)."""
    shard: int | None = None
    """Which shard this job answers (0 to shards-1); a sweep (-m) over all of them by default."""
    workers: int | None = None
    """Start this many ranks on this machine through torch's launcher, one shard each."""
    devices: str | None = None
    """GPUs for the ranks (`devices=0,1,2,3`): one rank per device."""


def configs_dir() -> Path:
    """`configs/` of a source checkout, else the copy packaged inside the wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "configs", here / "configs"):
        if (candidate / "config.yaml").exists():
            return candidate
    raise FileNotFoundError("evalharness configs not found; reinstall evalharness")


def group_options(group: str, extra: Sequence[Path] = ()) -> list[str]:
    """Options of a config group: its YAML files (in `configs/` and the `extra` folders a user
    adds, `cli._search`) plus registered names without one."""
    names = {p.stem for folder in (configs_dir(), *extra) for p in (folder / group).glob("*.yaml")}
    if group in ("model", "benchmark"):
        from evalharness import registry

        reg = registry.models if group == "model" else registry.benchmarks
        names |= set(reg.names())
    return sorted(names)


def register_schemas() -> None:
    """Schemas, plus a config node for each registered plugin that ships no YAML."""
    from hydra.core.config_store import ConfigStore

    from evalharness import registry

    cs = ConfigStore.instance()
    cs.store(name="schema", node=EvalConfig)
    base = configs_dir()
    for name in registry.models.names():
        if not (base / "model" / f"{name}.yaml").exists():
            cs.store(group="model", name=name, node=ModelConfig(name=name))
    for name in registry.benchmarks.names():
        if not (base / "benchmark" / f"{name}.yaml").exists():
            cs.store(group="benchmark", name=name, node=BenchmarkConfig(name=name))


class OverrideError(EvalharnessError, ValueError):
    """A command-line override names an unknown key or option."""


_FIELDS = {
    "": [f.name for f in dataclasses.fields(EvalConfig)],
    "model": [f.name for f in dataclasses.fields(ModelConfig)],
    "benchmark": [f.name for f in dataclasses.fields(BenchmarkConfig)],
    "suite": [f.name for f in dataclasses.fields(SuiteConfig)],
    "judge": [f.name for f in dataclasses.fields(JudgeConfig)],
}
_FREE = (
    "model.args.",
    "benchmark.args.",
    "benchmark_args.",
    "judge.model.args.",
    "hydra.",
    "hydra/",
)
# the typed top-level settings, by their annotation (this module's annotations are strings)
_SCALARS = {
    f.name: str(f.type)
    for f in dataclasses.fields(EvalConfig)
    if str(f.type) in ("int", "int | None", "float", "float | None", "bool")
}
_TRUTHS = ("true", "false", "yes", "no", "on", "off", "y", "n", "1", "0")


TAGS_EXAMPLE = "\"reasoning_tags=[['<think>','</think>'],['<reflect>','</reflect>']]\""


def _check_value(key: str, value: str) -> None:
    """A typed setting's value must read as its type (sweep lists and interpolations aside)."""
    listed = value.lstrip().startswith(("[", "$")) or value.strip().lower() in ("null", "none", "~")
    if key == "reasoning_tags" and not listed:
        raise OverrideError(
            f"reasoning_tags takes a list of [open, close] tag pairs (or null), got {value!r}; "
            f"e.g. {TAGS_EXAMPLE}."
        )
    kind = _SCALARS.get(key)
    if kind is None or re.search(r"[,()\[\]{}$]", value):
        return
    if kind.endswith(" | None") and value.strip().lower() in ("null", "none", "~"):
        return
    base = kind.removesuffix(" | None")
    try:
        if base == "bool":
            ok = value.strip().lower() in _TRUTHS
        else:
            (int if base == "int" else float)(value)
            ok = True
    except ValueError:
        ok = False
    if not ok:
        what = {"int": "a whole number", "float": "a number", "bool": "true or false"}[base]
        null = " (or null)" if kind.endswith(" | None") else ""
        raise OverrideError(f"{key} takes {what}{null}, got {value!r}.")


def check_overrides(args: list[str]) -> None:
    """Raise OverrideError for a misspelt key, an unknown model/benchmark/suite/sweep name (of
    `configs/` or the user's own config folders) or launcher, a chosen file that is no YAML, or
    a `model.args` setting that the model named here does not take."""
    _check_names(args, search_dirs(args))
    _check_model_args(args)


def _check_names(args: list[str], extra: list[Path]) -> None:
    for arg in args:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        key = key.lstrip("+~")
        if key == "hydra/launcher":
            options = launcher_options()
            if value not in options:
                raise OverrideError(
                    f"unknown hydra/launcher {value!r}.{did_you_mean(value, options)}"
                )
            continue
        if key.startswith(_FREE) or key in ("hydra",):
            continue
        if key in GROUPS:
            _check_option(key, value, extra)
            continue
        head, _, rest = key.partition(".")
        if not rest:
            valid = _FIELDS[""] + list(GROUPS)
            if key not in valid:
                raise OverrideError(f"unknown key {key!r}.{did_you_mean(key, valid)}")
            _check_value(key, value)
        elif head in _FIELDS:
            sub = rest.split(".")[0]
            if sub not in _FIELDS[head]:
                raise OverrideError(
                    f"unknown key {key!r}.{did_you_mean(sub, _FIELDS[head])}".replace(
                        "Known:", f"{head} keys:"
                    )
                )
        else:
            valid = _FIELDS[""] + list(GROUPS)
            raise OverrideError(f"unknown key {key!r}.{did_you_mean(head, valid)}")


def _check_model_args(args: list[str]) -> None:
    """`model.args.KEY=VALUE` checked against the settings of each model named by `model=`:
    an unknown key or a value its type does not take is refused before anything runs. Values
    that Hydra resolves itself (sweep lists, interpolations, quoted or nested ones) are left to
    the model, which parses all its settings when it is built."""
    from evalharness import registry
    from evalharness.models.settings import check_given, settings_type

    names: list[str] = []
    given: dict[str, Any] = {}
    for arg in args:
        key, eq, value = arg.partition("=")
        key = key.lstrip("+")
        if not eq or key.startswith("~"):
            continue
        if key == "model":
            names += [n.strip() for n in value.split(",") if n.strip()]
        elif key.startswith("model.args."):
            top, _, nested = key.removeprefix("model.args.").partition(".")
            plain = not nested and not re.search(r"[,()\[\]{}$'\"]", value)
            given[top] = value if plain and value not in ("null", "~") else None
    if not given:
        return
    for name in dict.fromkeys(names):
        try:
            cls = settings_type(registry.models.get(name))
        except Exception:  # unknown names are refused above; a broken plugin fails in its job
            continue
        if cls is not None:
            unread = {k for k, v in given.items() if v is None}
            check_given(cls, given, f"model {name!r}", OverrideError, unread)


def normalize_overrides(args: list[str]) -> list[str]:
    """Let free-form settings (model.args.x=…, benchmark_args.b.x=…) be added without `+`.

    `model=P:X` / `benchmark=P:X` (a name a registered prefix `P` resolves, as `lmms:vqav2`) is
    no config file, so it becomes `GROUP=P ++GROUP.name=P:X`; a list (`lmms:a,lmms:b`) becomes a
    sweep over `GROUP.name`. A `model_args` string of `k=v` pairs is quoted for Hydra's parser.
    """
    out = []
    for arg in args:
        key, eq, value = arg.partition("=")
        if eq and key in ("model", "benchmark") and ":" in value:
            out += _prefixed_option(key, value)
            continue
        if eq and key.endswith(".model_args") and "=" in value and value[0] not in "'\"":
            quote = "'" if '"' in value else '"'
            arg = f"{key}={quote}{value}{quote}"
        if eq and not key.startswith(("+", "~")) and key.startswith(_FREE[:4]):
            arg = "++" + arg
        out.append(arg)
    return out


def _prefixed_option(group: str, value: str) -> list[str]:
    # check_overrides has made sure that every name in the list has the same prefix
    return [f"{group}={value.partition(':')[0].strip()}", f"++{group}.name={value}"]


def _check_option(group: str, value: str, extra: Sequence[Path] = ()) -> None:
    if value in ("null", "") or re.search(r"[()\[\]{}$]", value):
        return  # null, or sweep syntax Hydra resolves itself
    options = group_options(group, extra)
    names = [n.strip() for n in value.split(",") if n.strip()]
    prefixes = {n.partition(":")[0] + (":" if ":" in n else "") for n in names}
    if len(prefixes) > 1 and any(p.endswith(":") for p in prefixes):
        raise OverrideError(
            f"{group}={value}: names with a prefix (P:NAME) can only be swept together with names "
            "of the same prefix; run the others in a separate command."
        )
    for name in value.split(","):
        name = name.strip().partition(":")[0]  # `lmms:vqav2`: the prefix is the registered name
        if name and name not in options:
            raise OverrideError(f"unknown {group} {name!r}.{did_you_mean(name, options)}")
        for path in existing([configs_dir(), *extra], group, name):
            try:
                check_yaml(path)
            except EvalharnessError as exc:
                raise OverrideError(str(exc)) from exc
