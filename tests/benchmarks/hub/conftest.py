"""The hub adapters and a scripted model, registered for every test in this folder; `datasets`
caches what it prepares under the test's temporary folder, not the user's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fixtures import register


@pytest.fixture(autouse=True)
def hub_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")
    register()
