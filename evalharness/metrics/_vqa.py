"""VQA accuracy as the VQAv2 / EvalAI evaluation defines it: normalised answers, soft agreement."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

# Ground-truth answers spell contractions with their apostrophe; a model that drops it still
# matches. Forms whose apostrophe-free spelling is an ordinary word (we'll, it's, I'd, she'll, …)
# are left out on purpose.
_CONTRACTED = (  # noqa: SIM905 (a word list reads best as words)
    "ain't aren't can't could've couldn't couldn't've didn't doesn't don't hadn't hadn't've hasn't "
    "haven't he'd he'd've he's how'd how'll how's i'd've i'm i've isn't it'd it'd've it'll ma'am "
    "mightn't mightn't've might've mustn't must've needn't not've o'clock oughtn't shan't she'd've "
    "she's should've shouldn't shouldn't've somebody'd somebody'd've somebody'll somebody's "
    "someone'd someone'd've someone'll someone's something'd something'd've something'll that's "
    "there'd there'd've there're there's they'd they'd've they'll they're they've 'twas wasn't "
    "we'd've we've weren't what'll what're what's what've when's where'd where's where've who'd "
    "who'd've who'll who's who've won't would've wouldn't wouldn't've y'all y'all'll y'all'd've "
    "you'd you'd've you'll you're you've"
).split()


def _apostrophe_variants(word: str) -> list[str]:
    """Every spelling of `word` with one or more of its apostrophes dropped."""
    parts = word.split("'")
    variants = []
    for keep in itertools.product(("'", ""), repeat=len(parts) - 1):
        spelled = parts[0] + "".join(k + p for k, p in zip(keep, parts[1:], strict=True))
        if spelled != word:
            variants.append(spelled)
    return variants


_CONTRACTIONS = {v: w for w in _CONTRACTED for v in _apostrophe_variants(w)}
_NUMBER_WORDS = {
    "none": "0",
    **{w: str(i) for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six"))},
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_ARTICLES = frozenset({"a", "an", "the"})
_PUNCTUATION = ';/[]"{}()=+\\_-><@`,?!'
_DIGIT_COMMA_DIGIT = re.compile(r"[0-9],[0-9]")
# A period goes unless a digit follows ("3.5" stays). The reference script's pattern for this has a
# malformed look-behind that never applies, so this is what it does in practice.
_PERIOD = re.compile(r"\.(?![0-9])")


def vqa_normalize(text: str) -> str:
    """An answer normalised as the VQAv2 evaluation does before comparing answers.

    Newlines and tabs become spaces. Each punctuation mark of ``;/[]"{}()=+\\_-><@`,?!`` is
    deleted where it touches a space (or anywhere, if the text has a digit-comma-digit such as
    "1,000"), else replaced by a space ("t-shirt" → "t shirt"). Periods go unless a digit follows.
    Then the text is lower-cased and split into words; number words up to ten (and "none") become
    digits, the articles a/an/the are dropped, and apostrophe-less contractions get their
    apostrophe back ("dont" → "don't"). Idempotent.
    """
    text = text.replace("\n", " ").replace("\t", " ").strip()
    original, delete = text, _DIGIT_COMMA_DIGIT.search(text) is not None
    for mark in _PUNCTUATION:
        touches_space = mark + " " in original or " " + mark in original
        text = text.replace(mark, "" if delete or touches_space else " ")
    text = _PERIOD.sub("", text)
    words = [_NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    return " ".join(_CONTRACTIONS.get(w, w) for w in words if w not in _ARTICLES)


def vqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """VQA accuracy of one prediction against the annotators' answers, in [0, 1].

    The prediction and every answer are normalised with `vqa_normalize`. For each annotator, the
    prediction earns min(1, matches among the *other* annotators / 3); the accuracy is the average
    over annotators. With the usual 10 answers this is the official VQAv2 formula: an answer given
    by 3 of 10 annotators scores (3 · 2/3 + 7 · 1) / 10 = 0.9, by 1 of 10 scores 0.3.

    Fewer answers use the same leave-one-out average, but with n < 4 answers no annotator has three
    others, so the agreement needed is capped at n - 1 (a single answer is plain exact match).
    For n ≥ 4 nothing changes. A prediction that every annotator gave thus always scores 1.

    Two deliberate differences from the reference script: answers are always normalised (the script
    skips it when all annotators agree, so "Yes." could miss a unanimous "yes"), and answers get the
    full normalisation, not only the punctuation step, so a normalised prediction can match them.
    Strip model chatter first (e.g. with `evalharness.extract.open_answer`).

    Raises ValueError if `answers` is empty.
    """
    if not answers:
        raise ValueError("vqa_accuracy needs at least one reference answer")
    predicted = vqa_normalize(prediction)
    hits = [vqa_normalize(a) == predicted for a in answers]
    total, n = sum(hits), len(hits)
    if n == 1:
        return float(total)
    needed = min(3, n - 1)
    return sum(min(1.0, (total - hit) / needed) for hit in hits) / n
