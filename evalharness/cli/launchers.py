"""submitit launchers that wait for every job of a sweep, whatever happens to each.

Hydra's submitit launcher collects its jobs' results one after another, and the first job that
ended without a result (cancelled with `scancel`, killed for memory or time, its node lost)
raises out of the whole sweep: a traceback, the later jobs never collected. These launchers are
the same launchers (same settings, same `hydra/launcher=submitit_slurm|submitit_local`) but
report such a job as a failed one with one line, and go on collecting the rest.

`run_hydra` points the chosen submitit launcher's `_target_` at the classes in
`hydra_plugins.evalharness_launchers` (Hydra takes launchers from that package only), which run
`launch` below.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
from omegaconf import OmegaConf

from evalharness.cli import outcomes

TARGETS = {
    "submitit_slurm": "hydra_plugins.evalharness_launchers.Slurm",
    "submitit_local": "hydra_plugins.evalharness_launchers.Local",
}
"""The launcher to use instead of each of Hydra's submitit launchers."""


def launch(
    launcher: BaseSubmititLauncher, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
) -> Sequence[JobReturn]:
    """Submit the jobs as one array, with the launcher's settings read as Hydra's launcher
    reads them, and collect every job's return."""
    import submitit

    assert launcher.config is not None
    kind = launcher._EXECUTOR
    params = dict(launcher.params)
    init: dict[str, Any] = {"folder": params.pop("submitit_folder")}
    if "max_num_timeout" in params:
        init[f"{kind}_max_num_timeout"] = params.pop("max_num_timeout")
    executor = submitit.AutoExecutor(cluster=kind, **init)
    shared = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{k if k in shared else f"{kind}_{k}": v for k, v in params.items()}
    )
    Path(str(launcher.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
    state = Singleton.get_state()
    arguments = [
        (list(o), "hydra.sweep.dir", initial_job_idx + i, f"job_id_for_{i}", state)
        for i, o in enumerate(job_overrides)
    ]
    jobs = executor.map_array(launcher, *zip(*arguments, strict=True))
    return [_result(job, o) for job, o in zip(jobs, job_overrides, strict=True)]


def _result(job: Any, overrides: Sequence[str]) -> JobReturn:
    """The job's own return, or, for a job that ended without one, a failed outcome recorded
    (with its scheduler state and log file) and an empty return that the sweep passes over."""
    try:
        result: JobReturn = job.results()[0]
        return result
    except Exception as exc:
        state = _state(job)
        what = " ".join(filter_overrides(overrides)) or "job"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log = getattr(getattr(job, "paths", None), "stderr", "")
        message = f"{what}: job {job.job_id} ended without a result ({state}): {first}" + (
            f" Its log: {log}" if log else ""
        )
        outcomes.record(outcomes.Outcome(what, False, message))
        return JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)


def _state(job: Any) -> str:
    try:
        return str(job.state)
    except Exception:
        return "state unknown"
