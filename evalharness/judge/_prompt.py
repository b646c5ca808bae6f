"""What the judge is asked, and how its reply is read.

As a fallback reader the judge sees the question, what counts as an answer (the options, or the
benchmark's answer space) and the model's reply, and names the one answer the reply gives, or
"none". As a scorer it sees the question, the reference answer, the benchmark's rubric and the
reply, and gives a grade. Its reply is read strictly: a label outside the allowed ones is no
verdict, and nothing is ever guessed in its place. A benchmark whose official script asks a
judge (HallusionBench) asks in the script's words instead, and reads every reply as the script
does (its `reader`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evalharness.types import LETTERS, Form, Sample

PROMPT_VERSION = "1"
"""Bumped whenever a template below changes how the judge is asked or read."""

NONE = "none"

READ_TEMPLATE = """You read another model's reply to a question and say which answer it gives.
Question:
{question}
{allowed}
Reply:
<<<
{reply}
>>>
If the reply commits to exactly one of the allowed answers, answer with that answer only.
If it gives no answer, or gives several different answers without settling on one, answer: none
Your answer:"""

GRADE_TEMPLATE = """You grade another model's reply to a question about an image.
{context}Question:
{question}
Reference answer:
{reference}
Rubric:
{rubric}
Reply:
<<<
{reply}
>>>
Grade the reply by the rubric. Answer with one grade only, one of: {grades}.
Your grade:"""

GRADES = ("0", "0.5", "1")
"""The grades a rubric scorer may give: wrong, partly right, right."""


def template_hash() -> str:
    """A hash of the templates and their version: part of the run's key."""
    blob = "\x00".join((PROMPT_VERSION, READ_TEMPLATE, GRADE_TEMPLATE, *GRADES))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prompt_hash(prompt: str) -> str:
    """The hash of one judge prompt (the `judge_prompt_hash` column)."""
    return hashlib.sha256(prompt.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Ask:
    """One question for the judge: its prompt, the labels it may answer with (None: any short
    answer) and how a label becomes an answer the benchmark reads."""

    prompt: str
    labels: tuple[str, ...] | None
    kind: str
    """"read" (fallback reader), "grade" (rubric scorer) or "official" (a benchmark's official
    script's question, read by `reader`)."""
    reader: Callable[[str], str] | None = None
    """How the official script reads the judge's reply: a label for every reply, as the script
    has one (None: read strictly against `labels`)."""


def read_ask(sample: Sample, form: Form, reply: str) -> Ask:
    """The fallback reader's question for a reply the rules could not read."""
    if form == "choice" and sample.choices is not None:
        letters = tuple(LETTERS[i] for i in range(len(sample.choices)))
        options = "\n".join(f"{x}. {c}" for x, c in zip(letters, sample.choices, strict=True))
        allowed = f"Options:\n{options}\nAllowed answers: {', '.join(letters)}"
        labels: tuple[str, ...] | None = letters
    elif sample.answer_space:
        labels = tuple(sample.answer_space)
        allowed = f"Allowed answers: {', '.join(labels)}"
    else:
        labels = None
        allowed = "Allowed answers: the reply's final answer, in as few words as it gives it"
    text = READ_TEMPLATE.format(question=sample.prompt.strip(), allowed=allowed, reply=reply)
    return Ask(text, labels, "read")


def grade_ask(sample: Sample, rubric: str, reply: str) -> Ask:
    """The rubric scorer's question for an open-ended reply; a text-only judge is told what the
    image shows where the sample's metadata says it (`judge_context`)."""
    context = str(sample.metadata.get("judge_context") or "").strip()
    text = GRADE_TEMPLATE.format(
        context=f"What the image shows:\n{context}\n" if context else "",
        question=sample.prompt.strip(),
        reference=" | ".join(sample.targets) or "(none given)",
        rubric=rubric.strip(),
        reply=reply,
        grades=", ".join(GRADES),
    )
    return Ask(text, GRADES, "grade")


_EDGES = re.compile(r"^[\s\"'`*(\[]+|[\s\"'`*.)\]:;!]+$")


def parse(ask: Ask, reply: str) -> tuple[str | None, str]:
    """The judge's verdict, and why there is none: (label, "") for an allowed label,
    (None, reason) for "none", an empty reply or a label outside the allowed ones. An ask with
    a `reader` reads every reply as its official script does."""
    if ask.reader is not None:
        return ask.reader(reply), ""
    said = _EDGES.sub("", reply.strip().splitlines()[0] if reply.strip() else "")
    said = re.sub(r"^(?:answer|grade|option)\s*[:=]?\s*", "", said, flags=re.I)
    said = _EDGES.sub("", said)
    if not said:
        return None, "the judge's reply is empty"
    if said.lower() == NONE:
        return None, "the judge found no single answer (none)"
    if ask.labels is None:
        return said, ""
    for label in ask.labels:
        if said.lower() == label.lower() or (ask.kind == "grade" and _same_number(said, label)):
            return label, ""
    return None, f"the judge answered outside the allowed labels: {shorten(said)!r}"


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def estimate_tokens(prompts: Sequence[str], max_new_tokens: int) -> int:
    """A rough count of the tokens a judge call costs: about 4 characters a token in, and the
    answer's budget out."""
    return sum(len(p) // 4 + 1 for p in prompts) + max_new_tokens * len(prompts)
