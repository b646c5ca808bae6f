"""`python -m evalharness.leaderboard RESULTS OUT`: build the site without the Hydra CLI."""

from __future__ import annotations

import argparse
import sys

from evalharness.leaderboard import build_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evalharness.leaderboard", description=__doc__)
    parser.add_argument("results", help="results folder (results/ by default in evalharness runs)")
    parser.add_argument("out", help="folder to write the site into (created; rebuilt in place)")
    parser.add_argument("--title", default="evalharness leaderboard")
    args = parser.parse_args(argv)
    try:
        index = build_site(args.results, args.out, title=args.title)
    except (
        RuntimeError,
        OSError,
        ValueError,
    ) as exc:  # SiteError and the store's errors say what to do
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
