"""mmmu: MMMU validation, college-level questions over 30 subjects, often with several images.

Reads the `lmms-lab/MMMU` schema: `id` ("validation_Art_Theory_12"), `question`, `options` (a
Python list written as a string; "[]" for open questions), `answer` (a letter, or the open
answer; a list of accepted answers written as a string), `question_type` ("multiple-choice" or
"open"), `subfield`, `topic_difficulty`, `img_type`, `explanation` and the images `image_1` …
`image_7`.

The prompt is the official one (MMMU's llava1.5 configuration): the question, the options as
"(A) text" lines, and "Answer with the option's letter from the given choices directly." (or
"Answer the question using a single word or phrase." for open questions). The question keeps
its "<image 1>" references; the images it references go with it, in the order of their numbers
(as lmms-eval sends them). Replies are read by the official parser (`metrics.mmmu_choice`,
`metrics.mmmu_open`). Where the official code guesses a random letter, the item scores the
guess's expected value, 1 / number of options (`guessed` counts those items). That reading is
the `official` protocol (the default); `robust` reads letters with the harness's extraction
(conclusions, reasoning traces, "B)", "**B**") and scores a reply without one as wrong
(`unreadable` counts those).

An item that references an image its row lacks, or whose answer letter names no option, is
recorded as an error row (the model is not asked).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalharness import extract
from evalharness.benchmarks.base import Answered, BenchmarkSettingError
from evalharness.benchmarks.hub._base import HubBenchmark, Row, Unanswerable
from evalharness.benchmarks.hub._load import (
    DatasetSchemaError,
    embeds_images,
    image_present,
    image_reader,
    iter_rows,
    load_split,
    require_columns,
)
from evalharness.benchmarks.protocols import Official
from evalharness.errors import did_you_mean
from evalharness.metrics import mmmu_choice, mmmu_open, mmmu_open_correct
from evalharness.stats import Aggregate, by_category
from evalharness.store import META_PREFIX
from evalharness.types import LETTERS, GenerationSettings, ImageSource, Sample, Scored

IMAGE_COLUMNS = tuple(f"image_{i}" for i in range(1, 8))

DOMAINS = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": (
        "Basic_Medical_Science",
        "Clinical_Medicine",
        "Diagnostics_and_Laboratory_Medicine",
        "Pharmacy",
        "Public_Health",
    ),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": (
        "Agriculture",
        "Architecture_and_Engineering",
        "Computer_Science",
        "Electronics",
        "Energy_and_Power",
        "Materials",
        "Mechanical_Engineering",
    ),
}
"""MMMU's six disciplines and their 30 subjects, as its evaluation groups them."""

SUBJECTS = tuple(s for subjects in DOMAINS.values() for s in subjects)
_DOMAIN_OF = {s: d for d, subjects in DOMAINS.items() for s in subjects}

MULTIPLE_CHOICE = (
    "{question}\n\n{options}\n\nAnswer with the option's letter from the given choices directly."
)
OPEN = "{question}\n\nAnswer the question using a single word or phrase."


def _literal_list(text: Any) -> list[str] | None:
    """A list written as a Python literal ("['a', 'b']"), or None if `text` is not one."""
    if isinstance(text, list):
        return [str(x) for x in text]
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError):
        return None
    return [str(x) for x in value] if isinstance(value, list) else None


@dataclass(kw_only=True, eq=False)
class MMMU(HubBenchmark):
    """MMMU (validation): multi-discipline questions with interleaved images; official parse."""

    name = "mmmu"
    capability = "knowledge"
    description = "MMMU val: college-level questions in 30 subjects, several images; accuracy."
    generation = GenerationSettings(max_new_tokens=128)
    schema = "lmms-lab/MMMU"
    columns = ("id", "question", "options", "answer", "question_type", *IMAGE_COLUMNS)
    template = MULTIPLE_CHOICE + "|" + OPEN
    scoring = "mmmu"
    official = Official(
        "MMMU-Benchmark/MMMU: mmmu/utils/eval_utils.py",
        (
            "a reply in which it finds no letter gets a random one: scored here as that guess's "
            "expected value, 1 / number of options",
            "a letter counts only in brackets or between spaces: 'B.' only at the reply's end, "
            "'B)' or '**B**' not at all, and a reasoning trace is read like the answer",
        ),
    )

    path: str = "lmms-lab/MMMU"
    split: str = "validation"
    subjects: tuple[str, ...] | None = None
    """Only the items of these subjects, such as [Math, Physics]; null: all 30 subjects."""

    def __post_init__(self) -> None:
        if self.subjects is not None:
            self.subjects = tuple(str(s) for s in self.subjects)
            for s in self.subjects:
                if s not in SUBJECTS:
                    raise BenchmarkSettingError(
                        f"mmmu: unknown subject {s!r}.{did_you_mean(s, list(SUBJECTS))} "
                        f"Known: {', '.join(SUBJECTS)}"
                    )
        super().__post_init__()

    def _load(self) -> list[Sample]:
        source = self.source()
        ds = load_split(source)
        require_columns(ds, source, self.columns, self.schema)
        present = {c: image_present(ds, c) for c in IMAGE_COLUMNS}
        readers = {c: image_reader(ds, source, c, self.images_folder()) for c in IMAGE_COLUMNS}
        # embedded images stay in the dataset; file names (a copy read with image_root) are text
        embedded = [c for c in IMAGE_COLUMNS if embeds_images(ds, c)]
        out: list[Sample] = []
        for index, row in enumerate(iter_rows(ds.remove_columns(embedded), "")):
            if self.subjects is not None and _subject(str(row["id"])) not in self.subjects:
                continue
            images = {c: readers[c](index, row.get(c)) for c in IMAGE_COLUMNS if present[c][index]}
            out.append(self.item(row, images))
            if self.n is not None and len(out) >= self.n:
                break
        if not out:
            raise DatasetSchemaError(f"mmmu: {source.describe()} has no usable rows")
        return out

    def item(self, row: Row, images: dict[str, ImageSource]) -> Sample:
        key = str(row["id"])
        kind = str(row["question_type"])
        options = _literal_list(row["options"]) or []
        answer = str(row["answer"]).strip()
        if kind == "multiple-choice":
            listed = "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))
            # the official prompt lists each option on a line ending "\n", then a blank line
            prompt = MULTIPLE_CHOICE.format(question=row["question"], options=listed + "\n")
            targets: tuple[str, ...] = (answer,)
        else:
            prompt = OPEN.format(question=row["question"])
            targets = (
                tuple(_literal_list(answer) or [answer]) if answer.startswith("[") else (answer,)
            )
        # the images the question and options reference, in the order of their numbers
        text = str(row["question"]) + " " + " ".join(options)
        wanted = sorted({int(n) for n in re.findall(r"<image (\d+)>", text)})
        problems = [
            f"references <image {n}> but image_{n} is empty"
            for n in wanted
            if f"image_{n}" not in images
        ]
        if kind == "multiple-choice" and (
            len(answer) != 1 or LETTERS.find(answer) not in range(len(options))
        ):
            problems.append(f"answer {answer!r} names none of its {len(options)} options")
        sources = [images[f"image_{n}"] for n in wanted if f"image_{n}" in images]
        if not wanted:  # an item without references still shows its first image
            sources = [images[c] for c in IMAGE_COLUMNS[:1] if c in images]
        if problems:
            sources = [Unanswerable(f"mmmu item {key}: {'; '.join(problems)}"), *sources]
        subject = _subject(key)
        return Sample(
            id=key,
            images=tuple(sources),
            prompt=prompt,
            targets=targets,
            category=subject,
            group=key,
            metadata={
                "question_type": kind,
                "options": options,
                "subject": subject,
                "domain": _DOMAIN_OF.get(subject, ""),
                "subfield": str(row.get("subfield") or ""),
                "n_images": len(wanted) or len(sources),
            },
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        """Our reading: the harness's option extraction (conclusions, reasoning traces, every
        usual letter form); no letter is no answer, not a guess. Open answers as the official."""
        options: list[str] = list(sample.metadata["options"])
        if sample.metadata["question_type"] != "multiple-choice":
            return self._open(sample, text, unreadable=0.0)
        index = extract.choice(text, options)
        if index is None:
            return Scored(None, 0.0, {"correct": 0.0, "unreadable": 1.0})
        right = float(LETTERS[index] == sample.target)
        return Scored(LETTERS[index], right, {"correct": right, "unreadable": 0.0})

    def official_open(self, sample: Sample, text: str) -> Scored:
        """The official parser; where it would guess a random letter, the guess's expected
        value, 1 / number of options."""
        options: list[str] = list(sample.metadata["options"])
        if sample.metadata["question_type"] != "multiple-choice":
            return self._open(sample, text, guessed=0.0)
        letter = mmmu_choice(text, options)
        if letter is None:
            guess = 1.0 / len(options) if options else 0.0
            return Scored(None, guess, {"correct": guess, "guessed": 1.0})
        right = float(letter == sample.target)
        return Scored(letter, right, {"correct": right, "guessed": 0.0})

    def _open(self, sample: Sample, text: str, **flags: float) -> Scored:
        read = mmmu_open(text)
        right = float(mmmu_open_correct(read, sample.targets))
        return Scored("; ".join(str(v).strip() for v in read), right, {"correct": right, **flags})

    def score_one(self, a: Answered) -> Scored:
        if a.prediction.error is not None:
            return Scored(None, 0.0, {"correct": 0.0, "unreadable": 0.0})
        return self.score_open(a.sample, a.prediction.text or "")

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        subjects = sorted({s.category for s in samples})
        domains = [d for d in DOMAINS if any(s.metadata["domain"] == d for s in samples)]
        return [
            Aggregate.mean("score", bounded=True),
            Aggregate.mean("official_guessed", "guessed", bounded=True),
            Aggregate.mean("unreadable", "unreadable", bounded=True),
            *[
                Aggregate.mean("score", f"domain[{d}]", (META_PREFIX + "domain", d), bounded=True)
                for d in domains
            ],
            *by_category("score", "category", subjects, "score", bounded=True),
        ]


def _subject(key: str) -> str:
    """The subject of an item id: "validation_Art_Theory_12" → "Art_Theory"."""
    _split, _, rest = key.partition("_")
    return rest.rsplit("_", 1)[0] if rest else key
