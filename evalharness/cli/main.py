"""`evalharness` command line: run, list, leaderboard, rescore, parity.

Only the standard library is imported here, so `evalharness --help` answers at once; each
subcommand imports what it needs.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from evalharness._version import __version__

DESCRIPTION = """Evaluate vision-language models and publish a static leaderboard.

  evalharness run model=oracle benchmark=synth_counting     one model, one benchmark
  evalharness run model=random suite=synthetic limit=50     one model, a suite of benchmarks
  evalharness run -m model=random,prior suite=synthetic     a sweep (Hydra multirun)
  evalharness run sweep=default                             the embedded default sweep
  evalharness leaderboard                                   results/ -> leaderboard/index.html

`evalharness run --help` lists every setting and config group."""

RUN_HELP = """Hydra overrides: key=value (model=NAME, benchmark=NAME, suite=NAME, sweep=NAME,
limit=N, batch_size=N, seed=N, blind=true, results_dir=PATH, model.path=..., ...), -m for sweeps."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="evalharness",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"evalharness {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "run",
        help="run models on benchmarks (Hydra overrides follow)",
        description=RUN_HELP,
        add_help=False,
    )
    ls = sub.add_parser("list", help="list registered models, benchmarks, suites and sweeps")
    ls.add_argument(
        "what",
        nargs="?",
        help="only this kind (models, benchmarks, suites, sweeps), or one by name: a model's "
        "or benchmark's description and settings, a suite's benchmarks, a sweep's models",
    )
    lb = sub.add_parser("leaderboard", help="build the static leaderboard site from results")
    lb.add_argument(
        "--results", default="results", help="results folder to read (default: results)"
    )
    lb.add_argument(
        "--out", default="leaderboard", help="folder to write the site to (default: leaderboard)"
    )
    lb.add_argument("--title", default="evalharness leaderboard", help="site title")
    rs = sub.add_parser(
        "rescore",
        help="redo extraction and scoring of stored runs without the model",
        description=(
            "Redo answer extraction and scoring of every complete run from its stored raw "
            "outputs, with this version's code. A run of an older benchmark version is brought "
            "to the current one when its samples, prompts and generation settings are "
            "unchanged (a new extraction or scoring rule alone gives a new version); otherwise "
            "it is skipped with the reason."
        ),
    )
    rs.add_argument("--results", default="results", help="results folder (default: results)")
    rs.add_argument("--benchmark", action="append", help="only runs of this benchmark (repeatable)")
    pa = sub.add_parser(
        "parity",
        help="score a stored run's answers with the equivalent lmms-eval task, side by side",
        description=(
            "Score the stored raw answers of run RUN_ID again with lmms-eval task TASK's own "
            "filters and process_results (the lmms extra), without the model, and write each "
            "sample's three readings (our official, our robust, lmms-eval's) to "
            "RESULTS/parity/RUN_ID.parquet; `evalharness leaderboard` then shows where they "
            "disagree (parity.html)."
        ),
    )
    pa.add_argument("run_id", help="the stored run (its run_id in the runs table)")
    pa.add_argument("--task", required=True, help="the equivalent lmms-eval task, e.g. vqav2_val")
    pa.add_argument("--results", default="results", help="results folder (default: results)")
    pa.add_argument("--include-path", help="a folder of lmms-eval task YAMLs (--include_path)")
    pa.add_argument("--key", default="", help="the task's document field that equals our sample id")
    pa.add_argument("--metric", help="the lmms-eval metric to compare (default: the task's first)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["run"]:
        return _run(args_list[1:])
    args = _parser().parse_args(args_list)
    if args.command is None:
        _parser().print_help()
        return 0
    from evalharness.errors import EvalharnessError

    try:
        if args.command == "list":
            return _list(args.what)
        if args.command == "leaderboard":
            from evalharness.leaderboard._runs import unranked_summary
            from evalharness.leaderboard._site import build
            from evalharness.leaderboard._table import CSV_FILE, MARKDOWN_FILE, ranking

            index, board = build(args.results, args.out, title=args.title)
            print(*ranking(index.parent / CSV_FILE), *unranked_summary(board), sep="\n")
            tables = f"{index.parent / MARKDOWN_FILE}, {index.parent / CSV_FILE}"
            print(f"leaderboard written: {index} (tables: {tables})")
            return 0
        if args.command == "rescore":
            from evalharness.runner.rescore import rescore

            rescore(args.results, args.benchmark)
            return 0
        if args.command == "parity":
            from evalharness.runner.parity import describe, parity

            report = parity(
                args.results,
                args.run_id,
                args.task,
                include_path=args.include_path,
                key=args.key,
                metric=args.metric,
            )
            print(*describe(report), sep="\n")
            return 0
    except EvalharnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2


def _run(overrides: list[str]) -> int:
    from evalharness.cli.config import OverrideError, check_overrides, normalize_overrides

    asked_help = any(a in ("-h", "--help") for a in overrides)
    overrides = [a for a in overrides if a not in ("-h", "--help")]
    try:
        check_overrides(overrides)
    except OverrideError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from evalharness.cli import ranks

    try:
        count = None if asked_help else ranks.requested(overrides)
    except ranks.RanksError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if count is not None:  # workers=N / devices=…: N ranks through torch's launcher
        return ranks.launch(count, normalize_overrides(overrides))
    from evalharness.cli.hydra_app import run_hydra

    if not asked_help and (problem := _unwritable_results(overrides)):
        print(f"error: {problem}", file=sys.stderr)  # before Hydra writes a sweep's file there
        return 1
    if asked_help:  # the settings as these overrides make them: `run model=hf --help`
        sweep = any(a in ("-m", "--multirun") for a in overrides)
        single = [
            a
            for a in normalize_overrides(overrides)
            if a not in ("-m", "--multirun") and not (sweep and "," in a.partition("=")[2])
        ]  # a sweep's lists have no one value to show
        return run_hydra([*single, "--help"])
    return run_hydra(normalize_overrides(overrides))


def _unwritable_results(overrides: list[str]) -> str | None:
    """Why the results folder these overrides name cannot be written to, or None."""
    import re
    from pathlib import Path

    from evalharness.store._files import unwritable_folder

    given = [a.partition("=")[2] for a in overrides if a.lstrip("+").startswith("results_dir=")]
    folder = given[-1] if given else "results"
    if re.search(r"[,()\[\]{}$]", folder):
        return None  # swept or interpolated: each job's store checks its own
    return unwritable_folder(Path(folder))


KINDS = ("models", "benchmarks", "suites", "sweeps")


def _list(what: str | None) -> int:
    from evalharness import registry
    from evalharness.cli._docs import option_summary
    from evalharness.cli.config import group_options

    def rows(name: str) -> list[tuple[str, str]]:
        if name == "models":
            return registry.models.describe()
        if name == "benchmarks":
            return registry.benchmarks.describe()
        return [(n, option_summary(name[:-1], n)) for n in group_options(name[:-1])]

    if what and what not in KINDS:
        return _details(what)
    for name in KINDS:
        if what and what != name:
            continue
        print(f"{name}:")
        for entry, doc in rows(name):
            print(f"  {entry:<24} {doc}".rstrip())
    return 0


def _details(name: str) -> int:
    """What `evalharness list NAME` says of one model, benchmark, suite or sweep."""
    from evalharness import registry
    from evalharness.cli.config import group_options
    from evalharness.errors import EvalharnessError, did_you_mean

    suites, sweeps = group_options("suite"), group_options("sweep")
    if name in registry.benchmarks.names():
        _benchmark_details(name)
    elif name in registry.models.names():
        _model_details(name)
    elif name in suites or name in sweeps:
        _config_details("suite" if name in suites else "sweep", name)
    else:
        names = [*KINDS, *registry.models.names(), *registry.benchmarks.names(), *suites, *sweeps]
        options = sorted(set(names))
        raise EvalharnessError(f"nothing to list called {name!r}.{did_you_mean(name, options)}")
    return 0


def _benchmark_details(name: str) -> None:
    import inspect

    from evalharness import registry
    from evalharness.cli._docs import setting_docs
    from evalharness.runner.job import benchmark_settings

    factory: Any = registry.benchmarks.get(name)
    print(f"benchmark {name}: {registry.benchmarks.summary(name)}".rstrip())
    if getattr(factory, "capability", ""):
        print(f"  capability: {factory.capability}")
    official = getattr(factory, "official", None)
    if official is not None:  # it reads every answer twice (docs/protocols.md)
        print(f"  official scoring: {official.script}; where it differs from ours:")
        for quirk in official.quirks:
            print(f"    - {quirk}")
    params = benchmark_settings(name)
    if params:
        docs = setting_docs(factory) if isinstance(factory, type) else {}
        print("  settings (benchmark.args.KEY=VALUE; in suites benchmark_args.NAME.KEY=VALUE):")
        for p in params:
            default = "" if p.default is inspect.Parameter.empty else f" = {p.default!r}"
            what = f": {docs[p.name]}" if p.name in docs else ""
            print(f"    {p.name}{default}{what}")


def _model_details(name: str) -> None:
    from evalharness import registry
    from evalharness.cli._docs import setting_docs
    from evalharness.models.settings import describe, settings_type

    factory = registry.models.get(name)
    print(f"model {name}: {registry.models.summary(name)}".rstrip())
    cls = settings_type(factory)
    if cls is None:
        print("  its model.args settings are not declared (it reads them itself)")
        return
    fields = describe(cls)
    if not fields:
        print("  no model.args settings")
        return
    docs = setting_docs(cls)
    print("  settings (model.args.KEY=VALUE):")
    for key, default, allowed in fields:
        values = f" ({allowed})" if allowed else ""
        what = f": {docs[key]}" if key in docs else ""
        print(f"    {key} = {default}{values}{what}")


def _config_details(group: str, name: str) -> None:
    """A suite's benchmarks or a sweep's swept settings, from its config file."""
    from omegaconf import OmegaConf

    from evalharness.cli._docs import option_summary
    from evalharness.cli.config import configs_dir

    node: Any = OmegaConf.to_container(OmegaConf.load(configs_dir() / group / f"{name}.yaml"))
    print(f"{group} {name}: {option_summary(group, name)}".rstrip())
    if group == "suite":
        print(f"  benchmarks: {', '.join(node.get('benchmarks') or [])}")
        print(f"  run it: evalharness run model=NAME suite={name}")
        return
    swept = (node.get("hydra") or {}).get("sweeper", {}).get("params", {})
    for key, values in swept.items():
        print(f"  {key}: {values}")
    print(f"  run it: evalharness run sweep={name}")


def cli() -> NoReturn:
    """The console script: `main`, then a quick exit.

    With torch, torchvision and transformers loaded, the interpreter's own teardown (freeing
    every module one by one) takes well over a second after the work is done. Everything we
    write is flushed and closed by then, so the exit handlers run and the process ends (a normal
    exit where other threads still run).
    """
    code = main()
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(not t.daemon for t in others):
        sys.exit(code)  # worker pools (joblib's) shut down in the normal exit's order
    try:
        atexit._run_exitfuncs()  # what a normal exit runs first: loggers, temp files, pools
        logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


if __name__ == "__main__":
    cli()
