"""Where the tests find the repository's files, wherever a test module lies."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
GOLDEN = TESTS / "golden"
"""Official scripts' outputs on generated cases (see golden/README.md)."""
