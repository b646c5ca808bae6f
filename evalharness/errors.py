"""The base of every error whose message is complete for a user: what is wrong, how to fix it.

The CLI prints such errors as one line and exits non-zero; anything else is a crash and keeps its
traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


class EvalharnessError(Exception):
    """A user-facing error: the message says what is wrong and what to do."""


def quoted(exc: BaseException) -> str:
    """Another library's error message to quote inside one of ours: one line, no closing period
    (so "… cached files. Check …" does not end in ".." before our own advice)."""
    return " ".join(str(exc).split()).rstrip(".")


def did_you_mean(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{hint} Known: {', '.join(sorted(options))}."


def unknown_settings(owner: str, given: Iterable[str], known: Mapping[str, str]) -> str | None:
    """The message for settings `owner` does not take, or None if it takes them all: the closest
    known name for each, then every known one with what it does."""
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    listing = "\n".join(f"  {k}: {v}" for k, v in known.items())
    return f"{owner}: unknown args {', '.join(hints)}. Known args:\n{listing}"


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM, SIGHUP): handled as Ctrl-C is."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
