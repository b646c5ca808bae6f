"""Caption metrics (CIDEr, BLEU-4, ROUGE-L, METEOR) computed by pycocoevalcap, the COCO scorers.

pycocoevalcap loads only when a function here is called. Tokenisation (Stanford PTBTokenizer) and
METEOR run Java: each call runs the tokeniser once, and METEOR in a process that later calls
share (`_meteor`: its start takes seconds, a scoring a fraction of that).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evalharness.errors import EvalharnessError
from evalharness.metrics._corpus import bleu_stats, meteor_stats

CAPTION_METRICS = ("CIDEr", "BLEU-4", "ROUGE-L", "METEOR")

_Texts = dict[str, list[str]]
_Stats = list[dict[str, float]]
_Scorer = Callable[[_Texts, _Texts], tuple[float, list[float], _Stats]]


@dataclass(frozen=True)
class CaptionScores:
    """Corpus-level scores by metric, and per-image scores by image id, then metric.

    `stats` holds each image's sufficient statistics for the corpus BLEU-4 and METEOR
    (`BLEU_STATS`, `METEOR_STATS`): summed over images and turned into a score by
    `corpus_bleu` / `corpus_meteor`, they give the corpus values (and bootstrap resamples)."""

    corpus: dict[str, float]
    per_image: dict[str, dict[str, float]]
    stats: dict[str, dict[str, float]] = field(default_factory=dict)


class CaptionMetricsError(EvalharnessError, RuntimeError):
    """Java, which PTB tokenisation and METEOR run on, is missing or failed."""


def _need_java() -> None:
    if shutil.which("java") is None:
        raise CaptionMetricsError(
            "caption metrics need Java (PTB tokenisation and METEOR run on it), and there is no "
            "`java` command. Install a Java runtime, 8 or later (Debian: default-jre-headless); "
            "a run's answers are stored, so the same command run again then scores them "
            "without asking the model."
        )


def _one_line(text: str) -> str:
    # A line break would corrupt the line protocols of the Java tools. The COCO toolkit turns "\n"
    # into a space (pycocoevalcap/tokenizer/ptbtokenizer.py); other line breaks ("\r", U+2028)
    # shift every later caption onto another image's line there, so here they are spaces too.
    # "|" stays, as it does there.
    return " ".join(text.split())


def _ptb_tokenize(texts: Sequence[str]) -> list[str]:
    """PTB-tokenised, lower-cased, punctuation-free texts; empty texts skip the tokeniser."""
    lines = [_one_line(t) for t in texts]
    filled = [i for i, line in enumerate(lines) if line]
    if filled:
        for i, line in zip(filled, _run_ptb_tokenizer([lines[i] for i in filled]), strict=True):
            lines[i] = _one_line(line)
    return lines


def _run_ptb_tokenizer(lines: Sequence[str]) -> list[str]:
    """The COCO evaluation's tokenisation: pycocoevalcap's Stanford PTBTokenizer jar with its
    options and punctuation list, one output line per input line.

    pycocoevalcap's own wrapper would do the same, but it writes its input to a file inside the
    installed package (which fails where site-packages is read-only) and lets Java's warnings
    ("Untokenizable: …", a token count) through to our progress bars. Here the lines go through
    a pipe and Java's messages are kept for the error, should it fail.
    """
    from pycocoevalcap.tokenizer import ptbtokenizer as ptb

    cmd = ["java", "-cp", ptb.STANFORD_CORENLP_3_4_1_JAR, "edu.stanford.nlp.process.PTBTokenizer"]
    proc = subprocess.run(
        [*cmd, "-preserveLines", "-lowerCase"],
        cwd=Path(ptb.__file__).parent,
        input="\n".join(lines).encode(),
        capture_output=True,
        check=False,
    )
    out = proc.stdout.decode().split("\n")
    if proc.returncode != 0 or len(out) < len(lines):
        said = " ".join(proc.stderr.decode(errors="replace").split())[-500:]
        raise CaptionMetricsError(
            f"the PTB tokeniser (Java) failed (exit {proc.returncode}): {said}"
        )
    drop = set(ptb.PUNCTUATIONS)
    return [
        " ".join(w for w in out[k].rstrip().split(" ") if w not in drop) for k in range(len(lines))
    ]


def _bleu4(gts: _Texts, res: _Texts) -> tuple[float, list[float], _Stats]:
    # Bleu(4).compute_score, with each image's cooked counts kept for the corpus statistics
    from pycocoevalcap.bleu.bleu_scorer import BleuScorer

    scorer = BleuScorer(n=4)
    for i in gts:
        scorer += (res[i][0], gts[i])
    score, scores = scorer.compute_score(option="closest", verbose=0)
    stats = [bleu_stats(c["testlen"], c["reflen"], c["guess"], c["correct"]) for c in scorer.ctest]
    return float(score[3]), [float(s) for s in scores[3]], stats


def _cider(gts: _Texts, res: _Texts) -> tuple[float, list[float], _Stats]:
    from pycocoevalcap.cider.cider import Cider

    score, scores = Cider().compute_score(gts, res)
    return float(score), [float(s) for s in scores], []


def _rouge(gts: _Texts, res: _Texts) -> tuple[float, list[float], _Stats]:
    from pycocoevalcap.rouge.rouge import Rouge

    score, scores = Rouge().compute_score(gts, res)
    return float(score), [float(s) for s in scores], []


def _meteor(gts: _Texts, res: _Texts) -> tuple[float, list[float], _Stats]:
    from evalharness.metrics import _meteor

    corpus, scores, lines = _meteor.score(gts, res)
    return corpus, scores, [meteor_stats(line) for line in lines]


_SCORERS: dict[str, _Scorer] = {
    "CIDEr": _cider,
    "BLEU-4": _bleu4,
    "ROUGE-L": _rouge,
    "METEOR": _meteor,
}


def score_captions(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    *,
    metrics: Collection[str] = CAPTION_METRICS,
    tokenize: bool = True,
) -> CaptionScores:
    """Corpus and per-image caption scores in one pass (one tokeniser run, one METEOR process).

    `predictions` maps image id → caption, `references` image id → reference captions; both must
    have the same ids and every image at least one reference. Texts are PTB-tokenised as in the
    COCO evaluation (lower-cased, punctuation dropped) unless `tokenize` is False, in which case
    they are taken as already tokenised (space-separated). Empty predictions are scored (0), not
    dropped. `metrics` picks a subset of `CAPTION_METRICS` (METEOR is the slow one: it starts a
    JVM that loads paraphrase tables). An empty corpus gives NaN scores.

    What each value means, as pycocoevalcap computes it:
    - "CIDEr": CIDEr-D, in [0, 10]; the corpus value is the mean of the per-image values, and both
      depend on the whole corpus (n-gram weights come from all references), so score a benchmark's
      images together. With a single image every weight is 0, and so is CIDEr.
    - "BLEU-4": corpus BLEU from summed n-gram counts (not the mean of per-image values); the
      per-image value is the sentence-level BLEU-4, tiny for captions under four words.
    - "ROUGE-L": LCS F-measure (beta 1.2) against the best reference; corpus = mean.
    - "METEOR": METEOR 1.5; the corpus value aggregates statistics over all images.
    `stats` gives each image's statistics behind the corpus BLEU-4 and METEOR.

    Raises ValueError on mismatched ids, an image without references or an unknown metric.
    """
    unknown = set(metrics) - set(CAPTION_METRICS)
    if unknown:
        raise ValueError(f"unknown caption metrics {sorted(unknown)}; known: {CAPTION_METRICS}")
    if set(predictions) != set(references):
        missing = sorted(set(predictions) ^ set(references))[:5]
        raise ValueError(f"predictions and references must have the same ids; e.g. {missing}")
    ids = sorted(predictions)
    if any(not references[i] for i in ids):
        raise ValueError("every image needs at least one reference caption")
    chosen = [m for m in CAPTION_METRICS if m in metrics]
    if not ids:
        return CaptionScores({m: float("nan") for m in chosen}, {})

    if tokenize or "METEOR" in chosen:
        _need_java()
    texts = [predictions[i] for i in ids] + [r for i in ids for r in references[i]]
    texts = _ptb_tokenize(texts) if tokenize else [_one_line(t) for t in texts]
    res = {i: [texts[k]] for k, i in enumerate(ids)}
    gts, k = {}, len(ids)
    for i in ids:
        gts[i], k = texts[k : k + len(references[i])], k + len(references[i])

    corpus: dict[str, float] = {}
    per_image: dict[str, dict[str, float]] = {i: {} for i in ids}
    stats: dict[str, dict[str, float]] = {i: {} for i in ids}
    for name in chosen:
        corpus[name], scores, image_stats = _SCORERS[name](gts, res)
        for i, value in zip(ids, scores, strict=True):
            per_image[i][name] = value
        for i, values in zip(ids, image_stats or [{}] * len(ids), strict=True):
            stats[i].update(values)  # none from CIDEr and ROUGE-L
    return CaptionScores(corpus, per_image, stats)


def caption_scores(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    *,
    metrics: Collection[str] = CAPTION_METRICS,
    tokenize: bool = True,
) -> dict[str, float]:
    """Corpus-level "CIDEr", "BLEU-4", "ROUGE-L" and "METEOR"; see `score_captions`."""
    return score_captions(predictions, references, metrics=metrics, tokenize=tokenize).corpus


def caption_scores_per_image(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    *,
    metrics: Collection[str] = CAPTION_METRICS,
    tokenize: bool = True,
) -> dict[str, dict[str, float]]:
    """Per-image scores, image id → metric → value, to store as per-sample metrics.

    See `score_captions` (which gives these and the corpus values in one pass) for what each
    value means; mind that per-image CIDEr depends on the other images scored with it.
    """
    return score_captions(predictions, references, metrics=metrics, tokenize=tokenize).per_image
