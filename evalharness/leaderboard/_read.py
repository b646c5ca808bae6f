"""Reading a results folder for the site, through the store's public read API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd


def read_results(
    root: Path, sample_columns: Callable[[pd.DataFrame], Sequence[str]] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, samples) of a results folder; `sample_columns`, given the runs, names the samples
    columns to read (all where None).

    Both are read as of one moment: a command rewriting runs (`evalharness rescore`) finishes
    first, or waits, so that no run is read half rewritten.
    """
    from evalharness.store import ResultsStore, load_runs, load_samples

    with ResultsStore(root, create=False).reading():
        runs = load_runs(root)
        columns = None if sample_columns is None else sample_columns(runs)
        return runs, load_samples(root, columns=columns)
