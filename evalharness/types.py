"""The core types every step speaks: images, samples, requests, predictions and scored rows.

Data flows one way: a benchmark yields `Sample`s, the runner turns them into `Request`s, a model
answers with `Prediction`s, and the benchmark turns those into `Scored` rows.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from PIL import Image as PILImage

_T = TypeVar("_T")
_R = TypeVar("_R")


def once(method: Callable[[_T], _R]) -> Callable[[_T], _R]:
    """A method without arguments whose result is kept on its object (frozen dataclasses too),
    as `functools.cached_property` keeps a property's: a run names each image and sample
    several times (resume keys, data hash, rows, thumbnails) and hashes it once."""
    slot = f"_once_{method.__name__}"

    @functools.wraps(method)
    def cached(self: _T) -> _R:
        memo = self.__dict__  # written directly, as cached_property does: frozen allows it
        if slot not in memo:
            memo[slot] = method(self)
        result: _R = memo[slot]
        return result

    return cached


Capability = Literal["generate", "choice"]
"""What a model can do: free-text generation, or scoring a fixed list of options."""

Mode = Literal["generate", "choice"]
"""How a model is asked: generate text, or score each option."""

Form = Literal["open", "choice"]
"""How an answer is read: as an open answer, or as one of the sample's options."""


class ImageError(ValueError):
    """An image could not be read or decoded."""


@runtime_checkable
class ImageSource(Protocol):
    """Something that yields a PIL image on demand and names its content without decoding it."""

    def load(self) -> PILImage.Image: ...

    def fingerprint(self) -> str: ...


def fingerprint_of(image: ImageSource) -> str:
    """`image.fingerprint()`; for an image that cannot even be read to be named, a name of why,
    so that its sample still has a resume key and loading it records the error in its row."""
    try:
        return image.fingerprint()
    except ImageError as exc:
        return "unreadable:" + hashlib.sha256(str(exc).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class EncodedImage:
    """An image held as encoded bytes (PNG, JPEG, …), as hub datasets store them."""

    data: bytes

    def load(self) -> PILImage.Image:
        from evalharness.images import decode  # the one place images are decoded

        return decode(self.data)

    @once
    def fingerprint(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


@dataclass(frozen=True)
class FileImage:
    """An image file on disk."""

    path: str

    def load(self) -> PILImage.Image:
        try:
            data = Path(self.path).read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read image file {self.path}: {exc.strerror}") from exc
        return EncodedImage(data).load()

    @once  # the file is read once per object
    def fingerprint(self) -> str:
        try:
            return hashlib.sha256(Path(self.path).read_bytes()).hexdigest()[:32]
        except OSError:
            return "missing:" + self.path


@dataclass(frozen=True)
class RenderedImage:
    """An image drawn on demand by a deterministic renderer; `key` names its exact content."""

    key: str
    render: Callable[[], PILImage.Image] = field(compare=False, repr=False)

    def load(self) -> PILImage.Image:
        return self.render()

    def fingerprint(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PILImageSource:
    """An already decoded image."""

    image: PILImage.Image = field(compare=False)

    def load(self) -> PILImage.Image:
        return self.image

    @once
    def fingerprint(self) -> str:
        h = hashlib.sha256(f"{self.image.mode}{self.image.size}".encode())
        h.update(self.image.tobytes())
        return h.hexdigest()[:32]


def _jsonable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


@dataclass(frozen=True)
class Sample:
    """One benchmark item.

    `prompt` is the question as asked for free-text generation. `targets` are the accepted answers
    (the first is canonical). For choice items, `choices` are the options shown to a generative model
    and `target_index` the correct one; `choice_texts` are full statements for image-text matching
    models (CLIP-style), defaulting to `choices`. `answer_space` lists valid open answers, if the set
    is small (the random baseline draws from it). `group` clusters items that share an image, for
    clustered bootstrap. `category` is the question type (per-type breakdowns, the prior baseline).
    """

    id: str
    images: tuple[ImageSource, ...]
    prompt: str
    targets: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    target_index: int | None = None
    choice_texts: tuple[str, ...] | None = None
    answer_space: tuple[str, ...] | None = None
    category: str = ""
    group: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    choice_prompt: str | None = None
    """The text shown when the item is asked in choice form, in the benchmark's own format
    (the question an option's log-likelihood is scored after, say); None: the prompt with
    lettered options (`format_choices`)."""
    modes: tuple[Mode, ...] = ("generate", "choice")
    """How the item may be asked. An item whose options are to be scored by likelihood only is
    `("choice",)`: a model that can only generate declines it (unsupported)."""
    error: str | None = None
    """Why the item cannot be asked (its row is broken: an answer that names no option, say).
    The runner records it as an error row without asking the model."""
    first_token_words: tuple[str, ...] = ()
    """Words whose first token's probability at the reply's first step the benchmark reads
    (VSR's official reading: "True" and "False"), asked of a generating model beside the reply."""

    @property
    def target(self) -> str:
        """The canonical answer: the first accepted open answer, else the correct option."""
        if self.targets:
            return self.targets[0]
        if self.choices is not None and self.target_index is not None:
            return self.choices[self.target_index]
        return ""

    @once
    def content_hash(self) -> str:
        """A hash of everything that defines the item: images, prompt, targets, options, metadata.
        Worked out once per object: the runner asks for it more than once."""
        h = hashlib.sha256()
        for img in self.images:
            h.update(fingerprint_of(img).encode())
        h.update(
            _jsonable(
                [
                    self.id,
                    self.prompt,
                    self.targets,
                    self.choices,
                    self.target_index,
                    self.choice_texts,
                    self.answer_space,
                    self.category,
                    self.group,
                    dict(self.metadata),
                ]
            ).encode()
        )
        # hashed only where set, so that the items of earlier benchmarks keep their hashes
        extra = {
            k: v
            for k, v in (
                ("choice_prompt", self.choice_prompt),
                ("modes", list(self.modes) if self.modes != ("generate", "choice") else None),
                ("error", self.error),
                ("first_token_words", list(self.first_token_words) or None),
            )
            if v is not None
        }
        if extra:
            h.update(_jsonable(extra).encode())
        return h.hexdigest()[:32]


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings; greedy by default."""

    max_new_tokens: int = 32
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    thinking_tokens: int | None = None
    """A separate budget for a reasoning trace: a model that supports it thinks for at most this
    many tokens and then answers in `max_new_tokens` more (None: one budget for both)."""
    reasoning_tags: tuple[tuple[str, str], ...] | None = None
    """The run's [open, close] tags of a reasoning trace (None: `extract.DEFAULT_REASONING_TAGS`),
    for a model that holds a trace to its budget. Not in `as_dict`: the run's key has them."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "stop": list(self.stop),
        }
        if self.thinking_tokens is not None:  # only when set: older runs keep their keys
            out["thinking_tokens"] = self.thinking_tokens
        return out


@dataclass(frozen=True)
class Request:
    """What a model is asked: the loaded images, the text and, for choice mode, the options."""

    sample: Sample
    images: tuple[PILImage.Image, ...]
    text: str
    mode: Mode
    generation: GenerationSettings
    form: Form = "open"
    """How the answer will be read; generative models see lettered options in `text` for "choice"."""
    choices: tuple[str, ...] = ()
    """Option texts for choice mode (the sample's `choice_texts` when it has them)."""
    first_token_words: tuple[str, ...] = ()
    """Words whose first-token probabilities at the reply's first step to return with the reply
    (`Prediction.first_tokens`); a model that cannot give them answers the text alone."""


@dataclass(frozen=True)
class FirstTokens:
    """The reply's first step as a model saw it: per asked word, the probability of the word's
    first token (as the model's tokenizer spells the word alone) over the whole vocabulary."""

    probs: Mapping[str, float | None]
    """Probability per word; None where the model could not give it (`note` says why)."""
    note: str = ""

    def to_json(self) -> str:
        out: dict[str, Any] = {"probs": dict(self.probs)}
        if self.note:
            out["note"] = self.note
        return json.dumps(out)

    @staticmethod
    def from_json(text: Any) -> FirstTokens | None:
        """The stored form back; None for a row without one (not a string)."""
        if not isinstance(text, str):
            return None
        data = json.loads(text)
        return FirstTokens(dict(data.get("probs") or {}), str(data.get("note") or ""))


@dataclass
class Prediction:
    """A model's raw answer to one request: text and/or one score per option."""

    text: str | None = None
    choice_scores: list[float] | None = None
    latency_s: float = 0.0
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    """Tokens of the reply's reasoning trace (`<think>…</think>`), where the model counts them."""
    error: str | None = None
    first_tokens: FirstTokens | None = None
    """The first-token probabilities of the request's `first_token_words`, where it asked."""
    unsupported: str | None = None
    """Why the model cannot answer this request at all (a captioner asked a question, say). The
    sample is then recorded as unsupported, not as an error, and left out of the scores."""

    @staticmethod
    def from_exception(exc: BaseException) -> Prediction:
        return Prediction(error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Scored:
    """One item after extraction and scoring: the extracted answer, the primary score, all metrics.

    `metrics` holds per-item numbers that the benchmark's aggregates sum over (for example
    `correct`, `abs_error`, `tp`); `score` is the primary per-item score in [0, 1].
    """

    extracted: str | None
    score: float
    metrics: Mapping[str, float] = field(default_factory=dict)


def plan(sample: Sample, capabilities: frozenset[Capability]) -> tuple[Mode, Form] | None:
    """How a model with these capabilities answers this sample, or None if it cannot.

    Open questions go to generation. Option items go to choice scoring where the model has it (for
    matching models), else to generation with lettered options in the text.
    """
    options = routes(sample, capabilities)
    return options[0] if options else None


def routes(sample: Sample, capabilities: frozenset[Capability]) -> list[tuple[Mode, Form]]:
    """Every way a model with these capabilities could answer this sample, best first (`plan`'s
    order). A model that declines a request (`Prediction.unsupported`) gets the next one."""
    out: list[tuple[Mode, Form]] = []
    if sample.prompt and sample.targets and "generate" in capabilities:
        out.append(("generate", "open"))
    if sample.choices is not None:
        if "choice" in capabilities:
            out.append(("choice", "choice"))
        if "generate" in capabilities:
            out.append(("generate", "choice"))
    return [(mode, form) for mode, form in out if mode in sample.modes]


def request_text(sample: Sample, form: Form) -> str:
    """The text shown to a generative model: the prompt, with lettered options for option items."""
    if form == "open" or sample.choices is None:
        return sample.prompt
    if sample.choice_prompt is not None:
        return sample.choice_prompt
    return format_choices(sample.prompt, sample.choices)


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def format_choices(question: str, choices: Sequence[str]) -> str:
    lines = [question.strip()] if question.strip() else ["Which option matches the image?"]
    lines += [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)]
    lines.append("Answer with the option's letter.")
    return "\n".join(lines)
