"""Image fingerprints and sample hashes are worked out once per object: a run names every image
several times (resume keys, the run's data hash, rows, thumbnails), and hashing pixels or reading
files again each time was a good share of the runner's own cost per sample. A fresh run hashes
each batch as it is prepared, not every sample before the first batch."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from model_helpers import Listed, SaysYes
from PIL import Image

from evalharness.models.base import ModelSpec
from evalharness.runner.execute import run_benchmark
from evalharness.runner.progress import Progress
from evalharness.runner.spec import RunSpec, stable_hash
from evalharness.store import ResultsStore, load_runs, load_samples
from evalharness.types import (
    EncodedImage,
    FileImage,
    ImageError,
    PILImageSource,
    Sample,
)


def image(i: int) -> Image.Image:
    return Image.new("RGB", (32, 24), (i * 40 % 256, 80, 160))


def test_a_run_hashes_each_image_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples = [
        Sample(id=f"s{i}", images=(PILImageSource(image(i)),), prompt="?", targets=("yes",))
        for i in range(6)
    ]
    calls = []
    tobytes = Image.Image.tobytes

    def counted(self: Image.Image, *args: Any, **kwargs: Any) -> bytes:
        calls.append(id(self))
        return tobytes(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "tobytes", counted)
    store = ResultsStore(tmp_path / "results")
    spec = RunSpec(model=ModelSpec(name="yes"), benchmarks=(), batch_size=4, progress=False)
    result = run_benchmark(spec, SaysYes(), Listed(samples), store, Progress(1, False))
    assert result.metrics["score"].value == 1.0
    # once for each of the six images: for the resume keys, the data hash, the rows' image ids
    # and the thumbnails alike
    assert sorted(calls) == sorted(id(s.images[0].image) for s in samples)  # type: ignore[attr-defined]
    rows = load_samples(tmp_path / "results")
    assert list(rows["image_ids"]) == [f'["{s.images[0].fingerprint()}"]' for s in samples]
    assert len(list((tmp_path / "results" / "images").rglob("*.jpg"))) == 6
    # the run's data hash, set as it completes, names exactly this sample set
    [data_hash] = load_runs(tmp_path / "results")["data_hash"]
    assert data_hash == stable_hash([s.content_hash() for s in samples], 32)


def test_a_file_is_read_once_per_image_object(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    image(1).save(path)
    source = FileImage(str(path))
    sample = Sample(id="a", images=(source,), prompt="?")
    first, content = source.fingerprint(), sample.content_hash()
    image(2).save(path)  # changed on disk: the object keeps the identity it was first given
    assert source.fingerprint() == first and sample.content_hash() == content
    fresh = FileImage(str(path))  # a new object (a new run) reads the file again
    assert fresh.fingerprint() != first
    assert Sample(id="a", images=(fresh,), prompt="?").content_hash() != content


def test_cached_hashes_keep_equality_and_name_content() -> None:
    buf = io.BytesIO()
    image(3).save(buf, format="PNG")
    a, b = EncodedImage(buf.getvalue()), EncodedImage(buf.getvalue())
    a.fingerprint()
    assert a == b and hash(a) == hash(b)  # the cached value is not a field
    assert a.fingerprint() == b.fingerprint()
    assert PILImageSource(image(3)).fingerprint() == PILImageSource(image(3)).fingerprint()
    assert PILImageSource(image(3)).fingerprint() != PILImageSource(image(4)).fingerprint()


class Unnameable:
    """A plugin's image source that cannot even read its image to name it."""

    def load(self) -> Image.Image:
        raise ImageError("the archive lacks img-3.png")

    def fingerprint(self) -> str:
        raise ImageError("the archive lacks img-3.png")


def test_an_image_that_cannot_be_named_is_one_error_row(tmp_path: Path) -> None:
    """The resume key, the data hash and the row's image ids name every image: one that cannot
    be read for it costs its own sample, not the run."""
    samples = [
        Sample(id=f"s{i}", images=(PILImageSource(image(i)),), prompt="?", targets=("yes",))
        for i in range(3)
    ]
    samples.insert(1, Sample(id="bad", images=(Unnameable(),), prompt="?", targets=("yes",)))
    store = ResultsStore(tmp_path / "results")
    spec = RunSpec(model=ModelSpec(name="yes"), benchmarks=(), progress=False, max_error_rate=1)
    result = run_benchmark(spec, SaysYes(), Listed(samples), store, Progress(1, False))
    assert result.n_samples == 4 and result.n_errors == 1
    rows = load_samples(tmp_path / "results").set_index("sample_id")
    assert rows.loc["bad", "error"] == "ImageError: the archive lacks img-3.png"
    assert rows.drop(index="bad")["error"].isna().all()
    assert load_runs(tmp_path / "results")["status"].tolist() == ["complete"]
