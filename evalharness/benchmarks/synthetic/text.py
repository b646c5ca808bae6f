"""synth_text: read a word, number or short phrase off a sign; ANLS and exact match.

Text is drawn with the font that ships inside Pillow, without anti-aliasing (see render.py), on a
board of random colour, size and position, over optional clutter.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from evalharness import extract
from evalharness.benchmarks.base import Answered, score_choice
from evalharness.benchmarks.synthetic.questions import one_of
from evalharness.benchmarks.synthetic.render import text_size
from evalharness.benchmarks.synthetic.scene import Rng, Scene, Sign, clutter_for
from evalharness.benchmarks.synthetic.suite import SyntheticSuite
from evalharness.metrics import anls
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, Sample, Scored

_WORDS = """
open closed exit stop cafe hotel park bank taxi sale gate room shop bus train museum library market
garden bridge river north south east west school office bakery pharmacy police station airport
harbor theater cinema pizza coffee bread fresh danger quiet welcome private parking entrance
elevator stairs kitchen studio gallery tower castle forest island valley summit camp lake beach
ticket platform lobby center plaza avenue street road lane
"""
WORDS = tuple(_WORDS.split())
"""Common sign words; all in lower case here, cased per item."""

KINDS = ("word", "number", "phrase", "mixed")
PROMPT = "What is written on the sign?"
LIGHT_BOARDS = ((255, 255, 255), (250, 240, 190), (200, 225, 250), (225, 225, 225))
DARK_BOARDS = ((20, 90, 40), (25, 45, 120), (30, 30, 30), (150, 20, 20))
PADDING = 6
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")


def sign_text(kind: str, rng: Rng) -> str:
    word = rng.choice(WORDS)
    case = rng.choice((str.upper, str.title, str.lower))
    if kind == "word":
        return case(word)
    number = str(rng.integer(10, 99999))
    if kind == "number":
        return number
    if kind == "phrase":
        return case(f"{word} {rng.choice([w for w in WORDS if w != word])}")
    return case(f"{word} {number[:3]}")


def foils(text: str, rng: Rng, k: int = 3) -> list[str]:
    """k different strings one edit or one word away from `text` (for the option form)."""
    out: list[str] = []
    alphabet = "0123456789" if text.isdigit() else "abcdefghijklmnopqrstuvwxyz"
    while len(out) < k:
        pos = rng.below(len(text))
        if rng.chance(0.5) and text[pos].isalnum():
            new = rng.choice(alphabet)
            new = new.upper() if text[pos].isupper() else new
            foil = text[:pos] + new + text[pos + 1 :]
        else:
            foil = text[:pos] + text[pos + 1 :] if len(text) > 2 else text + text[-1]
        if foil.strip() and foil != text and foil not in out:
            out.append(foil)
    return out


def read_text(reply: str) -> str:
    """What a reply says is written: its first quoted string if any, else its short answer."""
    quoted = _QUOTED.search(reply)
    return quoted.group(1).strip() if quoted else extract.open_answer(reply)


@dataclass(kw_only=True, eq=False)
class TextSuite(SyntheticSuite):
    """Read the text on a sign."""

    name = "synth_text"
    capability = "text"
    description = "Read words, numbers and short phrases off a rendered sign (ANLS, exact match)."
    generation = GenerationSettings(max_new_tokens=16)
    templates = (PROMPT, *WORDS)
    scoring = "anls+exact"

    min_font: int = 16
    """Smallest font size of the sign's text, in pixels."""
    max_font: int = 40
    """Largest font size of the sign's text, in pixels."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rule = "need 8 <= min_font <= max_font"
        self.require(8 <= self.min_font <= self.max_font, "min_font max_font", rule)

    def build(self) -> Iterator[Sample]:
        for i in range(self.n):
            rng = self.rng(i)
            kind = KINDS[i % len(KINDS)]
            text = sign_text(kind, rng)
            sign = self._sign(rng, text)
            scene = Scene(
                self.image_size, self.image_size, (), clutter_for(rng, self.spec), (sign,)
            )
            options = rng.shuffled([text, *foils(text, rng)])
            texts = [f'a sign that says "{o}"' for o in options]
            q = one_of(kind, PROMPT, text, options, "option", texts=texts)
            # no answer space: drawn from the options, random answers would be near misses
            q = dataclasses.replace(q, answer_space=None)
            yield self.make_sample(q, i, scene, font_size=sign.font_size, length=len(text))

    def _sign(self, rng: Rng, text: str) -> Sign:
        """A board just big enough for the text, at a random place; the font shrinks to fit."""
        size = rng.integer(self.min_font, self.max_font)
        limit = self.image_size - 2 * PADDING - 4
        while True:
            left, top, right, bottom = text_size(text, size)
            if (right - left <= limit and bottom - top <= limit) or size <= 8:
                break
            size -= 2
        w, h = right - left + 2 * PADDING, bottom - top + 2 * PADDING
        x0 = rng.integer(2, max(2, self.image_size - w - 2))
        y0 = rng.integer(2, max(2, self.image_size - h - 2))
        dark = rng.chance(0.5)
        board = rng.choice(DARK_BOARDS if dark else LIGHT_BOARDS)
        ink = (255, 255, 255) if dark else (0, 0, 0)
        return Sign(
            text,
            (x0, y0, x0 + w, y0 + h),
            (x0 + PADDING - left, y0 + PADDING - top),
            size,
            board,
            ink,
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        read = read_text(text)
        similarity = anls(read, sample.targets)
        exact = float(_plain(read) == _plain(sample.targets[0]))
        return Scored(
            extracted=read, score=similarity, metrics={"anls": similarity, "exact": exact}
        )

    def score_one(self, a: Answered) -> Scored:
        if a.form == "choice" and a.prediction.error is None:
            # a foil is one edit away: picking it is wrong, not "mostly right" as ANLS would say
            picked = score_choice(a.sample, a.prediction)
            metrics = {"anls": picked.score, "exact": picked.score}
            return Scored(extracted=picked.extracted, score=picked.score, metrics=metrics)
        return super().score_one(a)

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [*super().aggregates(samples), Aggregate.mean("exact", "exact_match", bounded=True)]


def _plain(text: str) -> str:
    return " ".join(text.lower().split())
