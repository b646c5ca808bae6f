"""Sweeps on a real SLURM cluster (slurm-wlm and munge on this machine, `slurm_cluster`), whose
jobs run with their own /tmp, as on the nodes of a multi-node cluster."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import slurm_cluster
from repo_paths import REPO
from results_helpers import same_results

from evalharness.store import load_runs, load_samples

RunCLI = Any
SLURM = (
    "hydra/launcher=submitit_slurm",
    "hydra.launcher.partition=debug",
    "hydra.launcher.timeout_min=10",
    "hydra.launcher.mem_gb=1",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[slurm_cluster.Cluster]:
    slurm_cluster.require()
    base = tmp_path_factory.getbasetemp()  # the tests' folders: the cluster's shared storage
    # and what the jobs run, which a checkout (or a virtualenv) under /tmp puts there too
    shared = (base, REPO, Path(sys.prefix))
    with slurm_cluster.cluster(tmp_path_factory.mktemp("slurm"), shared) as running:
        yield running


def test_a_sharded_sweep_runs_as_array_tasks_with_the_results_of_one_process(
    cli: RunCLI, tmp_path: Path, cluster: slurm_cluster.Cluster
) -> None:
    runs = ("model=oracle,example_parrot", "benchmark=example_parity", "batch_size=2")
    proc = cli(
        "run", "-m", *runs, "shards=2", *SLURM, "results_dir=slurm",
        env=cluster.env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr + cluster.log("slurmctld")[-3000:]
    # four array tasks (two runs × two shards) went through the scheduler
    allocated = [
        line for line in cluster.log("slurmctld").splitlines() if "Allocate JobId=" in line
    ]
    assert len(allocated) >= 4, cluster.log("slurmctld")[-3000:]
    statuses = load_runs(tmp_path / "slurm")["status"]
    assert list(statuses) == ["complete", "complete"]
    cli("run", "-m", *runs, "results_dir=one", check=True)
    same_results(tmp_path / "one", tmp_path / "slurm")
    assert not load_samples(tmp_path / "slurm")[["run_id", "sample_id"]].duplicated().any()
    assert not (tmp_path / "slurm" / ".jobs").exists()


def test_a_job_failing_on_a_node_with_its_own_tmp_fails_the_sweep_with_its_error(
    cli: RunCLI, cluster: slurm_cluster.Cluster
) -> None:
    proc = cli(
        "run", "-m", "model=oracle", "benchmark=example_parity", "limit=0", *SLURM,
        env=cluster.env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "error: oracle: limit must be at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr
