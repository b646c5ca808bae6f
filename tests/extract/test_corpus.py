"""Replies written the way current models write them (corpus.yaml), read as a careful reader
reads them: every entry right, except the few marked as known misses, which must read as None
(unreadable), never as a wrong value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from evalharness import extract

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus.yaml").read_text())
KINDS = ("yes_no", "number", "choice")


def _entries() -> list[Any]:
    out = []
    for kind in KINDS:
        for section in (kind, f"{kind}_2", f"{kind}_3"):
            for i, entry in enumerate(CORPUS[section]):
                expected = entry["expected"]
                if kind == "choice" and expected is not None:
                    expected = "ABCDEFGH".index(expected)
                choices = entry.get("choices", CORPUS["default_choices"])
                out.append(
                    pytest.param(
                        kind, entry["reply"], expected, choices, bool(entry.get("known_miss")),
                        id=f"{section}-{i}-{entry['style']}",
                    )
                )  # fmt: skip
    return out


def _read(kind: str, reply: str, choices: list[str]) -> Any:
    if kind == "choice":
        return extract.choice(reply, choices)
    return extract.yes_no(reply) if kind == "yes_no" else extract.number(reply)


@pytest.mark.parametrize(("kind", "reply", "expected", "choices", "known_miss"), _entries())
def test_corpus_reply_is_read_right(
    kind: str, reply: str, expected: Any, choices: list[str], known_miss: bool
) -> None:
    got = _read(kind, reply, choices)
    if known_miss:
        assert got is None  # unreadable, which a judge may take up; never a wrong value
    else:
        assert got == expected and type(got) is type(expected)


def test_the_corpus_has_many_replies_of_each_kind_and_few_known_misses() -> None:
    entries = [e for k in KINDS for s in (k, f"{k}_2", f"{k}_3") for e in CORPUS[s]]
    for kind in KINDS:
        mine = CORPUS[kind] + CORPUS[f"{kind}_2"] + CORPUS[f"{kind}_3"]
        assert len(mine) >= 70
        assert sum(e["expected"] is None for e in mine) >= 8
    assert sum(bool(e.get("known_miss")) for e in entries) <= 0.05 * len(entries)
    assert len({e["style"] for e in entries}) >= 12
