"""Progress bars with samples/s and ETA: one per run, one for the whole job."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A job-level bar over all samples of all runs, and a bar per run beneath it."""

    def __init__(self, total_runs: int, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr is not None
        self.total_runs = total_runs
        self.runs_done = 0
        self._bar: Any = None

    def start_run(self, title: str, total: int, done: int) -> None:
        self.runs_done += 1
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(
            total=total,
            initial=done,
            desc=f"[{self.runs_done}/{self.total_runs}] {title}",
            unit="sample",
            dynamic_ncols=True,
            smoothing=0.1,
            file=sys.stderr,
        )
        if done:
            self._bar.set_postfix_str(f"{done} resumed", refresh=False)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def set_done(self, n: int) -> None:
        """Samples done so far, counted elsewhere (the store, for a run's shards)."""
        if self._bar is not None and n != self._bar.n:
            self._bar.update(n - self._bar.n)

    def end_run(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
