"""Official readings: answers scored exactly as each benchmark's official evaluation script does,
quirks included. Each function names the script (repository and path) it reproduces; these
functions are written from what the scripts do, and tests compare them with the scripts' own
outputs on recorded cases (tests/fixtures/official/).

They serve the `official` protocol of the benchmarks (`evalharness.benchmarks.protocols`); the
`robust` readings elsewhere in this package are what we would rather measure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from evalharness.stats import Aggregate, FloatArray

_CONTRACTIONS = dict(
    pair.split("=", 1)
    for pair in (  # noqa: SIM905 (a table reads best as words)
        "aint=ain't arent=aren't cant=can't couldve=could've couldnt=couldn't "
        "couldn'tve=couldn't've couldnt've=couldn't've didnt=didn't doesnt=doesn't dont=don't "
        "hadnt=hadn't hadnt've=hadn't've hadn'tve=hadn't've hasnt=hasn't havent=haven't hed=he'd "
        "hed've=he'd've he'dve=he'd've hes=he's howd=how'd howll=how'll hows=how's Id've=I'd've "
        "I'dve=I'd've Im=I'm Ive=I've isnt=isn't itd=it'd itd've=it'd've it'dve=it'd've "
        "itll=it'll let's=let's maam=ma'am mightnt=mightn't mightnt've=mightn't've "
        "mightn'tve=mightn't've mightve=might've mustnt=mustn't mustve=must've neednt=needn't "
        "notve=not've oclock=o'clock oughtnt=oughtn't ow's'at='ow's'at 'ows'at='ow's'at "
        "'ow'sat='ow's'at shant=shan't shed've=she'd've she'dve=she'd've she's=she's "
        "shouldve=should've shouldnt=shouldn't shouldnt've=shouldn't've shouldn'tve=shouldn't've "
        "somebody'd=somebodyd somebodyd've=somebody'd've somebody'dve=somebody'd've "
        "somebodyll=somebody'll somebodys=somebody's someoned=someone'd someoned've=someone'd've "
        "someone'dve=someone'd've someonell=someone'll someones=someone's somethingd=something'd "
        "somethingd've=something'd've something'dve=something'd've somethingll=something'll "
        "thats=that's thered=there'd thered've=there'd've there'dve=there'd've therere=there're "
        "theres=there's theyd=they'd theyd've=they'd've they'dve=they'd've theyll=they'll "
        "theyre=they're theyve=they've twas='twas wasnt=wasn't wed've=we'd've we'dve=we'd've "
        "weve=we've werent=weren't whatll=what'll whatre=what're whats=what's whatve=what've "
        "whens=when's whered=where'd wheres=where's whereve=where've whod=who'd whod've=who'd've "
        "who'dve=who'd've wholl=who'll whos=who's whove=who've whyll=why'll whyre=why're "
        "whys=why's wont=won't wouldve=would've wouldnt=wouldn't wouldnt've=wouldn't've "
        "wouldn'tve=wouldn't've yall=y'all yall'll=y'all'll y'allll=y'all'll yall'd've=y'all'd've "
        "y'alld've=y'all'd've y'all'dve=y'all'd've youd=you'd youd've=you'd've you'dve=you'd've "
        "youll=you'll youre=you're youve=you've "
    ).split()
)
"""The contraction table of the VQA evaluation (GT-Vision-Lab/VQA,
PythonEvaluationTools/vqaEvaluation/vqaEval.py; MMF's EvalAIAnswerProcessor has the same one),
as it is: keys with a capital never match a lower-cased word, "somebody'd" becomes "somebodyd"."""

_NUMBERS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_ARTICLES = frozenset({"a", "an", "the"})
_VQA_PUNCT = tuple(';/[]"{}()=+\\_-><@`,?!')
"""The punctuation both scripts handle, in their order (the order matters for what is left)."""
_PERIOD = re.compile(r"(?!<=\d)(\.)(?!\d)")  # the scripts' pattern: its look-behind never applies
_VQA_COMMA = re.compile(r"(\d)(\,)(\d)")
_MMF_COMMA = re.compile(r"(?<=\d)(\,)+(?=\d)")
_MAX_PERIODS = int(re.UNICODE)
"""Both scripts pass `re.UNICODE` where `re.sub` takes its count: at most 32 periods go."""


def _punctuation(text: str, comma: re.Pattern[str]) -> str:
    out = text
    digit_comma = comma.search(text) is not None
    for mark in _VQA_PUNCT:
        if mark + " " in text or " " + mark in text or digit_comma:
            out = out.replace(mark, "")
        else:
            out = out.replace(mark, " ")
    return _PERIOD.sub("", out, _MAX_PERIODS)


def _digits_articles(text: str) -> str:
    words = [_NUMBERS.get(w, w) for w in text.lower().split()]
    return " ".join(_CONTRACTIONS.get(w, w) for w in words if w not in _ARTICLES)


def vqa_eval_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """VQA accuracy as the VQA evaluation script computes it (GT-Vision-Lab/VQA,
    PythonEvaluationTools/vqaEvaluation/vqaEval.py, `VQAEval.evaluate`).

    Line breaks and tabs become spaces and both sides are stripped. Only when the annotators'
    answers are not all the same are answers and prediction normalised (punctuation, then number
    words, articles and contractions); a unanimous question compares the raw texts, so "Yes"
    misses ten "yes". Each annotator's answer earns min(1, matches among the other answers / 3);
    the accuracy is their mean. The script's overall number is this mean ×100, rounded to two
    decimals (ours is not rounded). NaN without answers (the script divides by zero).
    """
    if not answers:
        return math.nan
    gts = [a.replace("\n", " ").replace("\t", " ").strip() for a in answers]
    said = prediction.replace("\n", " ").replace("\t", " ").strip()
    if len(set(gts)) > 1:
        gts = [_digits_articles(_punctuation(a, _VQA_COMMA)) for a in gts]
        said = _digits_articles(_punctuation(said, _VQA_COMMA))
    hits = [a == said for a in gts]
    total = sum(hits)
    return sum(min(1.0, (total - hit) / 3) for hit in hits) / len(hits)


def evalai_normalize(text: str) -> str:
    """An answer as MMF's EvalAIAnswerProcessor leaves it (facebookresearch/mmf,
    mmf/utils/m4c_evaluators.py), which TextVQA's evaluation uses: lower-cased, "," and "?"
    dropped, "'s" split off as a word, then the VQA punctuation (with MMF's digit-comma rule),
    number words, articles and contractions."""
    text = text.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    text = text.replace("\n", " ").replace("\t", " ").strip()
    return _digits_articles(_punctuation(text, _MMF_COMMA))


def textvqa_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """TextVQA accuracy as MMF's TextVQAAccuracyEvaluator computes it (facebookresearch/mmf,
    mmf/utils/m4c_evaluators.py): every answer and the prediction through `evalai_normalize`,
    then the VQA leave-one-out mean. The evaluator requires exactly ten answers (it asserts);
    any other number gives NaN here."""
    if len(answers) != 10:
        return math.nan
    gts = [evalai_normalize(a) for a in answers]
    said = evalai_normalize(prediction)
    hits = [a == said for a in gts]
    total = sum(hits)
    return sum(min(1.0, (total - hit) / 3) for hit in hits) / len(hits)


def pope_says_no(text: str) -> bool:
    """How POPE's evaluate.py (AoiDragon/POPE, evaluate.py) reads a reply: "no" when the text up
    to its first "." holds the word "No", "no" or "not" (commas dropped, words split on single
    spaces only, so "no\n" or "No!" is not the word), else "yes", whatever the reply says."""
    first = text.split(".")[0] if "." in text else text
    words = first.replace(",", "").split(" ")
    return "No" in words or "not" in words or "no" in words


def count_exact(prediction: str, number: str) -> float:
    """CountBenchQA's reference scoring (vikhyat/moondream, moondream/eval/countbenchqa.py):
    the reply, stripped and lower-cased, equals the count's digits."""
    return float(prediction.strip().lower() == number.strip().lower())


_POPE_SCRIPT = "POPE's evaluate.py divides by zero"


def _pope_f1(sums: FloatArray) -> FloatArray:  # (tp, fp, fn): 2PR / (P + R), as the script
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        out: FloatArray = np.where(tp > 0, 2 * precision * recall / (precision + recall), np.nan)
    return out


def pope_official_aggregates(
    prefix: str, column_prefix: str, where: tuple[str, object] | None = None
) -> list[Aggregate]:
    """POPE's numbers as its evaluate.py prints them, over `pope_row` columns of the official
    reading: accuracy, precision, recall, F1 (2PR / (P + R)) and yes ratio. Where the script
    divides by zero (nothing read as yes; no object present; no true positive for F1) the number
    is NaN and its note says why, instead of the script's exception."""
    nothing_yes = f"{_POPE_SCRIPT}: no reply was read as yes"
    return [
        Aggregate.mean(column_prefix + "correct", prefix + "accuracy", where, bounded=True),
        Aggregate(
            prefix + "precision",
            (column_prefix + "tp", column_prefix + "pred_yes"),
            _ratio_or_nan,
            where,
            bounded=True,
            undefined=nothing_yes,
        ),
        Aggregate(
            prefix + "recall",
            (column_prefix + "tp", column_prefix + "fn"),
            _recall,
            where,
            bounded=True,
            undefined=f"{_POPE_SCRIPT}: no object is present",
        ),
        Aggregate(
            prefix + "f1",
            (column_prefix + "tp", column_prefix + "fp", column_prefix + "fn"),
            _pope_f1,
            where,
            bounded=True,
            undefined=f"{_POPE_SCRIPT}: no true positive, so precision + recall is 0 or undefined",
        ),
        Aggregate.mean(column_prefix + "pred_yes", prefix + "yes_ratio", where, bounded=True),
    ]


def _recall(sums: FloatArray) -> FloatArray:  # (tp, fn)
    return _ratio_or_nan(np.stack([sums[..., 0], sums[..., 0] + sums[..., 1]], axis=-1))


def _ratio_or_nan(sums: FloatArray) -> FloatArray:
    num, den = sums[..., 0], sums[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def _edit_distance(a: str, b: str) -> int:
    from evalharness.metrics._anls import levenshtein

    return levenshtein(a, b)


def docvqa_anls(prediction: str, answers: Sequence[str], threshold: float = 0.5) -> float:
    """ANLS of one question as the DocVQA / InfographicVQA evaluation script computes it (the
    RRC's script, as QwenLM/Qwen-VL ships it: eval_mm/infographicsvqa_eval.py).

    The edit distance is taken between the stripped, lower-cased, whitespace-collapsed texts,
    but the length it is divided by is the longer of the raw texts, upper-cased, before any
    stripping ("  Paris " against "paris": distance 0, length 8). The similarity is 1 − the
    smallest normalised distance over the answers, kept when it is at least `threshold` (a
    similarity of exactly 0.5 counts). Two empty texts are identical. NaN without answers (the
    script's `min` of nothing raises).
    """
    if not answers:
        return math.nan
    said = " ".join(prediction.strip().lower().split())
    values = []
    for answer in answers:
        distance = _edit_distance(" ".join(answer.strip().lower().split()), said)
        length = max(len(answer.upper()), len(prediction.upper()))
        values.append(0.0 if length == 0 else float(distance) / float(length))
    similarity = 1 - min(values)
    return 0.0 if similarity < threshold else similarity
