"""Metrics: small pure functions from answers (or captions) to numbers.

Each per-sample metric returns a value a benchmark stores as a per-sample metric column;
benchmark-level numbers with confidence intervals come from `evalharness.stats.estimate` over
those columns (see `pope_aggregates`, `chair_aggregates`). Importing this package stays light:
pycocoevalcap and Java load only when a caption metric is computed.
"""

from evalharness.metrics._anls import anls, levenshtein
from evalharness.metrics._caption import (
    CAPTION_METRICS,
    CaptionMetricsError,
    CaptionScores,
    caption_scores,
    caption_scores_per_image,
    score_captions,
)
from evalharness.metrics._chair import (
    SHAPE_SYNONYMS,
    SHAPE_VOCABULARY,
    chair,
    chair_aggregates,
    colour_shape_vocabulary,
    mentioned_objects,
    object_vocabulary,
)
from evalharness.metrics._choice import REFUSAL, lmms_eval_letter, vlmevalkit_letter
from evalharness.metrics._corpus import (
    BLEU_STATS,
    METEOR_STATS,
    caption_corpus_aggregates,
    corpus_bleu,
    corpus_meteor,
)
from evalharness.metrics._hallusionbench import (
    HALLUSIONBENCH_VERDICTS,
    hallusionbench_code,
    hallusionbench_judge_prompt,
    hallusionbench_verdict,
)
from evalharness.metrics._mathvista import mathvista_normalise, mathvista_rule
from evalharness.metrics._mmmu import mmmu_choice, mmmu_normalise, mmmu_open, mmmu_open_correct
from evalharness.metrics._official import (
    count_exact,
    docvqa_anls,
    evalai_normalize,
    pope_official_aggregates,
    pope_says_no,
    textvqa_accuracy,
    vqa_eval_accuracy,
)
from evalharness.metrics._pope import POPE_COLUMNS, pope, pope_aggregates, pope_row
from evalharness.metrics._ranking import average_precision, roc_auc
from evalharness.metrics._vqa import vqa_accuracy, vqa_normalize
from evalharness.metrics._vsr import (
    VSR_WORDS,
    true_false_pair,
    vsr_official_aggregates,
    vsr_says_true,
)

__all__ = [
    "BLEU_STATS",
    "CAPTION_METRICS",
    "HALLUSIONBENCH_VERDICTS",
    "METEOR_STATS",
    "POPE_COLUMNS",
    "REFUSAL",
    "SHAPE_SYNONYMS",
    "SHAPE_VOCABULARY",
    "VSR_WORDS",
    "CaptionMetricsError",
    "CaptionScores",
    "anls",
    "average_precision",
    "caption_corpus_aggregates",
    "caption_scores",
    "caption_scores_per_image",
    "chair",
    "chair_aggregates",
    "colour_shape_vocabulary",
    "corpus_bleu",
    "corpus_meteor",
    "count_exact",
    "docvqa_anls",
    "evalai_normalize",
    "hallusionbench_code",
    "hallusionbench_judge_prompt",
    "hallusionbench_verdict",
    "levenshtein",
    "lmms_eval_letter",
    "mathvista_normalise",
    "mathvista_rule",
    "mentioned_objects",
    "mmmu_choice",
    "mmmu_normalise",
    "mmmu_open",
    "mmmu_open_correct",
    "object_vocabulary",
    "pope",
    "pope_aggregates",
    "pope_official_aggregates",
    "pope_row",
    "pope_says_no",
    "roc_auc",
    "score_captions",
    "textvqa_accuracy",
    "true_false_pair",
    "vlmevalkit_letter",
    "vqa_accuracy",
    "vqa_eval_accuracy",
    "vqa_normalize",
    "vsr_official_aggregates",
    "vsr_says_true",
]
