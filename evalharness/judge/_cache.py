"""The verdict cache: a judge is never asked twice for the same prompt.

A prompt holds the item and the reply, and the cache key adds the judge (its identity, answer
length and templates), so reruns and `evalharness rescore` take every verdict they have had
before from here. Verdicts live in the results folder, one JSON line each, appended (one write a
line, so parallel jobs may share the file), under `judge/verdicts.jsonl`. Only replies are
cached: a judge that failed is asked again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CACHE_FILE = Path("judge") / "verdicts.jsonl"


class VerdictCache:
    def __init__(self, results_dir: str | Path) -> None:
        self.path = Path(results_dir) / CACHE_FILE
        self._known: dict[str, str] | None = None
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(judge_key: str, prompt: str) -> str:
        return hashlib.sha256(f"{judge_key}\x00{prompt}".encode()).hexdigest()[:32]

    def _load(self) -> dict[str, str]:
        if self._known is None:
            self._known = {}
            try:
                lines = self.path.read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                lines = []
            for line in lines:
                try:  # a line cut short by a crash is skipped: its verdict is asked again
                    entry = json.loads(line)
                    self._known[str(entry["key"])] = str(entry["reply"])
                except (ValueError, KeyError, TypeError):
                    continue
        return self._known

    def get(self, key: str, *former: str) -> str | None:
        """The reply cached under `key`, else under the first of `former` that has one (the
        same prompt as an earlier version keyed it)."""
        known = self._load()
        found = next((known[k] for k in (key, *former) if k in known), None)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, entries: dict[str, str]) -> None:
        if not entries:
            return
        known = self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(
            json.dumps({"key": k, "reply": v}, ensure_ascii=True) + "\n" for k, v in entries.items()
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, lines.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        known.update(entries)
