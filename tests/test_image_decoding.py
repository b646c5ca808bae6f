"""Image decoding, in its one place (`evalharness.images`): a pixel cap checked from the header
before any pixel is decoded, EXIF orientation, 16-bit grayscale, transparency, palettes and CMYK.
Every test image is made here."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from model_helpers import Listed, SaysYes
from PIL import Image

from evalharness.images import DEFAULT_MAX_PIXELS, decode, pixel_cap
from evalharness.models.base import ModelSpec
from evalharness.runner.execute import run_benchmark
from evalharness.runner.progress import Progress
from evalharness.runner.spec import RunSpec
from evalharness.store import ResultsStore, load_samples
from evalharness.types import EncodedImage, ImageError, Sample


def encoded(img: Image.Image, fmt: str = "PNG", **save: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that states its size and holds no pixels: a decoder that reads them fails, one that
    stops at the header does not get that far."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def close(a: Sequence[int], b: Sequence[int], tol: int = 6) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


# --- the pixel cap -------------------------------------------------------------------------------


def test_a_huge_image_is_refused_from_its_header_before_decoding() -> None:
    assert DEFAULT_MAX_PIXELS == 40_000_000
    with pytest.raises(ImageError) as caught:
        EncodedImage(png_header_only(13000, 13000)).load()
    assert str(caught.value) == (
        "image of 13000×13000 pixels (169.0 MP) is over the 40.0 MP cap; not decoded. "
        "Raise it with max_image_pixels=N."
    )
    # past PIL's own limit too, in the same words
    with pytest.raises(ImageError, match=r"over the 40\.0 MP cap; not decoded"):
        decode(png_header_only(20000, 20000))


def test_the_cap_is_a_setting() -> None:
    data = encoded(Image.new("RGB", (40, 30), "red"))
    with pixel_cap(1000), pytest.raises(ImageError, match=r"40×30 pixels \(0.0 MP\) is over"):
        decode(data)
    with pixel_cap(1200):
        assert decode(data).size == (40, 30)
    assert decode(data).size == (40, 30)  # the default is back
    # raised over PIL's own limit, the cap is the one that applies
    with pixel_cap(400_000_000), pytest.raises(ImageError, match="cannot decode"):
        decode(png_header_only(20000, 20000))  # the header passes; the pixels are missing


def pictures(sizes: Sequence[tuple[int, int]]) -> Listed:
    """One encoded picture per question, of these sizes."""
    return Listed(
        [
            Sample(
                id=f"s{i}",
                images=(EncodedImage(encoded(Image.new("RGB", size, (i * 50, 0, 0)))),),
                prompt="?",
                targets=("yes",),
            )
            for i, size in enumerate(sizes)
        ]
    )


def test_a_run_records_an_image_over_its_cap_as_one_error_row(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "results")
    spec = RunSpec(
        model=ModelSpec(name="yes"), benchmarks=(), progress=False, max_image_pixels=1000
    )
    bench = pictures([(20, 20), (50, 40), (30, 30)])
    result = run_benchmark(spec, SaysYes(), bench, store, Progress(1, False))
    assert result.n_errors == 1
    rows = load_samples(tmp_path / "results").set_index("sample_id")
    assert rows.loc["s1", "error"] == (
        "ImageError: image of 50×40 pixels (0.0 MP) is over the 0.0 MP cap; not decoded. "
        "Raise it with max_image_pixels=N."
    )
    assert rows.drop(index="s1")["error"].isna().all()
    assert (rows.drop(index="s1")["score"] == 1.0).all()


# --- what is decoded, and how --------------------------------------------------------------------


def test_exif_orientation_is_applied() -> None:
    # stored landscape, red on the left, blue on the right; orientation 6: shown turned 90°
    # clockwise, so portrait with red on top
    img = Image.new("RGB", (40, 20), "blue")
    img.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = decode(encoded(img, "JPEG", quality=95, exif=exif))
    assert out.size == (20, 40)
    assert close(out.getpixel((10, 5)), (255, 0, 0), 12)
    assert close(out.getpixel((10, 35)), (0, 0, 255), 12)


@pytest.mark.parametrize(("value", "gray"), [(0, 0), (32768, 128), (65535, 255), (1000, 4)])
def test_16_bit_grayscale_is_scaled_to_8_bits(value: int, gray: int) -> None:
    data = encoded(Image.new("I;16", (4, 4), value))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # a 16-bit file indeed
    out = decode(data)
    assert out.mode == "RGB" and out.getpixel((1, 1)) == (gray, gray, gray)


def test_a_palette_with_a_transparent_index_is_white_where_transparent() -> None:
    img = Image.new("P", (4, 2), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (2, 0, 4, 2))  # right half red, left half index 0: black, and transparent
    out = decode(encoded(img, transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((3, 1)) == (255, 0, 0)
    # without transparency the palette colours stand
    assert decode(encoded(img)).getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("mode", "pixel", "expected"),
    [
        ("LA", (0, 0), (255, 255, 255)),  # transparent black: the white behind it
        ("LA", (0, 255), (0, 0, 0)),
        ("RGBA", (255, 0, 0, 0), (255, 255, 255)),
        ("RGBA", (255, 0, 0, 128), (255, 127, 127)),  # half over white
        ("RGBA", (0, 0, 255, 255), (0, 0, 255)),
    ],
)
def test_alpha_is_laid_over_white(mode: str, pixel: Any, expected: tuple[int, int, int]) -> None:
    out = decode(encoded(Image.new(mode, (3, 3), pixel)))
    assert out.mode == "RGB" and close(out.getpixel((1, 1)), expected, 1)


@pytest.mark.parametrize(("fmt", "tol"), [("TIFF", 0), ("JPEG", 8)])
def test_cmyk_is_converted_to_rgb(fmt: str, tol: int) -> None:
    img = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red
    img.paste((0, 0, 0, 255), (0, 4, 8, 8))  # black below
    out = decode(encoded(img, fmt))
    assert out.mode == "RGB"
    assert close(out.getpixel((4, 1)), (255, 0, 0), tol)
    assert close(out.getpixel((4, 6)), (0, 0, 0), tol)


def test_bilevel_and_gray_images_become_rgb() -> None:
    assert decode(encoded(Image.new("1", (4, 4), 1))).getpixel((0, 0)) == (255, 255, 255)
    assert decode(encoded(Image.new("L", (4, 4), 77))).getpixel((0, 0)) == (77, 77, 77)


def test_undecodable_and_empty_data_say_so() -> None:
    with pytest.raises(ImageError, match="empty"):
        decode(b"")
    with pytest.raises(ImageError, match=r"cannot decode image \(9 bytes\)"):
        decode(b"not a png")
