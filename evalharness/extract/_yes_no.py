"""Reading a yes or a no."""

from __future__ import annotations

import re

from evalharness.extract._conclusion import AMBIGUOUS, Ambiguous, Span, read
from evalharness.extract._text import clean

_YES = frozenset({"yes", "yeah", "yep", "yup", "yea"})
_NO = frozenset({"no", "nope", "nah"})
# Words that say yes by emphasis ("Certainly.", "Of course.") but no before "not" ("Certainly
# not."); alone in a first sentence that more text follows they only open the reply ("Sure! There
# is no cat.").
_EMPHATIC = frozenset({"certainly", "absolutely", "definitely", "indeed", "sure"})
_LEAD_YES = _YES | _EMPHATIC | {"true", "correct", "affirmative"}
_LEAD_NO = _NO | {"false", "incorrect", "none", "negative"}
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[.!?;\n]+")
_UNSURE = re.compile(
    r"\b(?:can(?:no|')?t|could(?:n't| not)|unable to|impossible to|hard to|difficult to)\s+"
    r"(?:tell|say|determine|be sure)\b|\bnot (?:sure|certain|clear)\b|\bunsure\b|\bunclear\b"
    r"|\b(?:don't|do not) know\b|\b(?:maybe|perhaps|possibly)\b"
)
_NEGATION = re.compile(r"\b(?:not|never|nothing|none|neither|nor|cannot)\b|n't\b")
# Only existence is read from a bare statement: "It is red" does not answer "Is it blue?".
_EXISTS = re.compile(r"^(?:there (?:is|are|(?:appears?|seems?) to be)|there's|i (?:can )?see)\b")


# "That's correct.", "It is true.": the verdict word opens the answer ("right"/"wrong" only
# after "that", as "it is right" may be a place: "It is right of the square.")
_JUDGED = {"correct": "correct", "true": "true", "incorrect": "incorrect", "false": "false"}
_THAT_JUDGED = {**_JUDGED, "right": "correct", "wrong": "incorrect"}
_JUDGE_LEADS = (("that's",), ("that", "is"), ("this", "is"), ("it's",), ("it", "is"))

Verdict = bool | Ambiguous | None


def _words(sentence: str) -> list[str]:
    """The sentence's words, "of course" read as "certainly", "that's right" as "correct"."""
    words = WORD.findall(sentence)
    if words[:2] == ["of", "course"]:
        return ["certainly", *words[2:]]
    for lead in _JUDGE_LEADS:
        verdicts = _THAT_JUDGED if lead[0].startswith("that") else _JUDGED
        k = len(lead)
        if tuple(words[:k]) == lead and words[k : k + 1] and words[k] in verdicts:
            return [verdicts[words[k]], *words[k + 1 :]]
    return words


def _leading_verdict(sentence: str) -> tuple[bool, Verdict]:
    """(decided, verdict) from a sentence that opens with a yes/no word."""
    words = _words(sentence)
    if not words:
        return False, None
    if words[0] in _EMPHATIC:
        if words[1:2] == ["not"]:
            return True, AMBIGUOUS if _YES.intersection(words) else False
        if (_YES | _NO).intersection(words):
            return False, None  # "Sure, here is my answer: no": the yes/no word decides
    if words[0] in _LEAD_YES:
        return True, AMBIGUOUS if _NO.intersection(words) else True
    if words[0] in _LEAD_NO:
        return True, AMBIGUOUS if _YES.intersection(words) else False
    return False, None


def _said(words: set[str]) -> Verdict:
    has_yes, has_no = bool(words & _YES), bool(words & _NO)
    if has_yes and has_no:
        return AMBIGUOUS
    return has_yes if has_yes or has_no else None


def _read(span: Span) -> Verdict:
    text = clean(span.text)
    if span.kind == "clause":  # "…, so yes": only a yes/no word says it there
        return _said(set(WORD.findall(text)))
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    opening = set(_words(sentences[0])) if sentences else set()
    if len(sentences) > 1 and opening and opening <= _EMPHATIC:
        sentences = sentences[1:]  # "Sure! …", "Certainly. …": the answer follows
    if not sentences:
        return None
    first = sentences[0]
    decided, verdict = _leading_verdict(first)
    if decided:
        return verdict
    if _UNSURE.search(first):
        return AMBIGUOUS
    said = _said(set(WORD.findall(first)))
    if said is not None:
        return said
    if _NEGATION.search(first):
        return False
    if len(sentences) == 1 and _EXISTS.match(first):
        return True
    for sentence in sentences[1:]:
        decided, verdict = _leading_verdict(sentence)
        if decided:
            return verdict
    return None


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the text does not clearly say either.

    A reasoning trace (`<think>…</think>`) is skipped; a reply that ends inside one gives None.
    A stated conclusion decides first: an answer tag or box, "the answer is no", "…, so yes"
    (there only a yes/no word counts). Otherwise the first sentence is read: an opening yes/no
    word decides ("Yes.", "No, I don't see one", "**Yes**", "Certainly.", "Of course",
    "Absolutely not."), unless the same sentence also holds the opposite word ("Yes and no" →
    None). A first sentence that is only "Sure!", "Certainly." or the like, with more text after
    it, opens the reply and is skipped. Hedges ("I can't tell", "not sure", "maybe") give None.
    Otherwise a lone yes or no word decides, then a negation gives False ("There is no green
    star.", "It is not red"), and a one-sentence existence statement gives True ("There is a green
    star.", "I see a star."); other statements ("It is red.") give None, as they need the question
    to be read. Failing all that, a later sentence that opens with yes/no decides ("The image
    shows a circle. Yes, it is red.").
    """
    return read(text, _read)
