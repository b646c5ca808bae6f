"""Caption scores as the COCO caption toolkit (pycocoevalcap) itself computes them."""

from __future__ import annotations


def official_corpus(captions: dict[str, str], refs: dict[str, list[str]]) -> dict[str, float]:
    """Corpus BLEU-4 and METEOR as pycocoevalcap's own tokeniser and scorers give them."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    res = tok.tokenize({k: [{"caption": v}] for k, v in captions.items()})
    gts = tok.tokenize({k: [{"caption": r} for r in v] for k, v in refs.items()})
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    meteor = Meteor()
    try:
        corpus_meteor, _ = meteor.compute_score(gts, res)
    finally:
        meteor.meteor_p.kill()
        meteor.meteor_p.wait()
    return {"BLEU-4": float(bleu[3]), "METEOR": float(corpus_meteor)}
