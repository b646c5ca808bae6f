"""The registries: entry points read once per import path, plugins seen as the path changes."""

from __future__ import annotations

import sys
from pathlib import Path

from evalharness import registry


def test_a_plugin_put_on_the_path_later_is_seen_and_gone_when_removed(plugin_site: Path) -> None:
    assert "example_parity" not in registry.benchmarks.names()  # the scan is now remembered
    sys.path.insert(0, str(plugin_site))
    try:
        assert "example_parity" in registry.benchmarks.names()
        assert registry.benchmarks.summary("example_parity")
    finally:
        sys.path.remove(str(plugin_site))
    assert "example_parity" not in registry.benchmarks.names()
    assert "synth_counting" in registry.benchmarks.names()
