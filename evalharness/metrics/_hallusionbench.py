"""HallusionBench's official judge: the question tianyi-lab/HallusionBench's `utils.py`
(`evaluate_by_chatgpt`) puts to GPT-4 about each reply, and how it reads the answer.

The prompt is the script's own wording, character for character (its curly and straight quotes,
the missing spaces after "Question:" and "Prediction answer:"): it is the benchmark's protocol,
quoted as data. The reply is read as the script reads it: "incorrect" anywhere in it, in any
case, is wrong; else "correct" anywhere is right; anything else, an empty reply included, is
uncertain. Tests compare both with the script's outputs (tests/golden/hallusionbench_judge.json).
"""

from __future__ import annotations

CORRECT, INCORRECT, UNCERTAIN = "correct", "incorrect", "uncertain"
HALLUSIONBENCH_VERDICTS = (INCORRECT, CORRECT, UNCERTAIN)
"""The verdicts, in the order of the script's codes: 0 wrong, 1 right, 2 uncertain."""

_ASK = (
    "Imagine you are an intelligent teacher. Thoroughly read the question, reference answer and "
    "the prediction answer to ensure a clear understanding of the information provided. Assess "
    "the correctness of the predictions. If the prediction answer does not conflict with the "
    "reference answer, please generate \u201ccorrect\u201d. If the prediction answer conflict "
    "with the reference answer, please generate \u201cincorrect\u201d. If the prediction answer "
    'is unclear about the answer, please generate "unclear". \n\n Question:'
)


def hallusionbench_judge_prompt(question: str, reference: str, reply: str) -> str:
    """The script's question to its judge about `reply`, with the item's detailed reference
    answer (`gt_answer_details`)."""
    # joined, not formatted: a brace in a question or reply is text
    return (
        _ASK
        + question
        + "\nReference answer: "
        + reference
        + "\nPrediction answer:"
        + reply
        + "\nOutput:"
    )


def hallusionbench_verdict(judge_reply: str) -> str:
    """The script's reading of its judge's reply: "incorrect", "correct" or "uncertain"."""
    said = judge_reply.lower()
    if INCORRECT in said:
        return INCORRECT
    if CORRECT in said:
        return CORRECT
    return UNCERTAIN


def hallusionbench_code(verdict: str) -> int:
    """The script's code of a verdict (its `correctness_entry`): 0 wrong, 1 right, 2 uncertain."""
    return HALLUSIONBENCH_VERDICTS.index(verdict)
