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


def test_a_plugin_installed_into_a_folder_on_the_path_is_seen(tmp_path: Path) -> None:
    sys.path.insert(0, str(tmp_path))
    try:
        assert "late_bench" not in registry.benchmarks.names()
        info = tmp_path / "late_plugin-0.dist-info"  # what pip writes, after the first scan
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: late-plugin\nVersion: 0\n")
        (info / "entry_points.txt").write_text(
            "[evalharness.benchmarks]\nlate_bench = late_plugin:Bench\n"
        )
        assert "late_bench" in registry.benchmarks.names()
    finally:
        sys.path.remove(str(tmp_path))
    assert "late_bench" not in registry.benchmarks.names()
