"""A progress bar over the jobs of a sweep (`evalharness run -m …`, `sweep=NAME`).

Hydra runs the jobs of a sweep through a launcher: in this process (basic), in worker processes
(joblib) or as separate jobs (submitit). So the bar lives in the process that launched the
sweep, and jobs report to it through a file: each finished job appends one line (`ok LABEL` or
`failed LABEL`) to the file named by EVALHARNESS_SWEEP_FILE, and a thread here follows the file.
Each job still shows its own bar per run beneath this one.

The number of jobs is worked out as Hydra's basic sweeper does (the product of every swept
key's values, the preset's `hydra.sweeper.params` first); with another sweeper the bar counts
jobs without a total.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from hydra.experimental.callback import Callback

SWEEP_ENV = "EVALHARNESS_SWEEP_FILE"

__all__ = ["SWEEP_ENV", "SweepProgress", "count_jobs", "report_job"]


def count_jobs(params: Mapping[str, Any], overrides: Iterable[str]) -> int:
    """How many jobs Hydra's basic sweeper makes of these sweeper params and overrides."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    arguments = [f"{k}={v}" for k, v in params.items()] + list(overrides)
    parsed = OverridesParser.create().parse_overrides(arguments)
    [jobs] = BasicSweeper.split_arguments(parsed, None)
    return len(jobs)


def report_job(label: str, ok: bool) -> None:
    """Tell the sweep's bar (if any) that this job is over."""
    path = os.environ.get(SWEEP_ENV)
    if not path:
        return
    try:
        with open(path, "a") as f:  # one short write per line: appends do not interleave
            f.write(f"{'ok' if ok else 'failed'} {label}\n")
    except OSError:
        pass  # the bar is a convenience; a job never fails over it


class SweepProgress(Callback):
    """Hydra callback: the sweep's bar, opened at the start of a multirun, closed at its end."""

    def __init__(self, poll_s: float = 0.25) -> None:
        self.poll_s = poll_s
        self._bar: Any = None
        self._path: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = 0
        self._failed = 0

    # Launchers that run jobs elsewhere (joblib) pickle the callbacks with the job: the bar, its
    # file and thread stay here.
    def __getstate__(self) -> dict[str, Any]:
        return {"poll_s": self.poll_s}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        if not config.get("progress", True) or sys.stderr is None:
            return
        from tqdm.auto import tqdm

        total: int | None
        try:
            sweeper = config.hydra.sweeper
            params = dict(sweeper.get("params") or {})
            total = count_jobs(params, config.hydra.overrides.task)
            if "BasicSweeper" not in str(sweeper.get("_target_", "BasicSweeper")):
                total = None
        except Exception:
            total = None
        fd, self._path = tempfile.mkstemp(prefix="evalharness-sweep-")
        os.close(fd)
        os.environ[SWEEP_ENV] = self._path
        self._bar = tqdm(
            total=total,
            desc="sweep",
            unit="job",
            dynamic_ncols=True,
            smoothing=0,  # jobs differ in size: the mean rate gives the steadier ETA
            file=sys.stderr,
            position=0,
        )
        self._thread = threading.Thread(target=self._follow, name="sweep-progress", daemon=True)
        self._thread.start()

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        if self._bar is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._read()
        self._bar.close()
        self._bar = None
        os.environ.pop(SWEEP_ENV, None)
        if self._path:
            with contextlib.suppress(OSError):
                os.unlink(self._path)

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._read()

    def _read(self) -> None:
        assert self._path is not None and self._bar is not None
        try:
            with open(self._path) as f:
                lines = f.read().split("\n")[:-1]  # complete lines only
        except OSError:
            return
        new = lines[self._seen :]
        if not new:
            return
        self._seen = len(lines)
        self._failed += sum(line.startswith("failed ") for line in new)
        last = new[-1].partition(" ")[2]
        postfix = f"last: {last}" + (f", {self._failed} failed" if self._failed else "")
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(len(new))
