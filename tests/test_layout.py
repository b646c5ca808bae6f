"""The tests are laid out like the package: each folder of tests is named after the package it
tests (`tests/runner/` for `evalharness/runner/`), so a newcomer finds a module's tests at once."""

from __future__ import annotations

from repo_paths import REPO, TESTS

DATA = {"golden", "plugin_pkg", "__pycache__"}
"""Folders of test data, not of tests: official scripts' outputs and the example plugin."""


def test_every_test_folder_mirrors_a_package() -> None:
    folders = {
        p.parent.relative_to(TESTS)
        for p in TESTS.rglob("test_*.py")
        if not DATA & set(p.relative_to(TESTS).parts)
    }
    assert folders, "no test modules found"
    strays = sorted(
        str(f) for f in folders if f.parts and not any((REPO / "evalharness" / f).glob("*.py"))
    )
    assert not strays, f"test folders with no package of the same path under evalharness/: {strays}"
