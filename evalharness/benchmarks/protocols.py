"""Two readings of every answer: the benchmark's official script's, and ours.

A benchmark whose official evaluation script reads answers differently from us declares it with an
`Official` (the script's repository and path, and each quirk we reproduce). It then scores every
answer twice: `robust`, our reading (`score_one`), and `official`, the script's, quirks included
(`official_open`). Both are stored per sample as metric columns (`robust`, `official`, and the
official reading's own columns prefixed `official_`) and aggregated with intervals; the benchmark's
`protocol` setting names the headline one, which becomes the sample's `score` and the run's
score. Both readings are part of the benchmark's version, so `evalharness rescore` brings stored
runs to a changed reading without asking the model again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evalharness.errors import EvalharnessError
from evalharness.stats import Aggregate
from evalharness.types import Sample, Scored

if TYPE_CHECKING:
    from evalharness.benchmarks.base import Benchmark

OFFICIAL = "official"
ROBUST = "robust"
PREFIX = "official_"
"""Metric columns of the official reading beyond its score are stored with this prefix."""


@dataclass(frozen=True)
class Official:
    """A benchmark's official scoring: where its script lives, and what it does that we would not.

    `version` is bumped by hand when the reproduction changes; it goes into the benchmark's
    version with the script's name."""

    script: str
    """Repository and path of the official evaluation script."""
    quirks: tuple[str, ...] = ()
    """What the script does that the robust reading does not, one line each."""
    version: str = "1"

    def key(self) -> str:
        return f"official={self.script}@{self.version}"


class ProtocolError(EvalharnessError, ValueError):
    """A benchmark was asked for a scoring protocol it does not define."""


def defined(official: Official | None) -> tuple[str, ...]:
    """The protocols a benchmark defines, its default first."""
    return (OFFICIAL, ROBUST) if official is not None else (ROBUST,)


def headline(benchmark: str, asked: str, official: Official | None) -> str:
    """The protocol a benchmark headlines: `asked`, or its default when `asked` is empty.

    Raises ProtocolError (one line naming the protocols it has) for one it does not define."""
    have = defined(official)
    if not asked:
        return have[0]
    if asked not in have:
        raise ProtocolError(
            f"{benchmark} has no {asked!r} scoring protocol; it has: {', '.join(have)}"
        )
    return asked


def both(robust: Scored, official: Scored, protocol: str) -> Scored:
    """One scored row holding both readings; its score is the headline protocol's."""
    metrics = {
        **robust.metrics,
        ROBUST: float(robust.score),
        OFFICIAL: float(official.score),
        **{PREFIX + k: float(v) for k, v in official.metrics.items()},
    }
    score = official.score if protocol == OFFICIAL else robust.score
    return Scored(extracted=robust.extracted, score=score, metrics=metrics)


def aggregates(
    official: Official | None, extra: Sequence[Aggregate], *, bounded: bool = True
) -> list[Aggregate]:
    """The protocols' aggregates: "robust" and "official" (means of the per-sample readings,
    unless `extra` defines them otherwise) and the official reading's own (`extra`)."""
    if official is None:
        return []
    named = {a.name for a in extra}
    means = [Aggregate.mean(p, p, bounded=bounded) for p in (ROBUST, OFFICIAL) if p not in named]
    return [*means, *extra]


def protocol_aggregates(benchmark: Benchmark, samples: Sequence[Sample]) -> list[Aggregate]:
    """A benchmark's protocol aggregates (none where it defines only the robust reading)."""
    official: Official | None = getattr(benchmark, "official", None)
    if official is None:
        return []
    extra: list[Aggregate] = getattr(benchmark, "official_aggregates", lambda _: [])(samples)
    return aggregates(official, extra)
