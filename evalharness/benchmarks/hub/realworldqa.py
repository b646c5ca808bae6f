"""realworldqa: RealWorldQA (xAI), 765 questions on real-world photos, mostly taken from cars.

Reads the `lmms-lab/RealWorldQA` schema (split "test"): `question` (with its options, "A. …",
one a line, and the answer instruction already written in), `answer` and an embedded `image`.
Most answers are an option's letter; the rest are a word or number. The model sees the question
as written, as lmms-eval asks it. The reference reading is lmms-eval's
(`realworldqa_process_results`): a letter answer is read by its shared letter extractor
(`extract_mcq_answer`, letters A to D); any other answer must equal the reply, lower-cased,
stripped, without a final ".".

Under `mc_scoring=loglik` the open questions cannot be scored and are recorded unsupported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalharness import extract
from evalharness.benchmarks.base import Answered
from evalharness.benchmarks.hub._base import Row
from evalharness.benchmarks.hub._choice import ChoiceBenchmark
from evalharness.benchmarks.protocols import Official
from evalharness.metrics import lmms_eval_letter
from evalharness.types import LETTERS, ImageSource, Sample, Scored

_OPTION_LINE = re.compile(r"^([A-Z])\.\s+(.*\S)\s*$", re.MULTILINE)


def listed_options(question: str) -> list[str]:
    """The options written in the question as "A. …" lines, in order (A, B, … without gaps)."""
    found = _OPTION_LINE.findall(question)
    letters = [letter for letter, _ in found]
    return [text for _, text in found] if letters == list(LETTERS[: len(found)]) else []


def exact(reply: str, answer: str) -> bool:
    """lmms-eval's reading of a word or number answer."""
    return reply.lower().strip().rstrip(".") == answer.lower()


@dataclass(kw_only=True, eq=False)
class RealWorldQA(ChoiceBenchmark):
    """RealWorldQA: real-world spatial questions, mostly multiple choice; accuracy."""

    name = "realworldqa"
    description = "RealWorldQA: questions on real-world (driving) photos; accuracy."
    schema = "lmms-lab/RealWorldQA"
    columns = ("question", "answer", "image")
    scoring = "lmms-eval-realworldqa"
    official = Official(
        "EvolvingLMMs-Lab/lmms-eval: lmms_eval/tasks/realworldqa/utils.py "
        "(realworldqa_process_results) and lmms_eval/tasks/_task_utils/mcq_extract.py",
        (
            "a letter answer is read as letters A to D whatever the options: of every letter "
            "found, the most telling form wins (a letter starting or ending the reply, then "
            "after 'the answer is', '(X)', 'X.', 'X:', 'X)', 'X '), the latest of equals; with "
            "none, the last capital A to D anywhere",
            "after 'the answer is' (and other phrases) every capital A to D later in the reply "
            "counts, even inside a word: 'The answer is Blue' reads B",
            "an open answer must equal the whole reply, lower-cased, stripped and without final "
            "periods: 'It is 3' scores 0 against '3'",
        ),
    )

    path: str = "lmms-lab/RealWorldQA"
    split: str = "test"

    def prompt_text(self, question: str, options: object, hint: object) -> str:
        return question.strip()

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        question, answer = str(row["question"]), str(row["answer"]).strip()
        options = listed_options(question)
        key = f"{index:04d}"
        if answer.upper() in ("A", "B", "C", "D"):  # a letter: an option item
            return self.choice_sample(key, image, question, options, answer, row=index)
        return Sample(
            id=key,
            images=(image,),
            prompt=question.strip(),
            targets=(answer,),
            group=key,
            metadata={"row": index, "answer": answer},
            # no options to score by likelihood: such a run declines it
            modes=("choice",) if self.mc_scoring == "loglik" else ("generate", "choice"),
        )

    def read(self, sample: Sample, text: str) -> str | None:
        return lmms_eval_letter(text, ("A", "B", "C", "D")) or None

    def official_open(self, sample: Sample, text: str) -> Scored:
        if sample.choices is not None:
            return super().official_open(sample, text)
        right = float(exact(text, sample.target))
        return Scored(text.strip(), right, {"correct": right})

    def score_open(self, sample: Sample, text: str) -> Scored:
        if sample.choices is not None:
            return super().score_open(sample, text)
        answer = extract.normalize(text)
        right = float(answer == extract.normalize(sample.target))
        return Scored(answer, right, {"correct": right})

    def score_one(self, a: Answered) -> Scored:
        if a.prediction.error is None and a.sample.choices is None:
            return self.score_open(a.sample, a.prediction.text or "")
        return super().score_one(a)
