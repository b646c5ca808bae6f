"""Loading: offline failures in one line, schema errors naming the columns, local overrides,
lazy images, the `n` cap, versions, and the configs that name the adapters."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_paths import REPO

from evalharness.benchmarks.hub import DatasetSchemaError, DatasetUnavailableError
from evalharness.benchmarks.hub._load import HubImage
from evalharness.models.base import ModelSpec
from evalharness.runner import BenchmarkSpec, RunSpec, run_job

from .fixtures import ADAPTERS, adapter, image_cell, png, write_parquet

CONFIGS = REPO / "configs"


def pope_rows(n: int, drop: tuple[str, ...] = ()) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    from datasets import Image, Value

    rows: dict[str, list[Any]] = {
        "question_id": [str(i) for i in range(n)],
        "question": ["Is there a dog in the image?"] * n,
        "answer": ["yes", "no"] * (n // 2) + ["yes"] * (n % 2),
        "image_source": [f"img{i}" for i in range(n)],
        "image": [image_cell(i) for i in range(n)],
        "category": ["random"] * n,
    }
    features = {k: Value("string") for k in rows} | {"image": Image()}
    for c in drop:
        del rows[c], features[c]
    return rows, features


def test_offline_without_a_copy_fails_fast_in_one_line(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from evalharness.benchmarks.hub.vqav2 import VQAv2
        from evalharness.errors import EvalharnessError
        try:
            VQAv2(n=5).samples()
        except EvalharnessError as exc:
            print(type(exc).__name__, "|", exc)
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    [line] = proc.stdout.splitlines()
    assert line.startswith("DatasetUnavailableError | vqav2: cannot load 'lmms-lab/VQAv2'")
    assert "split 'validation'" in line and "local cache" in line
    assert "benchmark.args.path=/local/folder" in line
    assert "benchmark.args.data_files=/local/validation.parquet" in line
    assert "Retry" not in proc.stderr  # no retry loop against an unreachable hub


def test_unreachable_hub_loads_from_the_cache_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets.config
    import huggingface_hub.constants

    from evalharness.benchmarks.hub import _load

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(_load, "hub_reachable", lambda: False)
    before = datasets.config.HF_HUB_OFFLINE, huggingface_hub.constants.HF_HUB_OFFLINE
    with pytest.raises(DatasetUnavailableError, match=r"pope: .*from the local cache \(hub unre"):
        adapter("pope")().samples()
    # offline mode was switched on for that one load only
    assert before == (datasets.config.HF_HUB_OFFLINE, huggingface_hub.constants.HF_HUB_OFFLINE)


def test_the_runner_surfaces_the_error_as_a_user_error(tmp_path: Path) -> None:
    from evalharness.errors import EvalharnessError

    spec = RunSpec(
        ModelSpec("oracle"),
        (BenchmarkSpec("pope", {"data_files": str(tmp_path / "missing" / "test.parquet")}),),
        str(tmp_path / "results"),
        progress=False,
    )
    with pytest.raises(EvalharnessError, match=r"pope: '.*missing.*' does not exist; point bench"):
        run_job(spec)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    rows, features = pope_rows(2, drop=("answer", "category"))
    file = write_parquet(tmp_path / "pope.parquet", rows, features)
    with pytest.raises(DatasetSchemaError) as err:
        adapter("pope")(data_files=str(file)).samples()
    assert "lacks column(s) answer, category" in str(err.value)
    assert "lmms-lab/POPE schema" in str(err.value)


def test_an_unknown_split_is_a_dataset_error(tmp_path: Path) -> None:
    rows, features = pope_rows(2)
    write_parquet(tmp_path / "pope" / "test.parquet", rows, features)
    with pytest.raises(DatasetUnavailableError, match=r"split 'validation'.*Unknown split"):
        adapter("pope")(path=str(tmp_path / "pope"), split="validation").samples()


def test_images_stay_in_the_dataset_until_used(tmp_path: Path) -> None:
    rows, features = pope_rows(5)
    file = write_parquet(tmp_path / "pope.parquet", rows, features)
    samples = adapter("pope")(data_files=str(file), n=3).samples()
    assert [s.id for s in samples] == ["random-0", "random-1", "random-2"]
    image = samples[2].images[0]
    assert isinstance(image, HubImage) and image.index == 2
    assert image.data() == png(2) and image.load().getpixel((0, 0)) == (0, 0, 255)
    assert len({s.images[0].fingerprint() for s in samples}) == 3


def test_a_file_path_is_a_local_copy(tmp_path: Path) -> None:
    rows, features = pope_rows(2)
    file = write_parquet(tmp_path / "copy.parquet", rows, features)
    assert len(adapter("pope")(path=str(file)).samples()) == 2


def test_every_knob_but_image_root_changes_the_version() -> None:
    vqa = adapter("vqav2")
    base = vqa().version
    changed = [
        vqa(n=10),
        vqa(split="testdev"),
        vqa(revision="abc"),
        vqa(path="mirror/VQAv2"),
        vqa(data_files={"validation": "v.parquet"}),
    ]
    assert len({base, *(b.version for b in changed)}) == 6
    assert vqa().version == base
    assert adapter("vsr")().version == adapter("vsr")(image_root="/images").version


def test_bad_cap_is_a_user_error() -> None:
    from evalharness.errors import EvalharnessError

    with pytest.raises(EvalharnessError, match="n must be at least 1"):
        adapter("textvqa")(n=0)


def test_configs_name_registered_adapters() -> None:
    for name in ADAPTERS:
        config = yaml.safe_load((CONFIGS / "benchmark" / f"{name}.yaml").read_text())
        assert config["name"] == name
        adapter(name)(**config.get("args", {}))  # every configured knob exists
    suite = yaml.safe_load((CONFIGS / "suite" / "hub.yaml").read_text())
    assert suite["name"] == "hub" and set(suite["benchmarks"]) <= set(ADAPTERS)
