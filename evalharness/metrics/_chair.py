"""CHAIR-style object hallucination in captions (Rohrbach et al., 2018), over any vocabulary.

A vocabulary maps words and phrases (synonyms, plurals) to canonical object names. A caption's
mentions are found by longest match, so with both "circle" and "red circle" in a vocabulary,
"a red circle" mentions only "red circle". CHAIR_i is the share of mentioned objects that are not
in the image; CHAIR_s the share of captions with at least one such object.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from evalharness.stats import Aggregate

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[^\w\s]")
_NEGATIONS = frozenset({"no", "not", "without", "none", "never", "nor", "neither"})
_SCOPE_BREAKS = frozenset({"but", "except", "only"})
_ARTICLES = frozenset({"a", "an", "the"})
_NEGATION_WINDOW = 4  # words before a mention that a negation reaches: "no red or blue squares"

SHAPE_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "circle": ("disc", "disk"),
    "square": ("box",),
    "rectangle": (),
    "triangle": (),
    "star": (),
    "pentagon": (),
    "hexagon": (),
    "octagon": (),
    "diamond": ("rhombus",),
    "ellipse": ("oval",),
    "cross": (),
    "heart": (),
}
"""Shape names and their synonyms, the default for the vocabulary helpers below."""


def _plural(phrase: str) -> str:
    """English plural of the phrase's last word, for the regular nouns shape names are."""
    if re.search(r"(?:s|x|z|ch|sh)$", phrase):
        return phrase + "es"
    if re.search(r"[^aeiou]y$", phrase):
        return phrase[:-1] + "ies"
    return phrase + "s"


def object_vocabulary(synonyms: Mapping[str, Iterable[str]] = SHAPE_SYNONYMS) -> dict[str, str]:
    """Word or phrase → canonical name, for each canonical name, its synonyms and their plurals.

    ``object_vocabulary({"square": ["box"]})`` maps square, squares, box and boxes to "square".
    """
    vocabulary = {}
    for canonical, others in synonyms.items():
        for word in (canonical, *others):
            vocabulary[word] = vocabulary[_plural(word)] = canonical
    return vocabulary


def colour_shape_vocabulary(
    colours: Iterable[str], synonyms: Mapping[str, Iterable[str]] = SHAPE_SYNONYMS
) -> dict[str, str]:
    """Phrases "colour shape" (with synonyms and plurals) → canonical "colour shape".

    "red boxes" → "red square". Bare shape words are left out on purpose: score shapes with
    `object_vocabulary` against the scene's shapes, and colour binding with this vocabulary against
    the scene's "colour shape" pairs, as two separate `chair` calls, so each has one granularity.
    """
    shapes = object_vocabulary(synonyms)
    return {f"{c} {word}": f"{c} {shape}" for c in colours for word, shape in shapes.items()}


SHAPE_VOCABULARY: Mapping[str, str] = object_vocabulary()
"""The default vocabulary: the shapes of `SHAPE_SYNONYMS`."""


def _negated(tokens: list[str], start: int) -> bool:
    """Is the mention at `tokens[start]` under a negation a few words before it, in its clause?"""
    before = tokens[max(0, start - _NEGATION_WINDOW) : start]
    for k in range(len(before) - 1, -1, -1):
        token = before[k]
        if token in _NEGATIONS or token.endswith("n't"):
            return True
        if token in _ARTICLES:  # a new noun phrase, negated only as a whole: "not a square"
            previous = before[k - 1] if k else ""
            return previous in _NEGATIONS or previous.endswith("n't")
        if not token[0].isalnum() or token in _SCOPE_BREAKS:
            return False
    return False


def mentioned_objects(
    caption: str, vocabulary: Mapping[str, str] = SHAPE_VOCABULARY, *, negation: bool = True
) -> list[str]:
    """Canonical names of the objects a caption mentions, in order of first mention, no repeats.

    Matching is case-insensitive, on whole words, longest phrase first. With `negation`, a mention
    preceded within four words of its clause by no/not/without/none/never/nor/neither/…n't is not
    counted ("There is no star", "no red or blue squares", "a circle, not a square"). "but",
    "except", "only", punctuation and an article start a new phrase that a negation before them
    does not reach ("no circle and a square" mentions the square), except the article right after
    the negation ("there isn't a star").
    """
    phrases = {tuple(_TOKEN.findall(k.lower())): v.lower() for k, v in vocabulary.items()}
    phrases.pop((), None)
    longest = max(map(len, phrases), default=0)
    tokens = _TOKEN.findall(caption.lower())
    found: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            name = phrases.get(tuple(tokens[i : i + size]))
            if name is not None:
                if not (negation and _negated(tokens, i)):
                    found.append(name)
                i += size
                break
        else:
            i += 1
    return list(dict.fromkeys(found))


def chair(
    caption: str,
    present_objects: Collection[str],
    vocabulary: Mapping[str, str] = SHAPE_VOCABULARY,
    *,
    negation: bool = True,
) -> dict[str, float]:
    """Object hallucination of one caption against the objects really in the image.

    `present_objects` uses the vocabulary's canonical names (case-insensitive). Counts are over
    distinct objects, so naming the same hallucinated star twice counts once. Returns:

    - "mentioned": objects the caption names (see `mentioned_objects`);
    - "hallucinated": mentioned objects not present;
    - "present", "covered": objects present, and those of them the caption names;
    - "chair_i": hallucinated / mentioned (NaN when nothing is mentioned);
    - "chair_s": 1.0 if anything is hallucinated, else 0.0;
    - "recall": covered / present (NaN when nothing is present).

    Dataset-level CHAIR_i is sum(hallucinated) / sum(mentioned), not the mean of "chair_i":
    use `chair_aggregates`.
    """
    mentioned = set(mentioned_objects(caption, vocabulary, negation=negation))
    present = {p.lower() for p in present_objects}
    hallucinated = len(mentioned - present)
    covered = len(mentioned & present)
    return {
        "mentioned": float(len(mentioned)),
        "hallucinated": float(hallucinated),
        "present": float(len(present)),
        "covered": float(covered),
        "chair_i": hallucinated / len(mentioned) if mentioned else float("nan"),
        "chair_s": float(hallucinated > 0),
        "recall": covered / len(present) if present else float("nan"),
    }


def chair_aggregates(prefix: str = "", *, column_prefix: str = "") -> list[Aggregate]:
    """Aggregates over `chair` columns: "chair_i", "chair_s" and "object_recall".

    CHAIR_i = sum(hallucinated) / sum(mentioned); CHAIR_s = mean(chair_s); object recall =
    sum(covered) / sum(present). `prefix` goes before the aggregate names, `column_prefix` before
    the column names (as in `pope_aggregates`).
    """
    c = column_prefix
    return [
        Aggregate.ratio(c + "hallucinated", c + "mentioned", prefix + "chair_i", bounded=True),
        Aggregate.mean(c + "chair_s", prefix + "chair_s", bounded=True),
        Aggregate.ratio(c + "covered", c + "present", prefix + "object_recall", bounded=True),
    ]
