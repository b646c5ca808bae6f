"""Reading a results folder for the site, through the store's public read API."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def read_results(
    root: Path, sample_columns: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, samples) of a results folder; `sample_columns` limits the samples columns read.

    Both are read as of one moment: a command rewriting runs (`evalharness rescore`) finishes
    first, or waits, so that no run is read half rewritten.
    """
    from evalharness.store import ResultsStore, load_runs, load_samples

    with ResultsStore(root, create=False).reading():
        return load_runs(root), load_samples(root, columns=sample_columns)
