"""How well answer extraction reads the replies of current models: the share of the corpus in
tests/extract/corpus.yaml read right, per kind, and the wrong guesses (a value where the reply
gives none, or another value).

Run: python benchmarks/bench_extraction.py [--baseline REV] [--misses] [--batch 1|2|3|all]
--baseline REV reads the same corpus with the extraction code of git revision REV too (a
single-file `evalharness/extract.py` or the `evalharness/extract/` package), side by side.
--misses lists every reply read wrongly. --batch picks a batch of the corpus: batch 1 was written
with the rules, batches 2 and 3 after them, each read once before any change to the rules (on
them the current rules read 59/60 and 30/30, those before reasoning traces were handled 45/60
and 25/30).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "extract" / "corpus.yaml"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


KINDS = ("yes_no", "number", "choice")


def cases(batch: str = "all") -> list[tuple[str, str, Any, list[str]]]:
    """(kind, reply, expected, choices) for the corpus entries of a batch ("1", "2", "3" or
    "all"); letters become indices."""
    doc = yaml.safe_load(CORPUS.read_text())
    out = []
    for kind in KINDS:
        names = {"1": [kind], "2": [f"{kind}_2"], "3": [f"{kind}_3"]}
        sections = names.get(batch, [kind, f"{kind}_2", f"{kind}_3"])
        for entry in (e for section in sections for e in doc[section]):
            expected = entry["expected"]
            choices = entry.get("choices", doc["default_choices"])
            if kind == "choice" and expected is not None:
                expected = LETTERS.index(expected)
            out.append((kind, entry["reply"], expected, choices))
    return out


def reader(module: types.ModuleType, kind: str) -> Callable[[str, list[str]], Any]:
    if kind == "choice":
        return module.choice  # type: ignore[no-any-return]
    fn = getattr(module, kind)
    return lambda text, _choices: fn(text)


def at_revision(rev: str, into: Path) -> types.ModuleType:
    """The extraction module of git revision `rev`, imported under another name."""
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "evalharness/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wanted = [
        f for f in files if f == "evalharness/extract.py" or f.startswith("evalharness/extract/")
    ]
    if not wanted:
        raise SystemExit(f"revision {rev} has no evalharness/extract")
    for name in wanted:
        target = into / "baseline_extract" / name.removeprefix("evalharness/extract")
        if name == "evalharness/extract.py":
            target = into / "baseline_extract" / "__init__.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{name}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        target.write_text(text)
    sys.path.insert(0, str(into))
    return importlib.import_module("baseline_extract")


def score(
    module: types.ModuleType, batch: str, show_misses: bool, label: str
) -> dict[str, tuple[int, int, int]]:
    """Per kind: (read right, wrong guesses, entries)."""
    out: dict[str, tuple[int, int, int]] = {}
    for kind, reply, expected, choices in cases(batch):
        right, wrong, n = out.get(kind, (0, 0, 0))
        try:
            got = reader(module, kind)(reply, choices)
        except Exception as exc:  # an old revision may raise where the current one must not
            got = f"raised {type(exc).__name__}"
        ok = got == expected and type(got) is type(expected)
        guessed = not ok and got is not None
        if not ok and show_misses:
            print(f"  [{label}] {kind}: {reply!r}\n      expected {expected!r}, read {got!r}")
        out[kind] = (right + ok, wrong + guessed, n + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a git revision to compare with")
    parser.add_argument("--misses", action="store_true", help="list the replies read wrongly")
    parser.add_argument(
        "--batch", choices=("1", "2", "3", "all"), default="all", help="which batch of the corpus"
    )
    args = parser.parse_args()
    columns: list[tuple[str, dict[str, tuple[int, int, int]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            old = at_revision(args.baseline, Path(tmp))
            columns.append((args.baseline, score(old, args.batch, args.misses, args.baseline)))
        current = importlib.import_module("evalharness.extract")
        columns.append(("current", score(current, args.batch, args.misses, "current")))
    print(f"{'kind':<8}" + "".join(f"{label[:12]:>36}" for label, _ in columns))
    for kind in (*KINDS, "all"):
        cells = []
        for _, result in columns:
            picked = result.values() if kind == "all" else [result[kind]]
            right, wrong, n = (sum(v[i] for v in picked) for i in range(3))
            cells.append(f"{right:>3}/{n:<3} {100 * right / n:5.1f} %  {wrong:>3} wrong guesses")
        print(f"{kind:<8}" + "".join(f"{c:>36}" for c in cells))


if __name__ == "__main__":
    main()
