"""METEOR 1.5 as the COCO evaluation runs it: pycocoevalcap's jar, options and line protocol.

Starting the jar costs seconds (a JVM that loads paraphrase tables) and scoring a benchmark's
captions a fraction of that, so one process serves every scoring in the interpreter: a sweep's
runs share it. It ends when it has been idle for `IDLE_S` seconds, at interpreter exit, or on
`close()`; a process that fails is ended and the next scoring starts a new one. Java's messages
go to a file rather than a pipe nobody reads (a full pipe would stall the process), and are
quoted when it fails.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from evalharness.errors import EvalharnessError

IDLE_S = 120.0


class MeteorError(EvalharnessError, RuntimeError):
    """The METEOR process failed; the message quotes what Java said."""


class _Process:
    def __init__(self) -> None:
        from pycocoevalcap.meteor import meteor

        self.log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by end)
        self.proc = subprocess.Popen(
            ["java", "-jar", "-Xmx2G", meteor.METEOR_JAR, "-", "-", "-stdio", "-l", "en", "-norm"],
            cwd=Path(meteor.__file__).parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as exc:  # the process has gone
            raise MeteorError(f"METEOR (Java) stopped taking input ({exc}): {self.said()}") from exc

    def read(self) -> str:
        assert self.proc.stdout is not None
        answer = self.proc.stdout.readline()
        if not answer:
            raise MeteorError(f"METEOR (Java) ended unexpectedly: {self.said()}")
        return answer.decode().strip()

    def said(self) -> str:
        self.log.seek(0)
        return " ".join(self.log.read().decode(errors="replace").split())[-500:] or "no message"

    def end(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.log):
            if stream is not None:
                with contextlib.suppress(OSError):  # unsent input meets a closed pipe
                    stream.close()


_lock = threading.Lock()
_process: _Process | None = None
_timer: threading.Timer | None = None


def score(
    gts: Mapping[str, Sequence[str]], res: Mapping[str, Sequence[str]]
) -> tuple[float, list[float], list[str]]:
    """Corpus METEOR, one value per image and each image's statistics line, in `gts` order, as
    pycocoevalcap computes them.

    `gts` maps image id → reference captions, `res` image id → a one-caption list; every text
    already on one line. The lines sent are pycocoevalcap's (`meteor/meteor.py`, `_stat`): a
    caption loses any "|||" (the protocol's separator) and then one of each pair of spaces; a
    reference is sent as it is, so one holding "|||" reads as two references there and here.
    """
    global _process, _timer
    ids = list(gts)
    with _lock:
        if _timer is not None:
            _timer.cancel()
        try:
            if _process is not None and _process.proc.poll() is not None:
                _end()  # it ended while idle (killed, out of memory): start another
            if _process is None:
                _process = _Process()
            stats = []
            for i in ids:  # one SCORE line per image: its statistics line back
                caption = res[i][0].replace("|||", "").replace("  ", " ")
                _process.send(" ||| ".join(("SCORE", " ||| ".join(gts[i]), caption)))
                stats.append(_process.read())
            # EVAL with every image's statistics: a value per image, then the corpus value
            _process.send(" ||| ".join(("EVAL", *stats)))
            per_image = [float(_process.read()) for _ in ids]
            corpus = float(_process.read())
        except BaseException:
            _end()  # a process in an unknown state is not reused
            raise
        _timer = threading.Timer(IDLE_S, close)
        _timer.daemon = True
        _timer.start()
    return corpus, per_image, stats


def close() -> None:
    """End the METEOR process, if one is running."""
    with _lock:
        _end()


def _end() -> None:
    global _process, _timer
    if _timer is not None:
        _timer.cancel()
        _timer = None
    if _process is not None:
        _process.end()
        _process = None


def running_pid() -> int | None:
    """The process id of the running METEOR process, or None."""
    with _lock:
        return _process.proc.pid if _process is not None else None


def _forget_in_child() -> None:
    # A forked child shares the parent's pipes to its process: it starts its own instead.
    global _lock, _process, _timer
    _lock, _process, _timer = threading.Lock(), None, None


atexit.register(close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
