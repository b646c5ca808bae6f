"""Reading a results folder for the site, through the store's public read API."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def read_results(
    root: Path, sample_columns: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, samples) of a results folder; `sample_columns` limits the samples columns read."""
    from evalharness.store import load_runs, load_samples

    return load_runs(root), load_samples(root, columns=sample_columns)
