"""What the multiple-choice hub adapters share: the official prompt, the two ways of scoring
options, the official reading of a reply, and a broken row kept as a recorded error.

`mc_scoring` picks how an item is asked:

- `generate` (default): the model answers the official prompt (question, lettered options,
  instruction) in text; the reply is read by the official code's rules (`read`), and beside it
  by the harness's own reading (`robust`). Image-text matching models score the options.
- `loglik`: the model scores each option's text after the question (`Sample.choice_prompt`,
  options not listed), the highest wins. A generative model answers with the summed (or, by its
  `choice_score`, mean) log-probability of the option's tokens; a model that can only generate
  declines (unsupported).

A row whose answer names none of its options becomes a sample that the runner records as an
error, never asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evalharness import extract
from evalharness.benchmarks.base import Answered, BenchmarkSettingError
from evalharness.benchmarks.hub._base import HubBenchmark
from evalharness.benchmarks.protocols import Official
from evalharness.metrics import vlmevalkit_letter
from evalharness.types import LETTERS, GenerationSettings, ImageSource, Sample, Scored

MC_SCORING = ("generate", "loglik")

VLMEVALKIT_INSTRUCTION = "Please select the correct answer from the options above. \n"
"""The line VLMEvalKit's `ImageMCQDataset.build_prompt` ends every multiple-choice prompt with."""


def absent(value: Any) -> bool:
    """An empty cell as the datasets write it: None, NaN, "" or the string "nan"."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return str(value).strip() in ("", "nan")


def vlmevalkit_prompt(question: str, options: Sequence[str], hint: str | None = None) -> str:
    """VLMEvalKit's multiple-choice prompt (`ImageMCQDataset.build_prompt`): an optional hint,
    the question, the lettered options and its instruction, line by line."""
    lines = [f"Hint: {hint}\n" if hint is not None else "", f"Question: {question}\n"]
    if options:
        lines.append("Options:\n")
        lines += [f"{LETTERS[i]}. {text}\n" for i, text in enumerate(options)]
        lines.append(VLMEVALKIT_INSTRUCTION)
    return "".join(lines)


def loglik_prompt(question: str, hint: str | None = None) -> str:
    """The text an option's likelihood is scored after: the hint and question, no options."""
    head = f"Hint: {hint}\n" if hint is not None else ""
    return f"{head}Question: {question}\nAnswer:"


@dataclass(kw_only=True, eq=False)
class ChoiceBenchmark(HubBenchmark):
    """Base of the multiple-choice adapters: official prompt and reading, accuracy by category."""

    capability = "general"
    generation = GenerationSettings(max_new_tokens=32)
    scoring = "vlmevalkit-exact-matching"

    mc_scoring: str = "generate"
    """How options are scored: generate (the model replies in text, read by the official rules)
    or loglik (each option's log-likelihood after the question; the highest wins; models that
    cannot score options decline)."""

    official = Official(
        "open-compass/VLMEvalKit: vlmeval/utils/matching_util.py (can_infer) and "
        "vlmeval/dataset/utils/multiple_choice.py (exact matching, no judge model)",
        (
            "a capital letter standing alone among the reply's last five words is the answer, "
            "the article too: 'It is A dog' reads A",
            "a letter earlier in a longer reply is not read: 'B, because the dog is on the left "
            "of the picture' reads nothing",
            "a reply containing one option's text (case-insensitively, anywhere) picks it, unless "
            "the reply is over twice as long as all options together",
            "'answer is X' is read only for A to D",
            "a reply that refuses ('Cannot determine the answer', a lone 'Z') or cannot be read "
            "counts wrong",
        ),
    )

    def __post_init__(self) -> None:
        if self.mc_scoring not in MC_SCORING:
            raise BenchmarkSettingError(
                f"{self.name}: mc_scoring must be one of {', '.join(MC_SCORING)}, "
                f"got {self.mc_scoring!r}"
            )
        super().__post_init__()

    # --- rows to samples -------------------------------------------------------------------

    def prompt_text(self, question: str, options: Sequence[str], hint: str | None) -> str:
        """The text a generative model is asked (the official prompt)."""
        return vlmevalkit_prompt(question, options, hint)

    def choice_sample(
        self,
        key: Any,
        image: ImageSource,
        question: str,
        options: Sequence[Any],
        answer: Any,
        *,
        hint: Any = None,
        category: str = "",
        group: Any = None,
        **meta: Any,
    ) -> Sample:
        """A sample for one row; `answer` is the correct option's letter. An answer that names
        none of the options makes the sample a recorded error."""
        texts = tuple(str(o) for o in options)
        hint_text = None if absent(hint) else str(hint)
        letter = str(answer).strip().upper()
        index = LETTERS.find(letter) if len(letter) == 1 else -1
        error = None
        if not 0 <= index < len(texts):
            named = ", ".join(LETTERS[: len(texts)]) or "none"
            error = f"answer {answer!r} names none of the options ({named})"
            index = -1
        common: dict[str, Any] = dict(
            id=str(key),
            images=(image,),
            prompt=self.prompt_text(question, texts, hint_text),
            choices=texts,
            target_index=index if index >= 0 else None,
            category=category,
            group=str(key if group is None else group),
            metadata={**meta, "answer": str(answer)},
            error=error,
        )
        if self.mc_scoring == "loglik":
            return Sample(
                **common,
                choice_prompt=loglik_prompt(question, hint_text),
                modes=("choice",),
            )
        # a broken row has no target (a baseline fitted on the targets must not learn it)
        return Sample(
            **common,
            targets=(letter,) if error is None else (),
            answer_space=tuple(LETTERS[: len(texts)]),  # what a random guess draws from
        )

    # --- scoring ---------------------------------------------------------------------------

    def read(self, sample: Sample, text: str) -> str | None:
        """The option letter the official evaluation reads from a reply (None: nothing)."""
        return vlmevalkit_letter(text, options_by_letter(sample))

    def official_open(self, sample: Sample, text: str) -> Scored:
        return _letter_scored(sample, self.read(sample, text))

    def score_open(self, sample: Sample, text: str) -> Scored:
        """Our reading of a reply: the harness's option reader (`extract.choice`)."""
        index = extract.choice(text, list(sample.choices or ()))
        return _letter_scored(sample, None if index is None else LETTERS[index])

    def score_one(self, a: Answered) -> Scored:
        p = a.prediction
        if p.error is not None:
            return Scored(None, 0.0, {"correct": 0.0})
        if a.form == "choice" and p.choice_scores is not None:
            scores = p.choice_scores
            best = max(range(len(scores)), key=lambda i: scores[i]) if scores else None
            return _letter_scored(a.sample, None if best is None else LETTERS[best])
        return self.score_open(a.sample, p.text or "")


def _letter_scored(sample: Sample, letter: str | None) -> Scored:
    truth = sample.target_index
    right = float(letter is not None and truth is not None and letter == LETTERS[truth])
    return Scored(letter, right, {"correct": right})


def options_by_letter(sample: Sample) -> Mapping[str, str]:
    """The sample's options keyed by their letters, in order."""
    return {LETTERS[i]: text for i, text in enumerate(sample.choices or ())}
