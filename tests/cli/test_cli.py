"""The command line: typos, unknown names, sweeps, launchers, plugins, exit codes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from results_helpers import wait_for_answers

from evalharness.store import load_runs, load_samples

RunCLI = Any


def test_help_is_instant_and_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom evalharness.cli.main import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'pandas', 'hydra') if m in sys.modules))"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "evalharness run" in proc.stdout
    assert proc.stdout.strip().endswith("[]")
    assert time.perf_counter() - t0 < 10  # generous: a sanity bound, not a speed goal


def test_list_loads_every_description_without_torch_or_pandas() -> None:
    code = (
        "import sys\nfrom evalharness.cli.main import main\nmain(['list'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'pandas', 'hydra') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "synth_counting" in proc.stdout and "tiny_qwen2_vl" in proc.stdout
    assert proc.stdout.strip().endswith("[]")


def test_misspelt_key_names_the_valid_keys(cli: RunCLI) -> None:
    proc = cli("run", "model=oracle", "benchmark=example_parity", "limt=3")
    assert proc.returncode == 2
    assert "unknown key 'limt'" in proc.stderr and "Did you mean 'limit'" in proc.stderr
    assert "batch_size" in proc.stderr


def test_a_value_of_the_wrong_type_is_one_line_naming_the_type(cli: RunCLI) -> None:
    for arg, says in [
        ("seed=abc", "seed takes a whole number, got 'abc'."),
        ("limit=many", "limit takes a whole number (or null), got 'many'."),
        ("blind=maybe", "blind takes true or false, got 'maybe'."),
        ("max_error_rate=lots", "max_error_rate takes a number, got 'lots'."),
    ]:
        proc = cli("run", "model=oracle", "benchmark=example_parity", arg)
        assert proc.returncode == 2 and proc.stderr.strip() == f"error: {says}", proc.stderr
    for ok in ("limit=null", "blind=yes", "seed=+3", "max_error_rate=1e-1"):
        cli("run", "model=oracle", "benchmark=example_parity", ok, check=True)


def test_settings_for_a_benchmark_that_does_not_exist_are_refused(cli: RunCLI) -> None:
    proc = cli(
        "run", "model=oracle", "benchmark=example_parity", "benchmark_args.example_parit.n=3"
    )
    assert proc.returncode == 1
    assert "benchmark_args.example_parit: there is no benchmark 'example_parit'." in proc.stderr
    assert "Did you mean 'example_parity'" in proc.stderr
    # one for another benchmark, as a sweep over benchmarks sets each one's, is fine
    cli("run", "model=oracle", "benchmark=example_parity", "benchmark_args.synth_spatial.n=3",
        check=True)  # fmt: skip


def test_misspelt_nested_key(cli: RunCLI) -> None:
    proc = cli("run", "model=oracle", "benchmark=example_parity", "model.pth=x")
    assert proc.returncode == 2 and "Did you mean 'path'" in proc.stderr


def test_unknown_model_and_benchmark_get_did_you_mean(cli: RunCLI) -> None:
    proc = cli("run", "model=orcale", "benchmark=example_parity")
    assert (
        proc.returncode == 2
        and "unknown model 'orcale'" in proc.stderr
        and "'oracle'" in proc.stderr
    )
    proc = cli("run", "model=oracle", "benchmark=example_parit")
    assert proc.returncode == 2 and "Did you mean 'example_parity'" in proc.stderr


def test_nothing_to_run_is_one_clear_line(cli: RunCLI) -> None:
    proc = cli("run", "model=oracle")
    assert proc.returncode == 1
    assert "give benchmark=NAME or suite=NAME" in proc.stderr and "Traceback" not in proc.stderr


def test_plugin_benchmark_runs_from_the_cli(cli: RunCLI, tmp_path: Path) -> None:
    listed = cli("list", check=True).stdout
    assert "example_parity" in listed and "example_parrot" in listed and "oracle" in listed
    cli("run", "model=oracle", "benchmark=example_parity", check=True)
    runs = load_runs(tmp_path / "results")
    assert runs.loc[0, "score"] == 1.0 and runs.loc[0, "benchmark"] == "example_parity"


def test_multirun_sweep_writes_every_job(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli("run", "-m", "model=oracle,random", "benchmark=example_parity", "seed=1", check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no logs, no job folders
    runs = load_runs(tmp_path / "results")
    assert sorted(runs["model"]) == ["oracle", "random"]
    assert "oracle" in proc.stdout and "random" in proc.stdout


def test_a_run_shows_hydras_sweep_lines_but_no_library_info_chatter(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    code = (
        "import logging\n"
        "from evalharness import registry\n"
        "from evalharness.cli.main import main\n"
        "from evalharness_example_plugin import ParityBenchmark\n"
        "class Chatty(ParityBenchmark):\n"
        "    def samples(self):\n"
        "        logging.getLogger('somelib').info('somelib chatter')\n"
        "        logging.getLogger('somelib').warning('somelib warning')\n"
        "        return super().samples()\n"
        "registry.benchmarks.register('chatty', Chatty)\n"
        "main(['run', '-m', 'model=oracle', 'benchmark=chatty', 'progress=false'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=plugin_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "Launching 1 jobs locally" in out  # Hydra's own INFO lines stay
    assert "somelib warning" in out and "somelib chatter" not in out


def test_failed_jobs_are_counted_by_job_not_by_line(cli: RunCLI, tmp_path: Path) -> None:
    nowhere = f"model.path={tmp_path / 'nowhere'}"
    proc = cli("run", "model=hf", nowhere, "benchmark=example_parity")
    assert proc.returncode == 1 and "nowhere does not exist" in proc.stderr
    assert "jobs failed" not in proc.stderr  # one job: its error is the whole report
    proc = cli("run", "-m", "model=hf,captioner", nowhere, "benchmark=example_parity")
    assert proc.returncode == 1 and "2 jobs failed:" in proc.stderr
    report = proc.stderr.split("2 jobs failed:")[1]
    assert "\n  nowhere: model 'hf': folder " in report  # labelled by the path
    assert "\n  nowhere: model 'captioner': folder " in report


def test_a_bad_model_setting_is_refused_in_one_line_before_anything_runs(
    cli: RunCLI, tmp_path: Path
) -> None:
    results = f"results_dir={tmp_path / 'results'}"
    for args, says in [
        (
            ["model=hf", "model.args.trust_remote_code=nope"],
            "error: model 'hf': args.trust_remote_code must be true or false, not 'nope'",
        ),
        (
            ["-m", "model=hf,random", "model.args.trust_remote_cod=no"],
            "error: model 'hf': unknown args 'trust_remote_cod' (did you mean "
            "'trust_remote_code'?)",
        ),
        (["model=hf", "model.args.choice_score=max"], "must be mean or sum, not 'max'"),
        (["model=random", "model.args.temperature=0"], "takes no model.args settings"),
        (["model=tiny_coca", "model.args.captions=maybe"], "args.captions must be true or false"),
        (["model=openai", "model.args.concurrency=0"], "concurrency must be a whole number of"),
    ]:
        proc = cli("run", *args, "model.path=x", "benchmark=example_parity", results)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    assert not (tmp_path / "results").exists()  # refused before Hydra started a job
    # a value only Hydra knows (an interpolation) is checked when the job starts, before any
    # benchmark or weights load
    proc = cli(
        "run",
        "model=hf",
        "model.path=x",
        "model.args.process_on=${oc.env:EVALHARNESS_TEST_UNSET,gpu}",
        "benchmark=example_parity",
        results,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert line.endswith("args.process_on must be cpu or device, not 'gpu'")
    # a value that reads as the setting's type goes through to the model
    nowhere = f"model.path={tmp_path / 'nowhere'}"
    proc = cli(
        "run", "model=hf", "model.args.trust_remote_code=off", nowhere, "benchmark=example_parity"
    )
    assert proc.returncode == 1 and "nowhere does not exist" in proc.stderr


def test_scoring_without_java_fails_in_one_line_and_loses_no_answer(
    cli: RunCLI, tmp_path: Path
) -> None:
    args = ("run", "model=oracle", "benchmark=synth_caption", "limit=3")
    proc = cli(*args, env={"PATH": "/nonexistent"})  # caption metrics run Java
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "error: oracle: caption metrics need Java" in proc.stderr
    assert len(load_samples(tmp_path / "results")) == 3  # the answers were stored
    proc = cli(*args, check=True)
    runs = load_runs(tmp_path / "results")
    assert list(runs["status"]) == ["complete"] and runs.loc[0, "score"] == 1.0
    [row] = [line.split() for line in proc.stdout.splitlines() if line.startswith("oracle")]
    assert row[-1] == "3"  # the "reused" column: the model was not asked again


def test_joblib_launcher(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli(
        "run",
        "-m",
        "model=oracle,prior",
        "benchmark=example_parity",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        check=True,
        env={"TQDM_DISABLE": ""},  # the sweep's bar follows jobs run in worker processes
    )
    assert sorted(load_runs(tmp_path / "results")["model"]) == ["oracle", "prior"]
    assert "sweep: 100%" in proc.stderr and "2/2" in proc.stderr


def test_sweep_progress_counts_jobs_and_failures(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli(
        "run",
        "-m",
        "model=oracle,random",
        "benchmark=example_parity",
        "limit=4,0",  # limit=0 is refused: two of the four jobs fail
        env={"TQDM_DISABLE": ""},
    )
    assert proc.returncode == 1
    bars = [line for line in proc.stderr.replace("\r", "\n").splitlines() if "sweep:" in line]
    assert any("0/4" in b for b in bars) and any("4/4" in b for b in bars), bars
    assert "2 failed" in bars[-1] and "[1/1] oracle × example_parity" in proc.stderr


def test_sweep_job_count_follows_hydra_basic_sweeper() -> None:
    from evalharness.cli.sweep import count_jobs

    assert count_jobs({}, ["model=a,b", "benchmark=x,y,z", "limit=3"]) == 6
    assert count_jobs({"model": "a,b,c"}, ["suite=s"]) == 3
    # the command line overrides a preset's swept key, as in Hydra
    assert count_jobs({"model": "a,b,c"}, ["model=a", "seed=1,2"]) == 2
    assert count_jobs({}, ["model=a"]) == 1


def test_submitit_local_sweep(cli: RunCLI, tmp_path: Path) -> None:
    cli(
        "run",
        "-m",
        "model=oracle,random",
        "benchmark=example_parity",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=5",
        check=True,
        timeout=600,
    )
    runs = load_runs(tmp_path / "results")
    assert sorted(runs["model"]) == ["oracle", "random"] and set(runs["status"]) == {"complete"}
    assert len(load_samples(tmp_path / "results")) == 24


def test_failed_job_exits_nonzero_but_the_sweep_finishes(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli(
        "run", "-m", "model=oracle,random", "benchmark=example_parity", "benchmark.args.bogus=1"
    )
    assert proc.returncode == 1
    assert proc.stderr.count("no setting 'bogus'") >= 2


def test_incompatible_results_folder_is_refused(cli: RunCLI, tmp_path: Path) -> None:
    results = tmp_path / "old"
    (results / "runs").mkdir(parents=True)
    (results / "FORMAT.json").write_text('{"format_version": 999}')
    proc = cli("run", "model=oracle", "benchmark=example_parity", f"results_dir={results}")
    assert proc.returncode == 1 and "result format v999" in proc.stderr
    assert sorted(p.name for p in results.iterdir()) == ["FORMAT.json", "runs"]


def test_missing_model_folder_is_one_clear_line(cli: RunCLI, tmp_path: Path) -> None:
    proc = cli("run", "model=hf", f"model.path={tmp_path / 'nowhere'}", "benchmark=example_parity")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert "nowhere" in line and "model.path" in line


def test_rescore_restores_scores_from_the_raw_predictions(
    cli: RunCLI, tmp_path: Path, spoil_scores: Any
) -> None:
    cli("run", "model=random", "benchmark=example_parity", "benchmark.args.n=20", check=True)
    want_runs, want = load_runs(tmp_path / "results"), load_samples(tmp_path / "results")
    spoil_scores(tmp_path / "results")
    proc = cli("rescore", check=True)
    assert "rescored random × example_parity" in proc.stdout
    got = load_samples(tmp_path / "results")
    assert len(got) == 20  # the run's settings (n=20) came back with it
    assert list(got["score"]) == list(want["score"])
    assert load_runs(tmp_path / "results").loc[0, "score"] == want_runs.loc[0, "score"]


def test_rescore_of_an_empty_folder_is_one_clear_line(cli: RunCLI, tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    proc = cli("rescore")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:")


def test_default_sweep_runs_every_builtin_model() -> None:
    from omegaconf import OmegaConf

    from evalharness import registry
    from evalharness.cli.config import configs_dir

    preset = OmegaConf.load(Path(configs_dir()) / "sweep" / "default.yaml")
    swept = str(preset.hydra.sweeper.params.model).split(",")
    assert len(swept) == len(set(swept)) and set(swept) <= set(registry.models.names())
    # every model that needs nothing from the user: the references and the tiny checkpoints
    builtin = {n for n in registry.models.names() if n.startswith("tiny_")}
    assert builtin | {"random", "prior", "oracle"} == set(swept)


def run_spec_of(*overrides: str) -> Any:
    from hydra import compose, initialize_config_dir

    from evalharness.cli.config import configs_dir, register_schemas
    from evalharness.cli.hydra_app import to_run_spec

    register_schemas()
    with initialize_config_dir(str(configs_dir()), version_base=None):
        cfg = compose("config", overrides=["model=oracle", "benchmark=synth_vqa", *overrides])
    return to_run_spec(cfg)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("limit=0", "limit must be at least 1"),
        ("batch_size=0", "batch_size must be at least 1"),
        ("flush_s=-1", "flush_s must be 0 or more"),
        ("max_image_pixels=0", "max_image_pixels must be at least 1"),
        ("max_new_tokens=0", "max_new_tokens must be at least 1"),
        ("max_error_rate=2", "max_error_rate is a share of samples, from 0 to 1"),
        ("max_error_rate=-0.1", "max_error_rate is a share of samples, from 0 to 1"),
    ],
)
def test_out_of_range_settings_are_refused_with_the_valid_range(
    override: str, message: str
) -> None:
    from evalharness.runner import JobError

    with pytest.raises(JobError, match=message):
        run_spec_of(override)
    assert run_spec_of("limit=3", "max_new_tokens=1", "max_error_rate=1").limit == 3


def test_run_help_explains_every_setting_and_shows_the_chosen_model(cli: RunCLI) -> None:
    import dataclasses

    from evalharness.cli.config import EvalConfig, ModelConfig

    proc = cli("run", "model=openai", "limit=3", "--help", check=True)
    settings, _, explained = proc.stdout.partition("== What they do ==")
    assert "name: openai" in settings and "base_url:" in settings and "limit: 3" in settings
    named = [
        line.split()[0].partition("=")[0].split(".") for line in explained.splitlines() if line
    ]
    described = {".".join(parts[:i]) for parts in named for i in range(1, len(parts) + 1)}
    keys = {f.name for f in dataclasses.fields(EvalConfig)} - {"model"}
    keys |= {f"model.{f.name}" for f in dataclasses.fields(ModelConfig)} - {"model.name"}
    assert keys - described == set()
    swept = cli("run", "-m", "model=openai,hf", "limit=3", "--help", check=True)
    assert "limit: 3" in swept.stdout  # a sweep's lists are left out, the rest shown


def test_ctrl_c_stops_the_run_with_one_line_and_marks_it_interrupted(
    tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    import signal

    # a child whose SIGINT is not ignored, as in a terminal (a background test worker's may be)
    launch = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, '-m', 'evalharness.cli.main', *sys.argv[1:]])"
    )
    args = ["run", "model=example_parrot", "model.args.delay=0.2", "benchmark=example_parity"]
    proc = subprocess.Popen(
        [sys.executable, "-c", launch, *args, "batch_size=1", "flush_s=0", "progress=false"],
        cwd=tmp_path,
        env=plugin_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_answers(tmp_path / "results")  # the run is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted: the answers so far are saved" in err
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "interrupted"
    assert 0 < len(load_samples(tmp_path / "results")) < 12


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_run_like_ctrl_c_and_a_rerun_resumes(
    tmp_path: Path, plugin_env: dict[str, str], cli: RunCLI, name: str
) -> None:
    import signal

    sig = getattr(signal, name)
    args = ["run", "model=example_parrot", "benchmark=example_parity", "progress=false"]
    slow = ["model.args.delay=0.2", "batch_size=1", "flush_s=0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalharness.cli.main", *args, *slow],
        cwd=tmp_path,
        env=plugin_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_answers(tmp_path / "results")  # the run is under way
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    assert err.strip() == (
        f"interrupted ({name}): the answers so far are saved (the run is marked interrupted); "
        "run the same command again to go on from where it stopped."
    )
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "interrupted" and row["status_reason"] == f"stopped by {name}"
    kept = len(load_samples(tmp_path / "results"))
    assert 0 < kept < 12
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1].split()[-1] == str(kept)  # reused: it resumed
    [row] = load_runs(tmp_path / "results").to_dict("records")
    assert row["status"] == "complete" and len(load_samples(tmp_path / "results")) == 12


def test_list_one_benchmark_or_model_shows_its_settings(capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    from evalharness.cli.main import main
    from evalharness.models._hf_settings import HFSettings

    assert main(["list", "synth_counting"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("benchmark synth_counting: Count coloured shapes")
    assert "capability: counting" in out
    assert "    max_count = 8: Most objects of the kind asked about.\n" in out
    assert "    n = 200: Images to generate; each may carry several questions.\n" in out  # a base's
    assert main(["list", "tiny_llava"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model tiny_llava: Tiny random-weight LLaVA")
    assert all(f"\n    {f.name} = " in out for f in dataclasses.fields(HFSettings))
    assert (
        "\n    trust_remote_code = False (true | false): Allow code shipped with the checkpoint "
        "to run.\n" in out
    )
    assert "\n    choice_score = 'mean' (mean | sum): Option score in choice mode" in out
    assert main(["list", "openai"]) == 0
    out = capsys.readouterr().out
    assert "\n    concurrency = 8: Requests in flight at once.\n" in out
    assert "\n    base_url = '': The server's API root, e.g. http://localhost:8000/v1" in out
    assert main(["list", "oracle"]) == 0
    assert "no model.args settings" in capsys.readouterr().out
    assert main(["list", "synth_countin"]) == 1
    assert "Did you mean 'synth_counting'" in capsys.readouterr().err


def test_list_says_what_each_suite_and_sweep_is(capsys: pytest.CaptureFixture[str]) -> None:
    from evalharness.cli.main import main

    assert main(["list", "suites"]) == 0
    out = capsys.readouterr().out
    assert "  synthetic                The synthetic probe suites: counting," in out
    assert main(["list", "synthetic"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("suite synthetic: The synthetic probe suites")
    assert "  benchmarks: synth_counting, synth_spatial," in out
    assert main(["list", "references"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sweep references: The three reference models")
    assert "  model: random,prior,oracle\n" in out and "evalharness run sweep=references" in out
    assert main(["list", "synthetc"]) == 1
    assert "Did you mean 'synthetic'" in capsys.readouterr().err


def test_every_built_in_benchmark_setting_says_what_it_does() -> None:
    from evalharness import registry
    from evalharness.cli._docs import setting_docs
    from evalharness.runner.job import benchmark_settings

    for name in registry.benchmarks.names():
        factory = registry.benchmarks.get(name)
        if not factory.__module__.startswith("evalharness.benchmarks."):
            continue  # plugins, and the lmms-eval bridge (its docstring lists its settings)
        docs = setting_docs(factory)
        undocumented = [p.name for p in benchmark_settings(name) or [] if p.name not in docs]
        assert undocumented == [], f"{name}: {undocumented}"


def test_setting_docs_read_the_string_under_each_field_nearest_class_first() -> None:
    from dataclasses import dataclass

    from evalharness.cli._docs import setting_docs

    @dataclass
    class Base:
        size: int = 1
        """Side in pixels. More words."""
        plain: int = 2

    @dataclass
    class Child(Base):
        size: int = 3
        """Side of the image."""
        extra: str = ""
        """Anything
        else."""

    assert setting_docs(Child) == {"size": "Side of the image.", "extra": "Anything else."}
    assert setting_docs(Base) == {"size": "Side in pixels."}
    assert setting_docs(int) == {}  # no source: no docs, no error


def _user_configs(root: Path) -> Path:
    """A user's own config folder: a suite and a model of their own."""
    (root / "suite").mkdir(parents=True)
    (root / "model").mkdir()
    (root / "suite" / "mine.yaml").write_text("name: mine\nbenchmarks: [example_parity]\n")
    (root / "model" / "my_parrot.yaml").write_text("name: example_parrot\nlabel: my parrot\n")
    return root


def test_a_user_s_own_config_groups_through_the_search_path_run(
    tmp_path: Path, cli: RunCLI
) -> None:
    confs = _user_configs(tmp_path / "confs")
    cli("run", f"hydra.searchpath=[file://{confs}]", "model=my_parrot", "suite=mine", check=True)
    runs = load_runs(tmp_path / "results")
    assert list(runs["model"]) == ["my parrot"] and list(runs["benchmark"]) == ["example_parity"]
    # a folder relative to the working folder, with Hydra's --config-dir as well
    cli("run", "--config-dir", "confs", "model=my_parrot", "suite=mine", "limit=3", check=True)
    cli("run", "hydra.searchpath=[file://confs]", "model=oracle", "suite=mine", check=True)
    # the user's names join the suggestions; names in no folder are still refused
    proc = cli("run", f"hydra.searchpath=[file://{confs}]", "model=oracle", "suite=mien")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown suite 'mien'. Did you mean 'mine'?")
    assert cli("run", "model=oracle", "suite=mine").returncode == 2  # not without the path


def test_a_broken_yaml_is_one_line_naming_the_file_and_the_error(
    tmp_path: Path, cli: RunCLI
) -> None:
    confs = _user_configs(tmp_path / "confs")
    broken = confs / "suite" / "broken.yaml"
    broken.write_text("name: broken\nbenchmarks: [example_parity\n  - x: : y\n")
    proc = cli("run", f"hydra.searchpath=[file://{confs}]", "model=oracle", "suite=broken")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {broken}: invalid YAML at line 3"), (
        proc.stderr
    )


def test_an_unknown_launcher_is_one_line_with_a_suggestion(cli: RunCLI) -> None:
    proc = cli("run", "-m", "model=oracle", "benchmark=example_parity", "hydra/launcher=jobli")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: unknown hydra/launcher 'jobli'. Did you mean 'joblib'? "
        "Known: basic, joblib, submitit_local, submitit_slurm."
    )
