"""vsr and vsr_zeroshot: Visual Spatial Reasoning, "does this caption match the image?" (true or
false) for captions that state a spatial relation between two objects in a COCO image.

Reads the `cambridgeltl/vsr_random` / `vsr_zeroshot` schema: `caption`, `label` (1 true, 0
false), `relation` and `image`. The hub copies ship the image *file name* only (COCO 2017 train
and val images), so `image_root` must name the folder that holds them (train2017 and val2017
merged, or VSR's own image zip); a copy with embedded
images (an `image` column of images) needs no `image_root`. The random split shares images and
relations with its training split; the zero-shot split holds out relations.

Both readings share one prompt and one model pass: the robust one reads the reply; the official
one (TRI-ML/vlm-evaluation's, `evalharness.metrics._vsr`) reads the model's first-token
probabilities of "True" and "False", which every sample asks for beside the reply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import Row, YesNoBenchmark
from evalharness.benchmarks.protocols import PREFIX, Official
from evalharness.metrics import VSR_WORDS, true_false_pair, vsr_official_aggregates, vsr_says_true
from evalharness.stats import Aggregate
from evalharness.types import ImageSource, Sample, Scored


@dataclass(kw_only=True, eq=False)
class VSR(YesNoBenchmark):
    """VSR (random split, test): is the spatial caption true of the image? Accuracy by relation."""

    name = "vsr"
    capability = "spatial"
    description = "VSR random split: is a spatial caption true of the image? Accuracy by relation."
    schema = "cambridgeltl/vsr_random"
    columns = ("caption", "label", "relation", "image")
    labels = ("true", "false")
    # TRI-ML/vlm-evaluation's VSR prompt (its Prismatic and LLaVA wrappers' true/false prompt)
    template = (
        'Based on the image, is this statement "True" or "False"? {caption}\n'
        'Respond with "True" or "False" directly.'
    )
    scoring = "true-false"

    official = Official(
        "TRI-ML/vlm-evaluation: vlm_eval/tasks/harnesses/vsr.py (VSRScorer) and the model "
        "wrappers of vlm_eval/models/",
        (
            "reads no reply: the first generated step's probabilities of the first token of "
            "'True' and of 'False', normalised over the pair; the larger wins, 'True' on a tie",
            "ROC-AUC and PR-AUC of the 'True' probability over the run (scikit-learn's "
            "roc_auc_score and average_precision_score); NaN where the labels hold one class "
            "only, where the scorer raises",
            "a model that gives no such probabilities has no official reading: NaN",
        ),
    )

    path: str = "cambridgeltl/vsr_random"
    split: str = "test"

    def official_reply(self, a: Answered) -> Scored:
        is_true = float(a.sample.target == self.labels[0])
        first = a.prediction.first_tokens
        pair = true_false_pair(first.probs if first is not None else None)
        if pair is None:
            return Scored(None, math.nan, {"p_true": math.nan, "is_true": is_true})
        says_true = vsr_says_true(*pair)
        return Scored(
            extracted=self.labels[0 if says_true else 1],
            score=float(says_true == bool(is_true)),
            metrics={"p_true": pair[0], "is_true": is_true},
        )

    def official_aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return vsr_official_aggregates(PREFIX)

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        return Sample(
            id=f"{index:05d}",
            images=(image,),
            prompt=self.prompt(caption=row["caption"]),
            targets=(self.labels[0] if int(row["label"]) == 1 else self.labels[1],),
            answer_space=self.labels,
            category=str(row["relation"]),
            group=str(row.get("image") or index),
            metadata={"relation": row["relation"], "image_file": row.get("image")},
            first_token_words=VSR_WORDS,
        )


@dataclass(kw_only=True, eq=False)
class VSRZeroShot(VSR):
    """VSR (zero-shot split, test): relations unseen in training; accuracy by relation."""

    name = "vsr_zeroshot"
    description = "VSR zero-shot split: spatial captions with held-out relations; accuracy."
    schema = "cambridgeltl/vsr_zeroshot"

    path: str = "cambridgeltl/vsr_zeroshot"
