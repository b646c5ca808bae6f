"""Hydra's submitit launchers, reporting a job that ends without a result instead of stopping
the sweep (see `evalharness.cli.launchers`). Hydra loads launchers from this package only."""

from __future__ import annotations

from collections.abc import Sequence

from hydra.core.utils import JobReturn
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import LocalLauncher, SlurmLauncher


class Slurm(SlurmLauncher):
    """`hydra/launcher=submitit_slurm`, collecting every job of the sweep."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        from evalharness.cli.launchers import launch

        return launch(self, job_overrides, initial_job_idx)


class Local(LocalLauncher):
    """`hydra/launcher=submitit_local`, collecting every job of the sweep."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        from evalharness.cli.launchers import launch

        return launch(self, job_overrides, initial_job_idx)
