"""Image decoding: the one place encoded images (PNG, JPEG, …) become the RGB pictures models see.

- A pixel cap, checked from the header before any pixel is decoded: a small file can hold a huge
  image (a 0.5 MB PNG of 13000 × 13000 decodes to 3.2 GB in RGBA), and a batch multiplies it.
  Over the cap, the sample is an error row that says so. `max_image_pixels` sets it for a run.
- EXIF orientation applied, as a viewer shows the photo.
- 16-bit grayscale scaled to 8 bits (a plain conversion clips every value above 255 to white).
- Transparency (LA, RGBA, PA, a palette with a transparent index) laid over white, as
  transformers' `convert_to_rgb` does; palette and CMYK converted to RGB.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from evalharness.types import ImageError

if TYPE_CHECKING:
    from PIL import Image as PILImage

DEFAULT_MAX_PIXELS = 40_000_000
"""The default cap on an image's pixels (width × height): 40 MP, over any camera photo or scan a
benchmark ships, far below what would exhaust memory."""

_max_pixels = DEFAULT_MAX_PIXELS
_ORIENTATION = 0x0112
"""The EXIF tag of the orientation."""


@contextlib.contextmanager
def pixel_cap(pixels: int) -> Iterator[None]:
    """Images over `pixels` pixels are refused while the block runs (in every thread: a run
    decodes on worker threads). PIL's own decompression-bomb limit is lifted to match, so the
    cap is the one that applies."""
    from PIL import Image

    global _max_pixels
    if pixels < 1:
        raise ValueError(f"the pixel cap must be at least 1, got {pixels}")
    saved = _max_pixels, Image.MAX_IMAGE_PIXELS
    _max_pixels = pixels
    Image.MAX_IMAGE_PIXELS = max(pixels, saved[1] or 0)
    try:
        yield
    finally:
        _max_pixels, Image.MAX_IMAGE_PIXELS = saved


def decode(data: bytes) -> PILImage.Image:
    """`data` (an encoded image) as an RGB image; ImageError saying why when it cannot be."""
    from PIL import Image

    if not data:
        raise ImageError("cannot decode image: it is empty (0 bytes)")
    _quiet_bomb_warning()
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as exc:
        raise ImageError(
            f"image over the {_megapixels(_max_pixels)} cap; not decoded ({exc}). "
            "Raise it with max_image_pixels=N."
        ) from exc
    except Exception as exc:  # PIL raises several unrelated types for bad data
        raise ImageError(f"cannot decode image ({len(data)} bytes): {exc}") from exc
    width, height = img.size
    if width * height > _max_pixels:
        raise ImageError(
            f"image of {width}×{height} pixels ({_megapixels(width * height)}) is over the "
            f"{_megapixels(_max_pixels)} cap; not decoded. Raise it with max_image_pixels=N."
        )
    try:
        img.load()
        return to_rgb(img)
    except Exception as exc:
        raise ImageError(f"cannot decode image ({len(data)} bytes): {exc}") from exc


@functools.cache
def _quiet_bomb_warning() -> None:
    """PIL warns of a large image at open; the cap, checked next, is the limit that applies.
    Filtered once for the process: `catch_warnings` around each open is not thread-safe, and
    images are decoded on several threads."""
    from PIL import Image

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def to_rgb(img: PILImage.Image) -> PILImage.Image:
    """`img` upright, in 8-bit RGB, transparent parts white (see the module's notes)."""
    from PIL import Image, ImageOps

    if img.getexif().get(_ORIENTATION, 1) != 1:  # exif_transpose copies even an upright image
        img = ImageOps.exif_transpose(img) or img
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        img = _gray16_to_8(img)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("LA", "La", "PA", "RGBa", "RGBA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _gray16_to_8(img: PILImage.Image) -> PILImage.Image:
    """16-bit grayscale (and 32-bit integer grayscale holding 16-bit values) to 8 bits, by the
    full 16-bit range: 65535 is white. An "I" image whose values all fit 8 bits is kept as is."""
    import numpy as np
    from PIL import Image

    values = np.asarray(img).astype(np.int64)
    if img.mode == "I" and (values.size == 0 or (values.min() >= 0 and values.max() <= 255)):
        return Image.fromarray(values.astype(np.uint8))
    scaled = (np.clip(values, 0, 65535) * 255 + 32767) // 65535
    return Image.fromarray(scaled.astype(np.uint8))


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} MP"
