"""Draw a scene graph into a PIL image, lazily and byte-for-byte reproducibly.

Only PIL ImageDraw with integer coordinates; shapes are never anti-aliased, and text is drawn with
the font that ships inside Pillow (`ImageFont.load_default`) with anti-aliasing off, so the pixels
depend on the scene and the Pillow version alone, never on system fonts.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from evalharness.benchmarks.synthetic.scene import PALETTE, Rng, Scene, outline
from evalharness.types import RenderedImage

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

RENDERER_VERSION = "1"
"""Bump when the same scene would be drawn differently."""


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def text_size(text: str, size: int) -> tuple[int, int, int, int]:
    """The text's ink box (left, top, right, bottom) when drawn at (0, 0)."""
    left, top, right, bottom = font(size).getbbox(text)
    return int(left), int(top), int(right), int(bottom)


def render(scene: Scene) -> PILImage.Image:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (scene.width, scene.height), scene.background)
    draw = ImageDraw.Draw(img)
    _draw_clutter(draw, scene)
    for o in scene.objects:
        pts = outline(o.shape, o.cx, o.cy, o.r)
        if o.shape == "circle":
            draw.ellipse(pts, fill=PALETTE[o.color])
        else:
            draw.polygon(pts, fill=PALETTE[o.color])
    draw.fontmode = "1"  # no anti-aliasing: crisp, reproducible glyph edges
    for s in scene.signs:
        draw.rectangle(s.box, fill=s.board)
        draw.text(s.text_xy, s.text, fill=s.ink, font=font(s.font_size))
    return img


def _draw_clutter(draw: ImageDraw.ImageDraw, scene: Scene) -> None:
    c = scene.clutter
    rng = Rng("clutter", c.seed)
    w, h = scene.width, scene.height
    for _ in range(c.lines):
        gray = rng.integer(150, 215)
        xy = [rng.below(w), rng.below(h), rng.below(w), rng.below(h)]
        draw.line(xy, fill=(gray, gray, gray), width=rng.integer(1, 2))
    for _ in range(c.dots):
        gray = rng.integer(120, 200)
        x, y, r = rng.below(w), rng.below(h), rng.integer(1, 2)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(gray, gray, gray))


def canonical_key(scene: Scene) -> str:
    """The exact content of the image: renderer version plus the canonical scene graph."""
    return json.dumps(
        {"renderer": RENDERER_VERSION, "scene": scene.graph},
        sort_keys=True,
        separators=(",", ":"),
    )


@lru_cache(maxsize=16)
def scene_image(scene: Scene) -> RenderedImage:
    """The lazily drawn image of a scene (cached: an image's questions share one object)."""
    return RenderedImage(key=canonical_key(scene), render=lambda: render(scene))
