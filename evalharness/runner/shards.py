"""Data-parallel runs: a run's samples split into shards, each answered by one worker.

Every worker (a torchrun or accelerate rank, a SLURM array task, a job of a sweep over `shard`)
computes the same run: the same samples, run id and resume keys. It answers only its shard's
samples and appends their rows to the run's folder in the shared results store, in parts named
after the shard, so that workers never write the same file. The worker that finishes last
scores every sample and stores the run, exactly as one process would have: the run's rows,
scores, intervals and run row do not depend on how many workers answered.

Locks (flock on files in the run's folder, so on one machine or on shared storage with working
locks): a worker holds the run's lock shared and its shard's lock exclusively while it answers;
the aggregation takes the run's lock exclusively, which succeeds only when no worker is still
answering. So a second launch of the same shard is refused, a run without shards waits for none
(it is refused while shards answer), and whichever worker finishes last finds every row in.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from evalharness.errors import EvalharnessError, Stopped
from evalharness.runner._reuse import older_answers, reusable
from evalharness.runner.progress import Progress
from evalharness.runner.spec import Shard
from evalharness.store import ResultsStore, RunLockedError, RunRecord
from evalharness.types import Sample

if TYPE_CHECKING:
    import pandas as pd

    from evalharness.benchmarks.base import Benchmark
    from evalharness.models.base import Model
    from evalharness.runner.finish import RunResult
    from evalharness.runner.plan import RunPlan
    from evalharness.runner.spec import RunSpec

WAIT_S = 600.0
"""How long a shard waits for the run's lock that another process holds (see `_wait_shared`)."""
SHARDS_FOLDER = "shards"
"""In a run's samples folder: a status file per shard (`K-of-N.json`) and its lock."""


class ShardError(EvalharnessError, ValueError):
    """The shard settings cannot be used; the message says why."""


def shard_from(
    shards: int | None, shard: int | None, env: Mapping[str, str] | None = None
) -> Shard | None:
    """The shard this process answers: `shard`/`shards` when given, else the rank and world
    size that torchrun and accelerate set (RANK, WORLD_SIZE); None for the whole run."""
    env = os.environ if env is None else env
    if shards is None and shard is None:
        size = int(env.get("WORLD_SIZE", "1") or 1)
        return Shard(int(env.get("RANK", "0") or 0), size) if size > 1 else None
    if shards is None:
        raise ShardError(f"shard={shard} needs shards=N, the number of shards.")
    if shards < 1:
        raise ShardError(f"shards must be at least 1, got {shards}.")
    if shard is None:
        raise ShardError(
            f"shards={shards} runs each run as {shards} jobs: add -m to sweep over its shards "
            "(on any launcher: hydra/launcher=submitit_slurm submits them as an array), give "
            f"shard=K (0 to {shards - 1}) to run one, or use workers=N for ranks on this machine."
        )
    if not 0 <= shard < shards:
        raise ShardError(f"shard must be from 0 to {shards - 1} (shards={shards}), got {shard}.")
    return Shard(shard, shards) if shards > 1 else None


def rank_device(device: str, env: Mapping[str, str] | None = None) -> str:
    """One device per rank: `auto` becomes the GPU of this rank's LOCAL_RANK (as torchrun and
    accelerate set it) when there are GPUs; any other device is kept as given."""
    env = os.environ if env is None else env
    local = env.get("LOCAL_RANK", "")
    if device != "auto" or not local.isdigit():
        return device
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        return device
    return f"cuda:{int(local) % count}"  # one GPU each; more ranks than GPUs share them


def shard_samples(samples: Sequence[Sample], shard: Shard) -> list[Sample]:
    """This shard's samples, in run order. The rule is stable (it depends on the sample ids
    alone) and balanced: samples are ordered by cost (images, then prompt length), ties by a
    hash of their id, and dealt to the shards in turn, so shard sizes differ by at most one and
    every shard gets its share of the expensive samples."""

    def rank(s: Sample) -> tuple[int, int, str]:
        return (-len(s.images), -len(s.prompt), hashlib.sha256(s.id.encode()).hexdigest())

    order = sorted(samples, key=rank)
    mine = {s.id for s in order[shard.index :: shard.count]}
    return [s for s in samples if s.id in mine]


def run_shard(
    spec: RunSpec,
    model: Model,
    benchmark: Benchmark,
    store: ResultsStore,
    progress: Progress,
    plan: RunPlan,
) -> RunResult | None:
    """Answer this shard's samples of the run; aggregate the run when every shard is in.
    Returns the run's result when this worker aggregated it, None otherwise."""
    from evalharness.images import pixel_cap
    from evalharness.runner.batches import answer_all
    from evalharness.runner.execute import _running, ending

    shard = spec.shard
    assert shard is not None
    samples, run_id, key = plan.samples, plan.run_id, plan.key
    mine = shard_samples(samples, shard)
    title = f"{spec.model_label} × {benchmark.name}"
    if not mine:
        print(
            f"note: {title}: {shard} has no samples (the run has {len(samples)}, fewer than "
            f"its {shard.count} shards); the other shards answer them.",
            file=sys.stderr,
        )
    try:
        with _stop_on_signals(), _shard_lock(store, run_id, shard):
            done = reusable(store.read_samples(run_id, spare=True), mine, key)
            if not done:
                done = _taken_over(store, benchmark, plan, mine, shard)
            status = _ShardStatus(store, run_id, shard)
            status.write("running", len(mine), len(done))
            if (store.read_run(run_id) or {}).get("status") != "running":
                running = replace(plan.base_row, status="running", status_reason="")
                store.write_run(running.row())
            todo = [s for s in mine if s.id not in done]
            # one bar for the run, fed from the store, shown by the first shard; none per shard
            bar = _StoreBar(store, run_id, samples, title, progress) if shard.index == 0 else None
            quiet = Progress(1, enabled=False)
            try:
                with bar or contextlib.nullcontext(), pixel_cap(spec.max_image_pixels):
                    answer_all(
                        spec, model, benchmark, plan.generation, store, run_id, key, todo, quiet
                    )
                    if bar is not None and os.environ.get("WORLD_SIZE"):
                        # ranks started together (torchrun, accelerate): the bar follows the others
                        # to the end, and this rank aggregates once they are done
                        while _others_answering(store, run_id, shard):
                            time.sleep(0.5)
            except BaseException as exc:
                state, reason = ending(exc)
                with contextlib.suppress(Exception):
                    status.write(state, len(mine), len(done), reason)
                raise
            status.write("done", len(mine), len(mine))
    except BaseException as exc:  # the run says so too, unless another shard still answers
        state, reason = ending(exc)
        row = replace(plan.base_row, status=state, status_reason=f"{shard}: {reason}")
        with contextlib.suppress(Exception):
            _write_if_alone(store, row)
        raise
    return _aggregate_if_complete(spec, benchmark, store, plan, _running)


def _taken_over(
    store: ResultsStore, benchmark: Benchmark, plan: RunPlan, mine: Sequence[Sample], shard: Shard
) -> dict[str, dict[str, Any]]:
    """This shard's answers taken over from an older version's run, or from this run stored
    under a former key (as a whole run does, `older_answers`): stored as this shard's rows, so
    that the run's aggregation finds them."""
    taken, origin = older_answers(
        store, benchmark, mine, plan.key_fields, plan.run_id, plan.key, plan.former
    )
    if taken:
        store.append_samples(plan.run_id, list(taken.values()), shard.tag)
        plan.base_row = replace(plan.base_row, answers_from=origin)
    return taken


def _answered(stored: pd.DataFrame, plan: RunPlan) -> dict[str, dict[str, Any]]:
    """Every sample's stored row of this run (its resume key matches), errors included: a
    sample that errored was answered, as in a single process, and a rerun retries it."""
    if stored.empty:
        return {}
    by_id = {s.id: s for s in plan.samples}
    return {
        rec["sample_id"]: rec
        for rec in stored.to_dict("records")
        if rec["sample_id"] in by_id and plan.key(by_id[rec["sample_id"]]) == rec.get("cache_key")
    }


def _write_if_alone(store: ResultsStore, row: RunRecord) -> None:
    """Write the run's row unless a shard holds the run's lock (it will write its own)."""
    with contextlib.suppress(RunLockedError), store.lock(row.run_id):
        store.write_run(row.row())


def _aggregate_if_complete(
    spec: RunSpec, benchmark: Benchmark, store: ResultsStore, plan: RunPlan, running: Any
) -> RunResult | None:
    """Aggregate the run when no shard still answers and every sample has its row; when one
    has not, say which shards lack rows and mark the run interrupted."""
    from evalharness.runner.finish import complete_run

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.lock(plan.run_id))
        except RunLockedError:
            return None  # a shard still answers: the last one in aggregates
        by_id = _answered(store.read_samples(plan.run_id, spare=True), plan)
        missing = [s for s in plan.samples if s.id not in by_id]
        if missing:
            count = spec.shard.count if spec.shard else 1
            gone = {s.id for s in missing}
            names = ", ".join(
                f"shard={i}"
                for i in range(count)
                if gone & {s.id for s in shard_samples(plan.samples, Shard(i, count))}
            )
            reason = (
                f"{len(missing)} of {len(plan.samples)} samples have no answer yet ({names} of "
                f"shards={count} not finished); the last shard to finish aggregates the run, "
                "and a shard that was stopped completes them when run again"
            )
            stopped = replace(plan.base_row, status="interrupted", status_reason=reason)
            store.write_run(stopped.row())
            print(f"note: {spec.model_label} × {benchmark.name}: {reason}.", file=sys.stderr)
            return None
        with running(store, plan.base_row):
            result = complete_run(spec, benchmark, store, plan, by_id, 0)
        # every shard is done (none holds the run's lock): their statuses and locks go
        shutil.rmtree(store.root / "samples" / plan.run_id / SHARDS_FOLDER, ignore_errors=True)
        return result
    return None  # pragma: no cover (the lock's context does not swallow exceptions)


@contextlib.contextmanager
def _shard_lock(store: ResultsStore, run_id: str, shard: Shard) -> Iterator[None]:
    """The run's lock shared (no aggregation meanwhile) and this shard's exclusively."""
    folder = store.root / "samples" / run_id
    (folder / SHARDS_FOLDER).mkdir(parents=True, exist_ok=True)
    run_fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    shard_fd = os.open(folder / SHARDS_FOLDER / f".{shard.tag}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(shard_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLockedError(
                f"{shard} of run {run_id} is being answered by another process right now (a "
                "second launch of the same sharded run?); this one leaves it alone."
            ) from exc
        _wait_shared(run_fd, run_id)
        yield
    finally:
        os.close(shard_fd)
        os.close(run_fd)


def _others_answering(store: ResultsStore, run_id: str, shard: Shard) -> bool:
    """Is another shard of this run answering now (it holds its lock), or yet to start (no
    status of it yet)? For ranks started together, which all start."""
    folder = store.root / "samples" / run_id / SHARDS_FOLDER
    for i in range(shard.count):
        if i == shard.index:
            continue
        path = folder / f".{Shard(i, shard.count).tag}.lock"
        if not (folder / f"{Shard(i, shard.count).tag}.json").exists():
            return True
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
    return False


def _wait_shared(fd: int, run_id: str, patience_s: float = WAIT_S) -> None:
    """The run's lock, shared. Another shard holds it exclusively for a moment while it checks
    whether the run is complete (and while it scores it): wait for that. A run without shards
    holds it for as long as it runs: after `patience_s` seconds, give up with one line."""
    deadline = time.monotonic() + patience_s
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise RunLockedError(
                    f"run {run_id} has been held by another process for {patience_s:.0f} s (a "
                    "run without shards, or a shard scoring it); wait for it, then run again."
                ) from None
            if not said:
                print(f"note: waiting for run {run_id}: another process holds it", file=sys.stderr)
                said = True
            time.sleep(0.2)


class _ShardStatus:
    """A shard's status file: running, done, interrupted or failed, with its counts."""

    def __init__(self, store: ResultsStore, run_id: str, shard: Shard) -> None:
        self.path = store.root / "samples" / run_id / SHARDS_FOLDER / f"{shard.tag}.json"

    def write(self, status: str, total: int, done: int, reason: str = "") -> None:
        from evalharness.store._files import atomic_write_bytes

        doc = {"status": status, "samples": total, "done": done, "reason": reason}
        doc["host"], doc["pid"] = os.uname().nodename, os.getpid()
        atomic_write_bytes(self.path, json.dumps(doc).encode(), durable=False)


def shard_statuses(store: ResultsStore, run_id: str) -> dict[str, dict[str, Any]]:
    """Every shard's last status of a run, by shard tag (`s0of2`)."""
    folder = store.root / "samples" / run_id / SHARDS_FOLDER
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            found[path.stem] = json.loads(path.read_text())
    return found


class _StoreBar:
    """One bar for the whole run, whichever shard answered: samples with a row in the store,
    read every second (samples/s and ETA follow)."""

    def __init__(
        self,
        store: ResultsStore,
        run_id: str,
        samples: Sequence[Sample],
        title: str,
        progress: Progress,
    ) -> None:
        self.store, self.run_id, self.progress, self.title = store, run_id, progress, title
        self.ids = {s.id for s in samples}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="shard-bar", daemon=True)

    def _count(self) -> int:
        with contextlib.suppress(Exception):  # a part compacted away meanwhile: next time
            frame = self.store.read_samples(self.run_id, columns=["error"])
            if frame.empty:
                return 0
            ok = frame[~frame["error"].map(lambda e: isinstance(e, str))]
            return int(ok["sample_id"].isin(self.ids).sum())
        return -1

    def __enter__(self) -> _StoreBar:
        self.progress.start_run(f"{self.title} (all shards)", len(self.ids), max(self._count(), 0))
        self._thread.start()
        return self

    def _follow(self) -> None:
        while not self._stop.wait(1.0):
            self._sync()

    def _sync(self) -> None:
        count = self._count()
        if count >= 0:
            self.progress.set_done(count)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sync()
        self.progress.end_run()


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM (what SLURM and torchrun send to stop a worker) and SIGHUP stop the shard as
    Ctrl-C does: its rows are flushed and it is marked interrupted. Handlers already set by
    the command line are kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signal.Signals(signum).name)

    saved = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            saved[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


__all__ = [
    "ShardError",
    "rank_device",
    "run_shard",
    "shard_from",
    "shard_samples",
    "shard_statuses",
]
