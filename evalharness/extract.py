"""Answer extraction: read a yes/no, a number, an option or a short answer out of free model text.

Every function here is pure and total: it never raises on any string, and it returns None when the
text does not clearly answer. A wrong guess would score as luck; None scores as wrong, and the
share of None answers is itself worth reporting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence

from evalharness.types import LETTERS

VERSION = "3"
"""Bumped whenever a function here reads some reply differently. It is part of every benchmark
version built with `version_string`, so results extracted differently are never ranked together;
`evalharness rescore` brings stored runs up to date from their raw outputs."""

_MAX_PASSES = 20  # the cleaners only delete text, so they settle in a few passes

_MARKUP = re.compile(r"[*`]+|__+")
_PREFIX = re.compile(
    r"^\s*(?:(?:the|my)\s+)?(?:final\s+|correct\s+|short\s+)?answer"
    r"(?:\s*[:\-–]|\s+is\b\s*:?)\s*",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’«»"
_EDGE_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»…–—"


def _settle(fn: Callable[[str], str], text: str) -> str:
    """Apply `fn` until the text stops changing, which makes the cleaners idempotent."""
    for _ in range(_MAX_PASSES):
        new = fn(text)
        if new == text:
            break
        text = new
    return text


def _strip_framing(text: str) -> str:
    """Markdown emphasis and a leading "The answer is" / "Answer:", without choosing a line."""
    return _PREFIX.sub("", _MARKUP.sub("", text), count=1).strip()


def _open_once(text: str) -> str:
    text = _strip_framing(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # "Here is my answer:\nred" -- a lead-in line that ends in a colon is not the answer
    line = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0]
    return line.strip(" \t" + _QUOTES).rstrip(".!?,;:").strip(" \t" + _QUOTES)


def _normalize_once(text: str) -> str:
    return " ".join(_open_once(text).lower().split()).strip(_EDGE_PUNCT + " ")


def open_answer(text: str) -> str:
    """The short answer in a free-text reply, with its case kept.

    Removes markdown emphasis (`**`, `__`, backticks), a leading "The answer is" / "Answer:" /
    "Final answer:", surrounding quotes and trailing `.!?,;:`, and keeps the first non-empty line
    (the second when the first is a lead-in ending in a colon). "**Red.**\\nIt is red because…"
    gives "Red". Idempotent.
    """
    return _settle(_open_once, text)


def normalize(text: str) -> str:
    """`open_answer`, lower-cased, whitespace collapsed and punctuation stripped from both ends.

    For comparing short open answers (colours, shapes, words): "  **Blue.** " → "blue".
    Idempotent: `normalize(normalize(x)) == normalize(x)`.
    """
    return _settle(_normalize_once, text)


def _clean(text: str) -> str:
    """Framing removed, lower-cased, typographic apostrophes made plain; all lines kept."""
    return _settle(_strip_framing, text).lower().replace("’", "'")


# --- yes / no ------------------------------------------------------------------------------

_YES = frozenset({"yes", "yeah", "yep", "yup", "yea"})
_NO = frozenset({"no", "nope", "nah"})
# Words that say yes by emphasis ("Certainly.", "Of course.") but no before "not" ("Certainly
# not."); alone in a first sentence that more text follows they only open the reply ("Sure! There
# is no cat.").
_EMPHATIC = frozenset({"certainly", "absolutely", "definitely", "indeed", "sure"})
_LEAD_YES = _YES | _EMPHATIC | {"true", "correct", "affirmative"}
_LEAD_NO = _NO | {"false", "incorrect", "none", "negative"}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
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


def _words(sentence: str) -> list[str]:
    """The sentence's words, "of course" read as "certainly", "that's right" as "correct"."""
    words = _WORD.findall(sentence)
    if words[:2] == ["of", "course"]:
        return ["certainly", *words[2:]]
    for lead in _JUDGE_LEADS:
        verdicts = _THAT_JUDGED if lead[0].startswith("that") else _JUDGED
        k = len(lead)
        if tuple(words[:k]) == lead and words[k : k + 1] and words[k] in verdicts:
            return [verdicts[words[k]], *words[k + 1 :]]
    return words


def _leading_verdict(sentence: str) -> tuple[bool, bool | None]:
    """(decided, verdict) from a sentence that opens with a yes/no word."""
    words = _words(sentence)
    if not words:
        return False, None
    if words[0] in _EMPHATIC:
        if words[1:2] == ["not"]:
            return True, None if _YES.intersection(words) else False
        if (_YES | _NO).intersection(words):
            return False, None  # "Sure, here is my answer: no": the yes/no word decides
    if words[0] in _LEAD_YES:
        return True, None if _NO.intersection(words) else True
    if words[0] in _LEAD_NO:
        return True, None if _YES.intersection(words) else False
    return False, None


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the text does not clearly say either.

    Reads the first sentence: an opening yes/no word decides ("Yes.", "No, I don't see one",
    "**Yes**", "Certainly.", "Of course", "Absolutely not."), unless the same sentence also holds
    the opposite word ("Yes and no" → None). A first sentence that is only "Sure!", "Certainly."
    or the like, with more text after it, opens the reply and is skipped.
    Hedges ("I can't tell", "not sure", "maybe") give None. Otherwise a lone yes or no word decides,
    then a negation gives False ("There is no green star.", "It is not red"), and a one-sentence
    existence statement gives True ("There is a green star.", "There appears to be a star.", "I see
    a star."); other statements
    ("It is red.") give None, as they need the question to be read. Failing all that, a later
    sentence that opens with yes/no decides ("The image shows a circle. Yes, it is red.").
    """
    sentences = [s.strip() for s in _SENTENCE_END.split(_clean(text)) if s.strip()]
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
        return None
    words = set(_WORD.findall(first))
    has_yes, has_no = bool(words & _YES), bool(words & _NO)
    if has_yes or has_no:
        return None if has_yes and has_no else has_yes
    if _NEGATION.search(first):
        return False
    if len(sentences) == 1 and _EXISTS.match(first):
        return True
    for sentence in sentences[1:]:
        decided, verdict = _leading_verdict(sentence)
        if decided:
            return verdict
    return None


# --- numbers -------------------------------------------------------------------------------

_UNIT_WORDS = (  # noqa: SIM905 (a word list reads best as words)
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_UNITS = {w: i for i, w in enumerate(_UNIT_WORDS)}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), 2
    )
}
_ZERO_WORDS = frozenset({"none", "nothing", "zero"})
# "no" starts a zero count ("no triangles") unless it starts a reply ("No there are 3")
# or compares ("no more than 3", "no other shape")
_NOT_COUNTED = frozenset(
    {"there", "it", "i", "they", "that", "this", "the", "but", "and", "i'm"}
    | {"more", "fewer", "less", "other"}
)
_NUM_TOKEN = re.compile(
    r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|[a-z]+(?:'[a-z]+)?|\S",
    re.ASCII,
)
_ANSWER_MARK = re.compile(r"\banswer(?:\s+is\b|\s*[:\-–])")


def _word_number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """(value, index after it) for a number written in words at `tokens[i]`, up to 999."""
    tok, n = tokens[i], len(tokens)
    if tok in _TENS:
        value, j = _TENS[tok], i + 1
        k = j + 1 if j < n and tokens[j] == "-" else j
        if k < n and 0 < _UNITS.get(tokens[k], 0) < 10:
            value, j = value + _UNITS[tokens[k]], k + 1
    elif tok in _UNITS:
        value, j = _UNITS[tok], i + 1
    else:
        return None
    if j < n and tokens[j] == "hundred" and 0 < value < 10:
        value, j = value * 100, j + 1
        k = j + 1 if j < n and tokens[j] == "and" else j
        rest = _word_number(tokens, k) if k < n else None
        if rest is not None and rest[0] < 100:
            value, j = value + rest[0], rest[1]
    return value, j


def _is_zero(tokens: Sequence[str], i: int) -> bool:
    """ "none", "zero", "nothing", "no triangles", "not any", "aren't any", "I don't see any"."""
    tok, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok == "no":
        return _WORD.fullmatch(nxt) is not None and nxt not in _NOT_COUNTED
    if tok == "any":  # a negation at most two words before, words only between
        for j in range(i - 1, max(i - 4, -1), -1):
            if _WORD.fullmatch(tokens[j]) is None:
                return False
            if tokens[j] in ("not", "cannot", "never") or tokens[j].endswith("n't"):
                return True
        return False
    return tok in _ZERO_WORDS


def _negated(tokens: Sequence[str], i: int) -> bool:
    """Does a "not" come before `tokens[i]` ("not one", "not even one", "isn't a single")?"""
    j = i - 1
    while j >= 0 and tokens[j] in ("a", "even"):
        j -= 1
    return j >= 0 and (tokens[j] == "not" or tokens[j].endswith("n't"))


def _numbers(text: str) -> Iterator[int | float]:
    tokens = _NUM_TOKEN.findall(text)
    for i, tok in enumerate(tokens):
        if "0" <= tok[0] <= "9":
            digits = tok.replace(",", "")
            yield float(digits) if "." in digits else int(digits)
        elif (found := _word_number(tokens, i)) is not None:
            if not (i > 0 and (tokens[i - 1] in _TENS or tokens[i - 1] == "-")):
                # "twenty-one" is one number, not 20 then 1; "not one" is none
                yield 0 if found[0] == 1 and _negated(tokens, i) else found[0]
        elif tok == "single":  # "a single circle"; "not a single one"
            yield 0 if _negated(tokens, i) else 1
        elif _is_zero(tokens, i):
            yield 0


def number(text: str) -> int | float | None:
    """The number a reply gives, from digits or words, or None.

    "I count 7" → 7, "There are three circles." → 3, "twenty-one" → 21, "3.5" → 3.5, "1,000" →
    1000, "a single circle" → 1; "none", "zero", "no triangles", "there aren't any", "I don't see
    any", "not one", "not a single one" → 0. Integers come back as int.
    Where a reply restates the question, the answer is sought first after the last "answer is" /
    "answer:", then after the last question mark, then anywhere; within that span the first number
    wins. Numbers are read as non-negative (a dash is a separator).
    """
    cleaned = _clean(text)
    spans = []
    marks = list(_ANSWER_MARK.finditer(cleaned))
    if marks:
        spans.append(cleaned[marks[-1].end() :])
    if "?" in cleaned.rstrip("? \n"):
        spans.append(cleaned[cleaned.rstrip("? \n").rindex("?") + 1 :])
    spans.append(cleaned)
    for span in spans:
        for value in _numbers(span):
            return value
    return None


# --- options -------------------------------------------------------------------------------

_LETTER = r"(?:[(\[]\s*([A-Za-z])\s*[)\]]|(?<![\w'])([A-Za-z])(?![\w']))"
_WHOLE = re.compile(r"^\W*([A-Za-z])\W*$")
_ANSWER_LETTER = re.compile(
    r"\banswer\b(?:\s+(?:is|would be|should be|will be)\b)?\s*[:\-–]?\s*"
    r"(?:(?:option|choice|letter)\s*)?" + _LETTER,
    re.IGNORECASE,
)
_OPTION_LETTER = re.compile(
    r"\b(?:option|choice|letter)\b(?:\s+(?:is|would be|should be))?\s*[:\-–]?\s*" + _LETTER,
    re.IGNORECASE,
)
_LEADING_LETTER = re.compile(r"^\s*(?:[(\[]([A-Za-z])[)\]]|([A-Za-z])[.:)]|([A-Z])\s+[-–])(?=\s|$)")
_BRACKETED = re.compile(r"[(\[]\s*([A-Za-z])\s*[)\]]")
_BARE_CAPITAL = re.compile(r"(?<![\w'])([A-Z])(?![\w'])")
_CLEAR_AFTER = re.compile(r"\s*(?:$|[.,;:!?)\]])")


def _is_clear(text: str, m: re.Match[str]) -> bool:
    """Is an unbracketed single letter an option letter, not the article "a" or the pronoun "I"?"""
    letter = m.group(m.lastindex or 0)
    if letter.isupper() and letter not in "AI":
        return True
    return _CLEAR_AFTER.match(text, m.end()) is not None


def _letters(text: str, pattern: re.Pattern[str], n: int, bare_group: int = 0) -> set[int]:
    """Valid option indices of the letters `pattern` finds; one in `bare_group` must be clear."""
    found = set()
    for m in pattern.finditer(text):
        if m.lastindex is None or (m.lastindex == bare_group and not _is_clear(text, m)):
            continue
        index = LETTERS.find(m.group(m.lastindex).upper())
        if 0 <= index < n:
            found.add(index)
    return found


def _words_only(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _option_in_text(text: str, choices: Sequence[str]) -> int | None:
    """The one option whose own text the reply names; longer matches hide those inside them."""
    words = _words_only(text)
    spans = []
    for index, choice_text in enumerate(choices):
        option = re.sub(r"^(?:a|an|the) ", "", _words_only(choice_text))
        if option:
            pattern = r"(?<!\S)" + re.escape(option) + r"(?!\S)"
            spans += [(m.start(), m.end(), index) for m in re.finditer(pattern, words)]
    named = {
        index
        for start, end, index in spans
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)
    }
    return named.pop() if len(named) == 1 else None


def choice(text: str, choices: list[str]) -> int | None:
    """The index of the option a reply picks, or None if it picks none or is ambiguous.

    Letters are read in every usual form: "B", "(B)", "B.", "B)", "**B**", "Answer: C",
    "The answer is (B)", "Option B", "(B) the blue square". The rules are tried in order, and the
    first that finds a valid letter decides (two different letters there give None): the whole
    reply is one letter; a letter after "answer"; after "option"/"choice"; at the start of the reply
    followed by ".", ")" or ":"; in brackets anywhere. Then the options' own texts: "I think it is
    the red circle" picks "red circle"; a match inside a longer matching option does not count
    ("blue square" hides "square"); two options named give None. Last, a lone capital letter
    anywhere ("B because…"). The article "A" and the pronoun "I" count as letters only when they
    stand alone or before punctuation ("A.", "answer is A"), never in "A red circle…".
    Letters beyond `len(choices)` are ignored.
    """
    n = min(len(choices), len(LETTERS))
    if n == 0:
        return None
    cleaned = _settle(_strip_framing, text).replace("’", "'")
    tiers = (
        _letters(cleaned, _WHOLE, n),
        _letters(cleaned, _ANSWER_LETTER, n, bare_group=2),
        _letters(cleaned, _OPTION_LETTER, n, bare_group=2),
        _letters(cleaned, _LEADING_LETTER, n),
        _letters(cleaned, _BRACKETED, n),
    )
    for found in tiers:
        if found:
            return found.pop() if len(found) == 1 else None
    by_text = _option_in_text(cleaned, choices)
    if by_text is not None:
        return by_text
    bare = _letters(cleaned, _BARE_CAPITAL, n, bare_group=1)
    return bare.pop() if len(bare) == 1 else None


# --- JSON ----------------------------------------------------------------------------------

_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)


def json_answer(text: str) -> str | None:
    """The "answer" field of the first JSON object in a reply that has one, as a string.

    Tolerates ```json fences and text around the object. Strings come back as they are, numbers
    and booleans in their JSON spelling ("3", "true"); null, lists and objects give None, as does a
    reply without such an object. The key must be exactly "answer".
    """
    decoder = json.JSONDecoder()
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        for start in (m.start() for m in re.finditer(r"\{", candidate)):
            try:
                obj, _ = decoder.raw_decode(candidate, start)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict) and "answer" in obj:
                value = obj["answer"]
                if isinstance(value, str):
                    return value
                if isinstance(value, bool | int | float):
                    return json.dumps(value)
                return None
    return None
