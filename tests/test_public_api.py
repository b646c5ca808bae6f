"""The public API: what `import evalharness` offers plugins and notebooks, loaded on first use."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from repo_paths import TESTS

import evalharness

PLUGIN = TESTS / "plugin_pkg" / "evalharness_example_plugin"


@pytest.mark.parametrize("name", [n for n in evalharness.__all__ if n != "__version__"])
def test_each_public_name_is_the_object_its_module_defines(name: str) -> None:
    from importlib import import_module

    value = getattr(evalharness, name)
    home = import_module(evalharness._WHERE[name])
    assert value is (home if home.__name__ == f"evalharness.{name}" else getattr(home, name))
    assert name in dir(evalharness)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Sampel'"):
        evalharness.Sampel  # noqa: B018
    with pytest.raises(ImportError):
        exec("from evalharness import Sampel", {})


def test_the_package_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, evalharness; "
        "print(sorted(m for m in ('torch', 'transformers', 'pandas', 'pyarrow', 'numpy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_example_plugin_imports_only_the_public_api() -> None:
    used: list[str] = []
    for path in PLUGIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("evalharness"):
                assert node.module == "evalharness", f"{path.name} imports {node.module}"
                used += [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("evalharness") for a in node.names)
    assert used and set(used) <= set(evalharness.__all__)
