"""ANLS, the average normalised Levenshtein similarity of ST-VQA and DocVQA."""

from __future__ import annotations

from collections.abc import Sequence


def levenshtein(a: str, b: str) -> int:
    """The edit distance between two strings (insertions, deletions, substitutions cost 1)."""
    if len(a) < len(b):
        a, b = b, a  # keep the row as short as the shorter string
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _anls_form(text: str) -> str:
    return " ".join(text.strip().lower().split())


def anls(prediction: str, answers: Sequence[str], threshold: float = 0.5) -> float:
    """Normalised Levenshtein similarity of a prediction to its closest answer, in [0, 1].

    Both sides are lower-cased, stripped and have inner whitespace runs collapsed to one space (as
    the DocVQA evaluation does). For each answer, NL = edit distance / length of the longer string;
    the answer scores 1 - NL if NL < `threshold`, else 0, and the result is the best answer's score.
    Two empty strings are identical (score 1). The benchmark-level ANLS is the mean of this value.

    Raises ValueError if `answers` is empty.
    """
    if not answers:
        raise ValueError("anls needs at least one reference answer")
    predicted = _anls_form(prediction)
    best = 0.0
    for answer in answers:
        target = _anls_form(answer)
        longest = max(len(predicted), len(target))
        distance = levenshtein(predicted, target) / longest if longest else 0.0
        if distance < threshold:
            best = max(best, 1.0 - distance)
    return best
