"""Procedural scenes: coloured shapes (and text signs) on a plain background, as a scene graph.

A scene is plain data: every object's shape, colour, size, centre, radius and bounding box, the
signs, and the settings of the background clutter. Questions and answers are derived from it, the
renderer draws exactly it, and it is stored in each sample's metadata so the site can show it.

Randomness comes only from `Rng`, seeded from (suite, seed, index, stream) — never the global RNG —
so the same parameters give the same scene on any machine and in any order.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeVar

SCENE_VERSION = "1"
"""Bump when the same knobs would give different scenes."""

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (235, 205, 15),
    "green": (30, 160, 50),
    "blue": (30, 80, 220),
    "purple": (140, 50, 180),
    "pink": (240, 110, 180),
    "brown": (125, 75, 30),
}
"""Clearly distinct named colours; none is gray, so clutter (gray) never looks like an object."""

COLORS: tuple[str, ...] = tuple(PALETTE)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon", "diamond")
SIZES: dict[str, float] = {"small": 0.055, "large": 0.095}
"""Object radius as a share of the image side."""

Size = Literal["small", "large"]
Relation = Literal["left", "right", "above", "below"]
RELATIONS: tuple[Relation, ...] = ("left", "right", "above", "below")
INVERSE: dict[str, Relation] = {
    "left": "right",
    "right": "left",
    "above": "below",
    "below": "above",
}

T = TypeVar("T")


class Rng:
    """Seeded randomness built only on `random.Random.random()` with an integer seed.

    Python guarantees that pair's sequence across versions; `randrange`, `choice` and `shuffle`
    carry no such promise, so they are re-implemented here on top of `random()`.
    """

    def __init__(self, *key: object) -> None:
        digest = hashlib.sha256("/".join(map(str, key)).encode()).digest()
        self._random = random.Random(int.from_bytes(digest[:8], "big")).random

    def random(self) -> float:
        return self._random()

    def below(self, n: int) -> int:
        return min(int(self._random() * n), n - 1)

    def integer(self, low: int, high: int) -> int:
        """Uniform in [low, high], both included."""
        return low + self.below(high - low + 1)

    def chance(self, p: float) -> bool:
        return self._random() < p

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def shuffled(self, items: Iterable[T]) -> list[T]:
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        return self.shuffled(items)[:k]

    def weighted(self, items: Sequence[T], weights: Sequence[float]) -> T:
        x = self._random() * sum(weights)
        for item, w in zip(items, weights, strict=True):
            x -= w
            if x < 0:
                return item
        return items[-1]


def _ring(
    n: int, start_deg: float, radii: Sequence[float] = (1.0,)
) -> tuple[tuple[float, float], ...]:
    # rounded to 6 places so the integer vertices cannot depend on the platform's last-ulp trig
    pts = []
    for i in range(n):
        a = math.radians(start_deg + 360.0 * i / n)
        r = radii[i % len(radii)]
        pts.append((round(r * math.cos(a), 6), round(r * math.sin(a), 6)))
    return tuple(pts)


UNIT_OUTLINES: dict[str, tuple[tuple[float, float], ...]] = {
    "square": ((-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)),
    "triangle": _ring(3, -90.0),
    "star": _ring(10, -90.0, (1.0, 0.45)),
    "hexagon": _ring(6, 0.0),
    "diamond": ((0.0, -1.0), (0.75, 0.0), (0.0, 1.0), (-0.75, 0.0)),
}
"""Polygon vertices of each shape in the unit circle (y grows downwards); circles are ellipses."""


_UNIT_BOXES: dict[str, tuple[float, float, float, float]] = {
    "circle": (-1.0, -1.0, 1.0, 1.0),
    **{
        shape: (
            min(x for x, _ in pts),
            min(y for _, y in pts),
            max(x for x, _ in pts),
            max(y for _, y in pts),
        )
        for shape, pts in UNIT_OUTLINES.items()
    },
}


def outline(shape: str, cx: int, cy: int, r: int) -> list[tuple[int, int]]:
    """Integer polygon vertices of a shape centred at (cx, cy) with radius r."""
    if shape == "circle":
        return [(cx - r, cy - r), (cx + r, cy + r)]
    return [(cx + round(x * r), cy + round(y * r)) for x, y in UNIT_OUTLINES[shape]]


@dataclass(frozen=True)
class Obj:
    shape: str
    color: str
    size: Size
    cx: int
    cy: int
    r: int

    @property
    def name(self) -> str:
        """'red circle'."""
        return f"{self.color} {self.shape}"

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        # rounding is monotonic, so the extremes of the unit outline give those of the vertices
        x0, y0, x1, y1 = _UNIT_BOXES[self.shape]
        r = self.r
        return (
            self.cx + round(x0 * r),
            self.cy + round(y0 * r),
            self.cx + round(x1 * r),
            self.cy + round(y1 * r),
        )

    def to_dict(self, index: int) -> dict[str, Any]:
        return {
            "id": index,
            "shape": self.shape,
            "color": self.color,
            "size": self.size,
            "center": [self.cx, self.cy],
            "radius": self.r,
            "bbox": list(self.bbox),
        }


@dataclass(frozen=True)
class Sign:
    """A rectangular board with one line of text."""

    text: str
    box: tuple[int, int, int, int]
    text_xy: tuple[int, int]
    font_size: int
    board: tuple[int, int, int]
    ink: tuple[int, int, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": list(self.box),
            "text_xy": list(self.text_xy),
            "font_size": self.font_size,
            "board": list(self.board),
            "ink": list(self.ink),
        }


@dataclass(frozen=True)
class Clutter:
    """Gray noise lines and dots under the objects, drawn from their own seed."""

    lines: int = 0
    dots: int = 0
    seed: int = 0


@dataclass(frozen=True)
class Scene:
    """Objects (drawn in order, later ones on top), signs on top of them, clutter beneath."""

    width: int
    height: int
    objects: tuple[Obj, ...]
    clutter: Clutter = Clutter()
    signs: tuple[Sign, ...] = ()
    background: tuple[int, int, int] = (255, 255, 255)

    @cached_property
    def graph(self) -> dict[str, Any]:
        """The scene graph as plain JSON data (built once; treat it as read-only)."""
        return {
            "version": SCENE_VERSION,
            "size": [self.width, self.height],
            "background": list(self.background),
            "clutter": {
                "lines": self.clutter.lines,
                "dots": self.clutter.dots,
                "seed": self.clutter.seed,
            },
            "objects": [o.to_dict(i) for i, o in enumerate(self.objects)],
            "signs": [s.to_dict() for s in self.signs],
        }

    def count(self, shape: str | None = None, color: str | None = None) -> int:
        return sum(
            (shape is None or o.shape == shape) and (color is None or o.color == color)
            for o in self.objects
        )

    def has(self, shape: str, color: str) -> bool:
        return self.count(shape, color) > 0


@dataclass(frozen=True)
class SceneSpec:
    """The scene knobs every suite shares."""

    image_size: int = 224
    clutter: float = 0.0
    """0 = clean background; 1 = about 12 noise lines and 60 dots."""
    overlap: float = 0.0
    """How far objects may overlap, as a share of the sum of their radii (0 = never touch)."""
    sizes: tuple[Size, ...] = ("small", "large")

    def radius(self, size: str) -> int:
        return max(4, round(SIZES[size] * self.image_size))


class PlacementError(RuntimeError):
    """The objects do not fit the image with the requested spacing."""


Kind = tuple[str, str, Size]
"""(shape, colour, size) of an object still to be placed."""


def place(
    rng: Rng, kinds: Sequence[Kind], spec: SceneSpec, *, attempts: int = 30, tries: int = 300
) -> tuple[Obj, ...]:
    """Random non-overlapping (up to `spec.overlap`) positions for the objects, in the given order.

    Large objects go first (they are the hard ones to fit); the drawing order stays as given.
    """
    side = spec.image_size
    radii = [spec.radius(size) for _, _, size in kinds]
    order = sorted(range(len(kinds)), key=lambda i: -radii[i])
    for _ in range(attempts):
        centres: dict[int, tuple[int, int]] = {}
        for i in order:
            r = radii[i]
            for _ in range(tries):
                x, y = rng.integer(r + 2, side - r - 3), rng.integer(r + 2, side - r - 3)
                if all(_apart((x, y), r, c, radii[j], spec.overlap) for j, c in centres.items()):
                    centres[i] = (x, y)
                    break
            else:
                break
        if len(centres) == len(kinds):
            return tuple(
                Obj(shape, color, size, *centres[i], radii[i])
                for i, (shape, color, size) in enumerate(kinds)
            )
    raise PlacementError(f"cannot fit {len(kinds)} objects in {side} px (overlap {spec.overlap})")


def _apart(a: tuple[int, int], ra: int, b: tuple[int, int], rb: int, overlap: float) -> bool:
    # squared integer distances: no square root whose last bit could differ between platforms
    gap = 3.0 if overlap <= 0 else 0.0
    return _dist2(a, b) >= ((ra + rb) * (1.0 - overlap) + gap) ** 2


def _dist2(a: tuple[int, int], b: tuple[int, int]) -> int:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def clutter_for(rng: Rng, spec: SceneSpec) -> Clutter:
    return Clutter(round(12 * spec.clutter), round(60 * spec.clutter), rng.below(2**31))


def make_scene(rng: Rng, kinds: Sequence[Kind], spec: SceneSpec) -> Scene:
    side = spec.image_size
    return Scene(side, side, place(rng, kinds, spec), clutter_for(rng, spec))


def make_scene_where(
    rng: Rng,
    kinds: Sequence[Kind],
    spec: SceneSpec,
    condition: Callable[[Scene], bool],
    tries: int = 200,
) -> Scene:
    """A scene for which `condition` holds (a clear relation, an unambiguous nearest object, …)."""
    for _ in range(tries):
        scene = make_scene(rng, kinds, spec)
        if condition(scene):
            return scene
    raise PlacementError(f"no placement of {len(kinds)} objects met the condition in {tries} tries")


def random_size(rng: Rng, spec: SceneSpec) -> Size:
    return rng.choice(spec.sizes)


def distinct_kinds(
    rng: Rng, k: int, spec: SceneSpec, *, unique_shapes: bool = False, unique_colors: bool = False
) -> list[Kind]:
    """k objects with different (shape, colour) pairs, and if asked all shapes or colours different,
    so that a name ("the red circle", "the circle", "the red object") points at one object."""
    chosen: list[tuple[str, str]] = []
    for shape, color in rng.shuffled([(s, c) for s in SHAPES for c in COLORS]):
        if unique_shapes and any(shape == s for s, _ in chosen):
            continue
        if unique_colors and any(color == c for _, c in chosen):
            continue
        chosen.append((shape, color))
        if len(chosen) == k:
            return [(s, c, random_size(rng, spec)) for s, c in chosen]
    raise ValueError(f"cannot choose {k} distinct objects (unique shapes {unique_shapes})")


def relation(a: Obj, b: Obj, min_gap: float = 0.0) -> Relation | None:
    """Where `a` is relative to `b`, if clear: one axis >= 2.5 times the other and >= min_gap."""
    dx, dy = a.cx - b.cx, a.cy - b.cy
    if abs(dx) >= 2.5 * abs(dy) and abs(dx) >= min_gap:
        return "left" if dx < 0 else "right"
    if abs(dy) >= 2.5 * abs(dx) and abs(dy) >= min_gap:
        return "above" if dy < 0 else "below"
    return None


def nearest(objects: Sequence[Obj], i: int, margin: float = 0.75) -> int | None:
    """The object nearest to object i, if clearly nearer (distance <= margin x the runner-up)."""
    a = (objects[i].cx, objects[i].cy)
    dists = sorted((_dist2(a, (o.cx, o.cy)), j) for j, o in enumerate(objects) if j != i)
    if not dists:
        return None
    if len(dists) > 1 and dists[0][0] > margin**2 * dists[1][0]:
        return None
    return dists[0][1]
