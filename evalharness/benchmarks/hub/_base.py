"""What the hub adapters share: knobs, version, loading into samples, and one base per answer kind.

An adapter is a keyword-only dataclass whose fields are its knobs (`path`, `split`, `subset`,
`data_files`, `revision`, `n`, `image_root`, …). Every knob but `image_root` (a local folder,
which names no content) goes into `version`, with the prompt template and the scoring id. Data loads on the
first `samples()` call, so constructing an adapter never touches the network.

Families: `VQABenchmark` (open answers, VQA accuracy), `YesNoBenchmark` (POPE-style yes/no
rows), `CaptionBenchmark` (COCO caption metrics over the whole run) and option items, which the
base class scores already.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from evalharness import extract
from evalharness.benchmarks.base import (
    Answered,
    BaseBenchmark,
    BenchmarkSettingError,
    version_string,
)
from evalharness.benchmarks.hub._load import (
    DataFiles,
    DatasetSchemaError,
    Source,
    embeds_images,
    image_present,
    image_reader,
    iter_rows,
    load_split,
    require_columns,
)
from evalharness.metrics import (
    CAPTION_METRICS,
    caption_corpus_aggregates,
    pope_row,
    score_captions,
    vqa_accuracy,
)
from evalharness.stats import Aggregate
from evalharness.types import GenerationSettings, ImageError, ImageSource, Sample, Scored

if TYPE_CHECKING:
    from PIL import Image as PILImage

Row = dict[str, Any]

SHORT_ANSWER = "{question}\nAnswer the question using a single word or phrase."
"""LLaVA-1.5's short-answer prompt, which lmms-eval uses for VQAv2, TextVQA and POPE."""


@dataclass(kw_only=True, eq=False)
class HubBenchmark(BaseBenchmark):
    """Base of the hub adapters: load a split, check its columns, turn rows into samples."""

    path: str = ""
    """Hub id, or a local folder / data file holding a copy in the same schema."""
    split: str = ""
    """The split to read: each benchmark's evaluation split by default."""
    subset: str | None = None
    """The dataset's configuration name (`load_dataset(path, name=...)`), if it has several."""
    data_files: DataFiles | None = None
    """Data files to read instead of the dataset's own layout: local files load offline."""
    revision: str | None = None
    """Hub branch, tag or commit of the dataset (the data hash records what was read)."""
    n: int | None = None
    """Use only the first `n` usable rows, in dataset order."""
    image_root: str | None = None
    """Folder of the image files the rows name, for copies whose image column holds file names
    (a jsonl or csv of your own, say) instead of images; not part of the version."""
    protocol: str = ""
    """The headline scoring: `official` (as the benchmark's official script scores, the default
    where the benchmark defines one) or `robust` (our reading). Both are always stored."""

    schema: ClassVar[str] = ""
    """The hub dataset whose columns the adapter reads (named in schema errors)."""
    columns: ClassVar[tuple[str, ...]] = ()
    image_column: ClassVar[str] = "image"
    skip_imageless: ClassVar[bool] = False
    """Drop rows whose image cell is empty (else such rows fail as image errors)."""
    template: ClassVar[str] = "{question}"
    scoring: ClassVar[str] = ""
    base_version: ClassVar[str] = "1"
    """Bump by hand when adapter or scoring code changes behaviour."""
    unversioned: ClassVar[frozenset[str]] = frozenset({"image_root"})

    def __post_init__(self) -> None:
        if self.n is not None and self.n < 1:
            raise BenchmarkSettingError(f"{self.name}: n must be at least 1, got {self.n}")
        self.headline  # noqa: B018 (refuses a protocol the benchmark does not define)
        scoring = self.scoring + (f";{self.official.key()}" if self.official else "")
        self.version = version_string(
            self.base_version, {"benchmark": self.name, **self.knobs()}, self.template, scoring
        )
        self._samples: list[Sample] | None = None

    def knobs(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in self.unversioned
        }

    def source(self) -> Source:
        return Source(self.name, self.path, self.split, self.subset, self.data_files, self.revision)

    def images_folder(self) -> str | None:
        """Folder for datasets that name image files instead of embedding images."""
        return self.image_root

    # --- rows to samples -------------------------------------------------------------------

    def keep(self, row: Row) -> bool:
        """Whether a row becomes a sample (subsets, items without answers, …)."""
        return True

    def make_sample(self, index: int, row: Row, image: ImageSource) -> Sample:
        raise NotImplementedError

    def prompt(self, **fields: Any) -> str:
        return self.template.format(**fields)

    def samples(self) -> list[Sample]:
        if self._samples is None:
            self._samples = self._load()
        return self._samples

    def _load(self) -> list[Sample]:
        source = self.source()
        ds = load_split(source)
        require_columns(ds, source, self.columns, self.schema)
        embedded = embeds_images(ds, self.image_column)
        present = image_present(ds, self.image_column) if embedded else None
        image = image_reader(ds, source, self.image_column, self.images_folder())
        out: list[Sample] = []
        for index, row in enumerate(iter_rows(ds, self.image_column)):
            missing = present is not None and not present[index]
            if (missing and self.skip_imageless) or not self.keep(row):
                continue
            picture = (
                Unanswerable(f"{self.name}: row {index} has no image in {self.image_column!r}")
                if missing
                else image(index, row.get(self.image_column))
            )
            out.append(self.make_sample(index, row, picture))
            if self.n is not None and len(out) >= self.n:
                break
        if not out:
            raise DatasetSchemaError(f"{self.name}: {source.describe()} has no usable rows")
        dupes = [i for i, k in Counter(s.id for s in out).items() if k > 1]
        if dupes:
            raise DatasetSchemaError(f"{self.name}: duplicate sample ids, e.g. {dupes[0]!r}")
        return out


@dataclass(frozen=True)
class Unanswerable:
    """Put first among an item's images when the dataset itself gets the item wrong (an image
    it references but lacks, an answer that names no option): loading the item's images fails
    with `reason`, so the run records the item as an error row and asks the model nothing,
    instead of failing the whole benchmark or scoring a broken item."""

    reason: str

    def load(self) -> PILImage.Image:
        raise ImageError(self.reason)

    def fingerprint(self) -> str:
        return hashlib.sha256(f"unanswerable:{self.reason}".encode()).hexdigest()[:32]


def by_frequency(answers: Sequence[str]) -> tuple[str, ...]:
    """All answers, duplicates kept (VQA accuracy counts them), the most frequent first."""
    counts = Counter(answers)
    first = {a: i for i, a in reversed(list(enumerate(answers)))}
    return tuple(sorted(answers, key=lambda a: (-counts[a], first[a])))


@dataclass(kw_only=True, eq=False)
class VQABenchmark(HubBenchmark):
    """Open questions with several annotators' answers, scored by VQA accuracy (EvalAI)."""

    capability = "vqa"
    generation = GenerationSettings(max_new_tokens=16)
    template = SHORT_ANSWER
    scoring = "vqa-accuracy"

    def vqa_sample(
        self,
        key: Any,
        image: ImageSource,
        question: str,
        answers: Sequence[Any],
        *,
        group: Any,
        category: str = "",
        **meta: Any,
    ) -> Sample:
        return Sample(
            id=str(key),
            images=(image,),
            prompt=self.prompt(question=question),
            targets=by_frequency([str(a) for a in answers]),
            category=category,
            group=str(group),
            metadata=meta,
        )

    def score_open(self, sample: Sample, text: str) -> Scored:
        answer = extract.open_answer(text)
        return Scored(extracted=answer, score=vqa_accuracy(answer, sample.targets))


@dataclass(kw_only=True, eq=False)
class YesNoBenchmark(HubBenchmark):
    """Yes/no (or true/false) items: accuracy plus the POPE columns (tp, fp, fn, tn, pred_yes)."""

    generation = GenerationSettings(max_new_tokens=32)
    labels: ClassVar[tuple[str, str]] = ("yes", "no")
    """How the positive and the negative answer are spelled in targets."""
    scoring = "yes-no"

    def score_open(self, sample: Sample, text: str) -> Scored:
        said = extract.yes_no(text)
        row = pope_row(said, sample.target == self.labels[0])
        extracted = None if said is None else self.labels[0 if said else 1]
        return Scored(extracted=extracted, score=row["correct"], metrics=row)

    def score_one(self, a: Answered) -> Scored:
        if a.prediction.error is not None:  # an error is an unreadable answer, in every column
            return Scored(None, 0.0, pope_row(None, a.sample.target == self.labels[0]))
        return super().score_one(a)


@dataclass(kw_only=True, eq=False)
class CaptionBenchmark(HubBenchmark):
    """Captions scored by pycocoevalcap in one pass over the run: CIDEr (primary), BLEU-4, ROUGE-L,
    METEOR per image, with the statistics behind the corpus BLEU-4 and METEOR.

    Every aggregate is the corpus value the COCO toolkit reports: CIDEr and ROUGE-L are means of
    the per-image values; BLEU-4 and METEOR pool each image's statistics over the run
    (`metrics.caption_corpus_aggregates`), so their intervals resample images and pool again.
    """

    capability = "captioning"
    generation = GenerationSettings(max_new_tokens=64)
    # lmms-eval's caption prompt for COCO, NoCaps and Flickr30k
    template = "Provide a one-sentence caption for the provided image."
    scoring = "coco-caption;corpus-bleu-meteor"

    meteor: bool = True
    """Score METEOR too. It runs in a Java process that loads paraphrase tables: seconds to start,
    once per process (later scorings reuse it)."""

    def metrics(self) -> list[str]:
        return [m for m in CAPTION_METRICS if self.meteor or m != "METEOR"]

    def caption_sample(
        self, key: str, refs: Sequence[Any], image: ImageSource, **meta: Any
    ) -> Sample:
        return Sample(
            id=key,
            images=(image,),
            prompt=self.prompt(),
            targets=tuple(str(r) for r in refs),
            group=key,
            metadata=meta,
        )

    def score(self, answered: Sequence[Answered]) -> list[Scored]:
        # CIDEr weights n-grams by their frequency over all references, so every caption of the
        # run is scored in one call; a failed prediction is an empty caption, which scores 0
        captions = {a.sample.id: a.prediction.text or "" for a in answered}
        refs = {a.sample.id: list(a.sample.targets) for a in answered}
        if not captions:
            return []
        scores = score_captions(captions, refs, metrics=self.metrics())
        out = []
        for a in answered:
            values = {**scores.per_image[a.sample.id], **scores.stats[a.sample.id]}
            out.append(Scored(captions[a.sample.id], values["CIDEr"], values))
        return out

    def aggregates(self, samples: Sequence[Sample]) -> list[Aggregate]:
        return [
            Aggregate.mean("score"),
            Aggregate.mean("CIDEr"),
            Aggregate.mean("ROUGE-L", bounded=True),
            *caption_corpus_aggregates(self.meteor),
        ]
