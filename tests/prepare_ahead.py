"""The runner's pattern for `Preparing` models, for model tests: prepare the next chunk on a
worker thread while the current chunk's call runs."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from evalharness.models.base import Preparing
from evalharness.types import Prediction, Request


def answer_ahead(model: Preparing, chunks: Sequence[Sequence[Request]]) -> list[list[Prediction]]:
    """Each chunk's predictions, chunk k + 1 prepared while chunk k's call runs."""
    got = []
    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(model.prepare, chunks[0])
        for i in range(len(chunks)):
            run = ahead.result()
            if i + 1 < len(chunks):
                ahead = pool.submit(model.prepare, chunks[i + 1])
            got.append(run())
    return got
