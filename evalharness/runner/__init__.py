"""The runner: run spec → samples → model → raw predictions → scores → results store."""

from evalharness.runner.batches import RunObserver
from evalharness.runner.execute import RunResult, run_benchmark
from evalharness.runner.job import JobError, run_job
from evalharness.runner.spec import BenchmarkSpec, RunSpec

__all__ = [
    "BenchmarkSpec",
    "JobError",
    "RunObserver",
    "RunResult",
    "RunSpec",
    "run_benchmark",
    "run_job",
]
