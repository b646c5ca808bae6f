"""Questions about a scene, shared by the suites: wording, accepted answers, options, and reading an
open answer back into the canonical form it is compared against.

Every question exists in two forms: open (`prompt` + accepted `answers`) and as options (`choices`
+ `target_index`, with `choice_texts` as full statements for image-text matching models).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from evalharness import extract
from evalharness.benchmarks.synthetic.scene import COLORS, RELATIONS, SHAPES, Obj, Rng, Scene

AnswerKind = Literal["number", "yes_no", "color", "shape", "relation", "option"]

_NUMBERS = """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty"""
NUMBER_WORDS = tuple(_NUMBERS.split())
YES_NO = ("yes", "no")

TEMPLATES = {
    "count": "How many {color}{plural} are there?",
    "exists": "Is there {object} in the image?",
    "color": "What color is the {shape}?",
    "shape": "What shape is the {color} object?",
    "compare": "Are there more {plural_a} than {plural_b}?",
}
"""Question wording; part of every suite's version."""


def article(phrase: str) -> str:
    """'a red circle', 'an orange star'."""
    return ("an " if phrase[:1] in tuple("aeiou") else "a ") + phrase


def plural(shape: str, n: int = 2) -> str:
    return shape if n == 1 else shape + "s"


def number_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def quantity(n: int, noun: str, one: Callable[[str], str] | None = None) -> str:
    """'no red circles', 'one red circle' (or `one(noun)`: 'a red circle'), 'three red circles'."""
    if n == 0:
        return f"no {plural(noun)}"
    if n == 1 and one is not None:
        return one(noun)
    return f"{number_word(n)} {plural(noun, n)}"


@dataclass(frozen=True)
class Question:
    kind: str
    """Question type: the sample's category."""
    prompt: str
    answers: tuple[str, ...]
    """Accepted answers, canonical first; all read back to the canonical one."""
    answer_kind: AnswerKind
    answer_space: tuple[str, ...] | None = None
    choices: tuple[str, ...] | None = None
    target_index: int | None = None
    choice_texts: tuple[str, ...] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def _options(
    answer: str, pool: Sequence[str], k: int, rng: Rng, prefer: Sequence[str] = ()
) -> list[str]:
    """`answer` plus k-1 distractors (those in `prefer` first), shuffled."""
    preferred = [p for p in dict.fromkeys(prefer) if p != answer]
    rest = [p for p in pool if p != answer and p not in preferred]
    distractors = (rng.shuffled(preferred) + rng.shuffled(rest))[: k - 1]
    return rng.shuffled([answer, *distractors])


def one_of(
    kind: str,
    prompt: str,
    answer: str,
    options: Sequence[str],
    answer_kind: AnswerKind,
    *,
    texts: Sequence[str],
    space: Sequence[str] | None = None,
    aliases: Sequence[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> Question:
    """A question whose answer is one of `options`: open (accepting `answer` and its `aliases`) or
    as the options, with `texts` as their statements for matching models. `space`, the valid open
    answers, defaults to the options."""
    opts = tuple(options)
    return Question(
        kind=kind,
        prompt=prompt,
        answers=(answer, *aliases),
        answer_kind=answer_kind,
        answer_space=opts if space is None else tuple(space),
        choices=opts,
        target_index=opts.index(answer),
        choice_texts=tuple(texts),
        meta=meta or {},
    )


def count_question(scene: Scene, shape: str, color: str | None, counts: Sequence[int]) -> Question:
    """How many (colour) shapes; every count in `counts` is an option."""
    n = scene.count(shape, color)
    assert n in counts, f"true count {n} outside the answer range"
    noun = f"{color} {shape}" if color else shape
    return one_of(
        "count",
        TEMPLATES["count"].format(color=f"{color} " if color else "", plural=plural(shape)),
        str(n),
        [str(c) for c in counts],
        "number",
        texts=[f"a photo of {quantity(c, noun)}" for c in counts],
        aliases=(number_word(n),),
        meta={"true_count": n},
    )


def yes_no_question(kind: str, prompt: str, truth: bool, statement: str, negation: str) -> Question:
    """A yes/no question; for matching models, 'yes' is `statement` and 'no' its negation."""
    answer = "yes" if truth else "no"
    return one_of(kind, prompt, answer, YES_NO, "yes_no", texts=(statement, negation))


def exists_question(scene: Scene, shape: str, color: str) -> Question:
    return yes_no_question(
        "exists",
        TEMPLATES["exists"].format(object=article(f"{color} {shape}")),
        scene.has(shape, color),
        f"a photo with {article(f'{color} {shape}')}",
        f"a photo with no {color} {shape}",
    )


def compare_question(scene: Scene, shape_a: str, shape_b: str) -> Question:
    """Are there more A than B? The caller picks shapes whose counts differ."""
    na, nb = scene.count(shape_a), scene.count(shape_b)
    assert na != nb, "counts must differ, so that 'no' means 'fewer'"
    a, b = plural(shape_a), plural(shape_b)
    return yes_no_question(
        "compare",
        TEMPLATES["compare"].format(plural_a=a, plural_b=b),
        na > nb,
        f"a photo with more {a} than {b}",
        f"a photo with fewer {a} than {b}",
    )


def color_question(scene: Scene, obj: Obj, rng: Rng, n_choices: int = 4) -> Question:
    """What colour is the <shape>? The shape must be unique in the scene."""
    assert scene.count(obj.shape) == 1, "the shape must name one object"
    options = _options(obj.color, COLORS, n_choices, rng, prefer=[o.color for o in scene.objects])
    texts = [f"a photo of {article(f'{c} {obj.shape}')}" for c in options]
    prompt = TEMPLATES["color"].format(shape=obj.shape)
    return one_of("color", prompt, obj.color, options, "color", texts=texts, space=COLORS)


def shape_question(scene: Scene, obj: Obj, rng: Rng, n_choices: int = 4) -> Question:
    """What shape is the <colour> object? The colour must be unique in the scene."""
    assert scene.count(color=obj.color) == 1, "the colour must name one object"
    options = _options(obj.shape, SHAPES, n_choices, rng, prefer=[o.shape for o in scene.objects])
    texts = [f"a photo of {article(f'{obj.color} {s}')}" for s in options]
    prompt = TEMPLATES["shape"].format(color=obj.color)
    return one_of("shape", prompt, obj.shape, options, "shape", texts=texts, space=SHAPES)


_VOCABULARY: dict[str, tuple[str, ...]] = {"color": COLORS, "shape": SHAPES, "relation": RELATIONS}


def read_answer(kind: AnswerKind, text: str, options: Sequence[str] = ()) -> str | None:
    """The answer in canonical form ('2', 'yes', 'red', 'circle', 'left', an option's text), or
    None if the reply gives none or several."""
    if kind == "option":
        index = extract.choice(text, list(options))
        return None if index is None else options[index]
    if kind == "number":
        n = extract.number(text)
        return None if n is None or n != int(n) else str(int(n))
    if kind == "yes_no":
        yn = extract.yes_no(text)
        return None if yn is None else ("yes" if yn else "no")
    return mentioned(text, _VOCABULARY[kind])


def mentioned(text: str, vocabulary: Sequence[str]) -> str | None:
    """The one vocabulary term (singular or plural, whole word) the text names, else None."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    found = [t for t in vocabulary if t in words or plural(t) in words]
    return found[0] if len(found) == 1 else None
