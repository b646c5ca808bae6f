"""How the official evaluation code of multiple-choice benchmarks reads a reply's option letter.

Two readers, each written from the behaviour of the code it stands for (its golden cases under
`tests/benchmarks/hub/golden/` hold that code's own answers):

- `vlmevalkit_letter`: VLMEvalKit's exact matching (`vlmeval/utils/matching_util.py`,
  `can_infer`), which the OpenVLM leaderboard and MMBench's own evaluation use before, or
  instead of, asking a judge model: a letter standing alone near the end of the reply, then
  "answer is X", then the one option whose text the reply contains.
- `lmms_eval_letter`: lmms-eval's shared extractor
  (`lmms_eval/tasks/_task_utils/mcq_extract.py`, `extract_mcq_answer`): every letter found in a
  known form ("(B)", "B.", "B:", "the answer is B", …) is a candidate, the most telling form
  wins, and within a form the last one.

These are deliberately not the harness's own reading (`extract.choice`), which is stricter about
stray capitals and ambiguity: each answers "what number would the official script print".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

REFUSAL = "Z"
"""The letter VLMEvalKit gives a reply that refuses or says no option fits; it is never right."""

_API_FAILURE = "Failed to obtain answer via API"
_REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
_SEPARATORS = str.maketrans({c: " " for c in ".()[],:;!*#{}"})
_ANSWER_IS = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")


def vlmevalkit_letter(reply: str, options: Mapping[str, str]) -> str | None:
    """The letter VLMEvalKit's exact matching reads from `reply`, `REFUSAL` ("Z") for a
    refusal, or None where it reads nothing (it then counts the item wrong).

    `options` maps each letter to its option text, in letter order.
    """
    return _letter_token(reply, options) or _option_text(reply, options)


def _letter_token(reply: str, options: Mapping[str, str]) -> str | None:
    if _API_FAILURE in reply:
        return None
    if any(phrase in reply for phrase in _REFUSALS):
        return REFUSAL
    # punctuation becomes space, so "(B)." and "**B**" are the token "B"
    tokens = reply.translate(_SEPARATORS).split()
    present = [letter for letter in options if letter in tokens]
    if len(present) == 1:
        # only a letter among the last five tokens counts ("B is wrong, ..." does not)
        if tokens.index(present[0]) > len(tokens) - 5:
            return present[0]
    elif not present and REFUSAL in tokens:
        return REFUSAL
    said = _ANSWER_IS.search(reply)
    if said and said.group(1).upper() in options:
        return said.group(1).upper()
    return None


def _option_text(reply: str, options: Mapping[str, str]) -> str | None:
    lowered = reply.lower()
    # a reply more than twice as long as all options together is not read for option texts
    if len(lowered) > 2 * sum(len(str(text)) for text in options.values()):
        return None
    named = [letter for letter, text in options.items() if str(text).lower() in lowered]
    return named[0] if len(named) == 1 else None


# --- lmms-eval ------------------------------------------------------------------------------

_LMMS_PHRASES = (
    "the answer is",
    "answer is",
    "the correct answer is",
    "correct answer is",
    "the best answer is",
    "best answer is",
    "the correct option is",
    "correct option is",
    "the best option is",
    "best option is",
    "the choice is",
    "choice is",
    "the correct choice is",
    "correct choice is",
    "i choose",
    "i select",
    "i pick",
    "my answer is",
    "my choice is",
    "옵션",
    "정답은",
    "답은",
    "답:",
    "答案是",
    "答案为",
    "选",
    "答えは",
)
# (form, rank): a higher rank is the more telling form
_LMMS_FORMS = (("({})", 6), ("{}.", 5), ("{}:", 4), ("{})", 3), ("{} ", 2))
_LMMS_RANK = {"start": 10, "end": 9, "phrase": 7}


def lmms_eval_letter(reply: str, letters: Sequence[str] = ("A", "B", "C", "D")) -> str:
    """The letter lmms-eval's `extract_mcq_answer` reads from `reply`, or "" for none."""
    if not reply or not reply.strip():
        return ""
    text = reply.strip()
    for mark in ",.!?;:'\"":
        text = text.strip(mark)
    text = f" {text} "
    found: list[tuple[int, int, str]] = []  # (rank, position, letter)
    for form, rank in _LMMS_FORMS:
        for letter in letters:
            written = form.format(letter)
            if written in text:
                found.append((rank, text.rfind(written), letter))
    lowered = text.lower()
    for phrase in _LMMS_PHRASES:
        at = lowered.find(phrase)
        if at < 0:
            continue
        for letter in letters:
            # the first letter after the phrase, wherever it stands (even inside a word)
            where = text.find(letter, at + len(phrase))
            if where >= 0:
                found.append((_LMMS_RANK["phrase"], where, letter))
    bare = text.strip()
    for letter in letters:
        if bare.startswith(letter) and (len(bare) == 1 or not bare[1].isalpha()):
            found.append((_LMMS_RANK["start"], 0, letter))
    for letter in letters:
        if bare.endswith(letter) and (len(bare) == 1 or not bare[-2].isalpha()):
            found.append((_LMMS_RANK["end"], len(text) - 1, letter))
    if not found:  # any occurrence at all, the last one
        found = [(0, text.rfind(letter), letter) for letter in letters if letter in text]
    if not found:
        return ""
    # the most telling form, then the latest position; a stable sort keeps the first of equals
    found.sort(key=lambda c: (c[0], c[1]), reverse=True)
    return found[0][2]
