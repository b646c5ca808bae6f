"""The Hydra side of `evalharness run`: compose the config, turn it into a RunSpec, run the job.

Each Hydra job is one model against one benchmark or suite. Jobs may run in other processes
or machines (joblib, submitit, SLURM), so each job reports how it ended through the results
folder (`cli.outcomes`); the launching process turns that into the exit code and the errors on
its terminal after the sweep.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalharness.cli import outcomes
from evalharness.errors import Stopped


def to_run_spec(cfg: Any) -> Any:
    from omegaconf import OmegaConf

    from evalharness import registry
    from evalharness.errors import did_you_mean
    from evalharness.extract import DEFAULT_REASONING_TAGS, check_tags
    from evalharness.models.base import ModelSpec
    from evalharness.runner import BenchmarkSpec, JobError, RunSpec

    names: list[str] = []
    if cfg.benchmark is not None:
        names.append(cfg.benchmark.name)
    if cfg.suite is not None:
        names += [n for n in cfg.suite.benchmarks if n not in names]
    if not names:
        raise JobError(
            "nothing to run: give benchmark=NAME or suite=NAME (see `evalharness list`)."
        )
    per_bench = OmegaConf.to_container(cfg.benchmark_args, resolve=True)
    assert isinstance(per_bench, dict)
    # settings for a benchmark this job does not run are fine (a sweep over benchmarks sets
    # each one's); for a name that is no benchmark at all, they are a typo
    known = registry.benchmarks.names()
    for key in map(str, per_bench):
        if key not in known and key not in names:
            hint = did_you_mean(key, known)
            raise JobError(f"benchmark_args.{key}: there is no benchmark {key!r}.{hint}")
    if cfg.protocol is not None and cfg.protocol not in ("official", "robust"):
        raise JobError(f"protocol is official or robust (or null), got {cfg.protocol!r}.")
    benchmarks = []
    for name in names:
        args = dict(per_bench.get(name, {}))
        if cfg.benchmark is not None and name == cfg.benchmark.name:
            args.update(OmegaConf.to_container(cfg.benchmark.args, resolve=True))  # type: ignore[arg-type]
        if cfg.protocol is not None and "protocol" not in args and _reads_twice(name):
            args["protocol"] = cfg.protocol  # a benchmark's own setting wins
        benchmarks.append(BenchmarkSpec(name, args))
    from evalharness.runner.shards import rank_device, shard_from

    shard = shard_from(cfg.shards, cfg.shard)
    m = cfg.model
    model = ModelSpec(
        name=m.name,
        label=m.label or "",
        path=m.path,
        revision=m.revision,
        dtype=m.dtype,
        device=rank_device(m.device) if shard is not None else m.device,
        args=OmegaConf.to_container(m.args, resolve=True),  # type: ignore[arg-type]
        seed=cfg.seed,
        batch_size=cfg.batch_size,
    )
    if cfg.batch_size < 1:
        raise JobError(f"batch_size must be at least 1, got {cfg.batch_size}.")
    if cfg.max_image_pixels < 1:
        raise JobError(f"max_image_pixels must be at least 1, got {cfg.max_image_pixels}.")
    if cfg.flush_s < 0:
        raise JobError(f"flush_s must be 0 or more seconds, got {cfg.flush_s}.")
    if cfg.limit is not None and cfg.limit < 1:
        raise JobError(f"limit must be at least 1 (or null for no limit), got {cfg.limit}.")
    if cfg.max_new_tokens is not None and cfg.max_new_tokens < 1:
        raise JobError(
            "max_new_tokens must be at least 1 (or null for each benchmark's own), "
            f"got {cfg.max_new_tokens}."
        )
    if cfg.max_thinking_tokens is not None and cfg.max_thinking_tokens < 1:
        raise JobError(
            "max_thinking_tokens must be at least 1 (or null for one budget), "
            f"got {cfg.max_thinking_tokens}."
        )
    try:
        tags = DEFAULT_REASONING_TAGS
        if cfg.reasoning_tags is not None:
            tags = check_tags(OmegaConf.to_container(cfg.reasoning_tags, resolve=True))
    except ValueError as exc:
        raise JobError(str(exc)) from exc
    if not 0 <= cfg.max_error_rate <= 1:
        raise JobError(
            f"max_error_rate is a share of samples, from 0 to 1; got {cfg.max_error_rate}."
        )
    judge = None
    if cfg.get("judge") is not None:
        from evalharness.judge import judge_spec

        settings = OmegaConf.to_container(cfg.judge, resolve=True)
        assert isinstance(settings, dict)
        try:
            judge = judge_spec(settings, cfg.seed)
        except ValueError as exc:
            raise JobError(str(exc)) from exc
    return RunSpec(
        model=model,
        benchmarks=tuple(benchmarks),
        results_dir=cfg.results_dir,
        limit=cfg.limit,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        blind=cfg.blind,
        max_error_rate=cfg.max_error_rate,
        max_new_tokens=cfg.max_new_tokens,
        max_thinking_tokens=cfg.max_thinking_tokens,
        reasoning_tags=tags,
        judge=judge,
        progress=cfg.progress,
        flush_s=cfg.flush_s,
        max_image_pixels=cfg.max_image_pixels,
        config=_stored_config(cfg),
        shard=shard,
    )


EXECUTION = ("shards", "shard", "workers", "devices")
"""Settings of how a run is spread over workers: not stored with it (its results and row are
the same however it was spread)."""


def _stored_config(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(config, dict)
    return {str(k): v for k, v in config.items() if k not in EXECUTION}


def task(cfg: Any) -> None:
    """Run one Hydra job; expected failures print one line, crashes print their traceback."""
    from evalharness.errors import EvalharnessError

    label = f"{cfg.model.name}"
    message: str | None = None
    shown = False
    done = False
    try:
        spec = to_run_spec(cfg)
        label = spec.model_label
        from evalharness.runner import run_job

        run_job(spec)
        done = True
    except EvalharnessError as exc:
        message, shown = _fail(label, str(exc)), True
    except Exception as exc:
        traceback.print_exc()
        message, shown = _fail(label, f"crashed: {type(exc).__name__}: {exc}"), True
    finally:
        title = _job_title(label, cfg)
        if not done and message is None:  # stopped by Ctrl-C or a signal
            message = f"{label}: interrupted; its answers so far are saved"
        shown_by = os.getpid() if shown else 0
        outcomes.record(outcomes.Outcome(title, done, message or "", shown_by))


def _job_title(label: str, cfg: Any) -> str:
    """'MODEL × BENCHMARK-OR-SUITE', for the sweep's bar."""
    target = cfg.benchmark.name if cfg.get("benchmark") is not None else None
    if target is None and cfg.get("suite") is not None:
        target = cfg.suite.name or "suite"
    return f"{label} × {target}" if target else label


def _fail(label: str, message: str) -> str:
    """Show a job's error on its terminal; the message as the launching process reports it."""
    print(f"error: {label}: {message}", file=sys.stderr)
    return f"{label}: {message}"


def stop_on_signals() -> dict[int, Any]:
    """SIGTERM and SIGHUP raise `Stopped` in the main thread, as Ctrl-C raises
    KeyboardInterrupt: what was answered is written and the run is marked interrupted. A second
    such signal ends the process at once. Returns the handlers replaced (none off the main
    thread, where signals cannot be handled)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum: int, frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)  # the next one is not caught
        raise Stopped(signal.Signals(signum).name)

    replaced: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        replaced[sig] = signal.signal(sig, stop)
    return replaced


def run_hydra(overrides: Sequence[str]) -> int:
    """Run Hydra on these overrides; returns the process exit code."""
    import hydra

    from evalharness.cli.config import configs_dir, register_schemas

    register_schemas()
    main = hydra.main(config_path=str(configs_dir()), config_name="config", version_base="1.3")(
        task
    )
    saved = sys.argv
    extra = [*_launcher_overrides(overrides), *_shard_overrides(overrides)]
    sys.argv = ["evalharness run", *overrides, *extra]
    handlers = stop_on_signals()
    try:
        main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            return int(exc.code) if isinstance(exc.code, int) else 1
    except KeyboardInterrupt as exc:
        name = exc.signal_name if isinstance(exc, Stopped) else "SIGINT"
        said = f" ({name})" if isinstance(exc, Stopped) else ""
        print(
            f"\ninterrupted{said}: the answers so far are saved (the run is marked "
            "interrupted); run the same command again to go on from where it stopped.",
            file=sys.stderr,
        )
        return 128 + int(getattr(signal, name))
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        sys.argv = saved
        board = os.environ.get(outcomes.JOBS_ENV)
        failures = [o for o in outcomes.read_outcomes(Path(board) if board else None) if not o.ok]
        outcomes.close_board(Path(board) if board else None)
    return report_failures(failures)


def _launcher_overrides(overrides: Sequence[str]) -> list[str]:
    """Hydra's submitit launchers swapped for ours, which survive a job that ends without a
    result (`cli.launchers`)."""
    chosen = [o.partition("=")[2] for o in overrides if o.startswith("hydra/launcher=")]
    if not chosen:
        return []
    from evalharness.cli.launchers import TARGETS

    target = TARGETS.get(chosen[-1])
    return [f"hydra.launcher._target_={target}"] if target else []


def _shard_overrides(overrides: Sequence[str]) -> list[str]:
    """A sweep (-m) with `shards=N` and no `shard` runs every shard: one job each."""
    if not any(o in ("-m", "--multirun") for o in overrides):
        return []
    given = dict(o.partition("=")[::2] for o in overrides if "=" in o)
    count = given.get("shards", "")
    if "shard" in given or not count.strip().isdigit() or int(count) < 2:
        return []
    return [f"shard=range(0,{int(count)})"]


def report_failures(failures: Sequence[outcomes.Outcome]) -> int:
    """The exit code of a run or sweep; the errors that no terminal has shown yet are printed
    (a job run elsewhere wrote its own to a log file), and two or more are listed together."""
    if not failures:
        return 0
    if len(failures) == 1:
        [failure] = failures
        if not failure.shown_here:
            print(f"error: {failure.message}", file=sys.stderr)
        return 1
    listed = [f.message.replace("\n", "\n    ") for f in failures]
    print(f"{len(failures)} jobs failed:", *listed, sep="\n  ", file=sys.stderr)
    return 1


def _reads_twice(name: str) -> bool:
    """Whether benchmark `name` defines an official reading beside ours (a `protocol` setting)."""
    from evalharness import registry

    try:
        factory = registry.benchmarks.get(name)
    except Exception:  # an unknown or broken one is reported where it is built
        return False
    return getattr(factory, "official", None) is not None
