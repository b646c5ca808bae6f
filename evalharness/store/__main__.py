"""`python -m evalharness.store`: the schema doc generated from the records (to stdout, or
written to `--write PATH`, as scripts/results-schema.sh writes docs/results-schema.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evalharness.store._doc import schema_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evalharness.store",
        description="Print the results schema doc, generated from the typed records.",
    )
    parser.add_argument("--write", metavar="PATH", help="write it to PATH instead")
    args = parser.parse_args(argv)
    text = schema_markdown()
    if args.write is None:
        sys.stdout.write(text)
    else:
        Path(args.write).write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
