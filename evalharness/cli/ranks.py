"""`workers=N` / `devices=0,1,…`: start the ranks of a data-parallel run through torch's launcher.

This is what `torchrun --standalone --nproc_per_node=N -m evalharness.cli.main run …` does, with
the same launcher (torch.distributed's elastic agent, called as a library), so that a rank that
fails is reported in one line instead of the launcher's traceback. Each rank reads its rank and
the world size from the environment, as under torchrun or `accelerate launch`, and answers its
shard of every run (`runner.shards`); with `devices`, each rank sees its GPUs and takes one.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Sequence

from evalharness.errors import EvalharnessError

KEYS = ("workers", "devices")
STOPPED = (130, -15, 143)
"""Exit codes of a rank stopped by the launcher's SIGTERM (ours: 130, as for Ctrl-C)."""


class RanksError(EvalharnessError, ValueError):
    """`workers` / `devices` cannot be used as given."""


def requested(overrides: Sequence[str]) -> int | None:
    """How many ranks the overrides ask for (None: none, run in this process). Under a launcher
    already (WORLD_SIZE set) the settings are left to it."""
    given = {k: v for k, _, v in (o.partition("=") for o in overrides) if k in KEYS}
    if not given or os.environ.get("WORLD_SIZE"):
        return None
    devices = [d for d in given.get("devices", "").split(",") if d.strip()]
    workers = given.get("workers", "").strip()
    if workers in ("", "null") and not devices:
        return None
    if workers not in ("", "null") and (not workers.isdigit() or int(workers) < 1):
        raise RanksError(f"workers takes a whole number of ranks, 1 or more; got {workers!r}.")
    count = int(workers) if workers not in ("", "null") else len(devices)
    if count == 1:  # one rank: this process, on its device
        if devices:
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
        return None
    if devices and count != len(devices):
        raise RanksError(
            f"workers={count} with {len(devices)} devices: one rank per device, so give one "
            "of them (devices=0,1,2,3 alone starts four ranks)."
        )
    if any(o in ("-m", "--multirun") for o in overrides) or "shards=" in " ".join(overrides):
        raise RanksError(
            "workers/devices start ranks of one run on this machine; for a sweep or shards "
            "on a cluster use -m shards=N with a launcher instead."
        )
    return count


def launch(count: int, overrides: Sequence[str]) -> int:
    """Run `evalharness run OVERRIDES` as `count` ranks; the exit code, failures in one line."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    given = dict(o.partition("=")[::2] for o in overrides if "=" in o)
    rest = [o for o in overrides if o.partition("=")[0] not in KEYS]
    devices = given.get("devices", "")
    env_before = dict(os.environ)
    if devices:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    if "OMP_NUM_THREADS" not in os.environ:  # share the cores instead of oversubscribing them
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // count))
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=count,
        run_id=f"evalharness-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",  # a free port on this machine, as torchrun --standalone
        max_restarts=0,
        monitor_interval=0.2,
    )
    entry = [sys.executable, "-m", "evalharness.cli.main", "run", *rest]
    # the launcher logs each rank it stops and each failure; the line below says it all
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    try:
        elastic_launch(config, entry[0])(*entry[1:])
    except ChildFailedError as exc:
        failed = sorted(exc.failures.items())
        # the ranks the launcher stopped because another failed are no failure of their own
        own = [(r, f) for r, f in failed if f.exitcode not in STOPPED] or failed
        ranks = ", ".join(f"rank {rank}" for rank, _ in own)
        codes = ", ".join(str(f.exitcode) for _, f in own)
        print(
            f"error: {ranks} of {count} failed (exit code {codes}); the others were stopped. "
            "What every rank answered is kept: run the same command again to complete the "
            "missing samples.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return 0
