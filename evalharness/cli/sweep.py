"""A progress bar over the jobs of a sweep (`evalharness run -m …`, `sweep=NAME`).

Hydra runs the jobs of a sweep through a launcher: in this process (basic), in worker processes
(joblib) or as separate jobs (submitit). So the bar lives in the process that launched the
sweep, and jobs report to it through the results folder (`cli.outcomes`: a file per finished
job), which a thread here follows. Each job still shows its own bar per run beneath this one.

The number of jobs is worked out as Hydra's basic sweeper does (the product of every swept
key's values, the preset's `hydra.sweeper.params` first); with another sweeper the bar counts
jobs without a total.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from evalharness.cli import outcomes

__all__ = ["SweepProgress", "count_jobs"]


def count_jobs(params: Mapping[str, Any], overrides: Iterable[str]) -> int:
    """How many jobs Hydra's basic sweeper makes of these sweeper params and overrides."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    arguments = [f"{k}={v}" for k, v in params.items()] + list(overrides)
    parsed = OverridesParser.create().parse_overrides(arguments)
    [jobs] = BasicSweeper.split_arguments(parsed, None)
    return len(jobs)


class SweepProgress(Callback):
    """Hydra callback: opens the board the sweep's jobs report to (`cli.outcomes`) and shows the
    sweep's bar over it, from the start of a multirun to its end. The launching process reads
    and removes the board after the sweep (`run_hydra`), whether the launcher ended well or not."""

    def __init__(self, poll_s: float = 0.25) -> None:
        self.poll_s = poll_s
        self._bar: Any = None
        self._board: Path | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = 0

    # Launchers that run jobs elsewhere (joblib) pickle the callbacks with the job: the bar, its
    # file and thread stay here.
    def __getstate__(self) -> dict[str, Any]:
        return {"poll_s": self.poll_s}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        try:
            self._board = outcomes.open_board(config.get("results_dir") or "results")
        except OSError:
            self._board = None  # not writable: each job says so itself
        if not config.get("progress", True) or sys.stderr is None or self._board is None:
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

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._read()

    def _read(self) -> None:
        assert self._board is not None and self._bar is not None
        seen, failed, last = outcomes.count_outcomes(self._board)
        if seen <= self._seen:
            return
        postfix = f"last: {last}" + (f", {failed} failed" if failed else "")
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(seen - self._seen)
        self._seen = seen
