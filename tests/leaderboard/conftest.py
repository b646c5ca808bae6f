"""Shared fixtures: one fake results folder and one site, built once per test session."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from evalharness.leaderboard import build_site

from .fake_results import make_results

# starts with javascript: so that any href built from a raw name would start with it
PAYLOAD = (
    'javascript:alert(1)//<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    "</script><script>{{7*7}}'\u2028\u2029&amp;<!--"
)
_DATA = re.compile(r'^EH_DATA\[("[^"]*")\]=(.*);\n$', re.S)


def read_data(path: Path) -> tuple[str, Any]:
    """The key and value of a site data script (`EH_DATA["key"]=<json>;`)."""
    match = _DATA.match(path.read_text(encoding="utf-8"))
    assert match, f"{path} is not a data script"
    return json.loads(match.group(1)), json.loads(match.group(2))


@pytest.fixture(scope="session")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_results(
        tmp_path_factory.mktemp("results"), n_models=5, n_benchmarks=8, n_samples=30
    )


@pytest.fixture(scope="session")
def site(results: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "board"
    index = build_site(results, out, title="Test board")
    assert index == out / "index.html"
    return out


@pytest.fixture(scope="session")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site built from results with PAYLOAD in every text field of every table."""
    results = make_results(
        tmp_path_factory.mktemp("xss"), n_models=3, n_benchmarks=3, n_samples=8, payload=PAYLOAD
    )
    out = tmp_path_factory.mktemp("xss_site") / "site"
    build_site(results, out, title=PAYLOAD)
    return out
