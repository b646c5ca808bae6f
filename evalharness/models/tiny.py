"""Tiny random-weight checkpoints, built offline, for tests and smoke runs.

Each family gets a complete checkpoint folder (config, safetensors weights, processor, tokenizer and
chat template) that is loaded by exactly the same `from_pretrained` code as a real checkpoint. The
weights are random (fixed seed, so a build is reproducible); the answers are nonsense, but every
code path that a real model takes is exercised.

    from evalharness.models import tiny
    folder = tiny.build("llava")  # cached in $EVALHARNESS_CACHE or ~/.cache/evalharness/tiny
    tiny.FAMILIES                 # every family that can be built, in registration order

Adding a family: write a function that saves a checkpoint into the folder it is given and register
it with `@builder("name")` in a module listed in `_FAMILY_MODULES`. Generative families live in
`_tiny_vlm`; matching models and captioners in `_tiny_contrastive`; open_clip's in
`_tiny_open_clip`. The helpers below (tokenizer
training, seeding) are shared by all builders.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

Builder = Callable[[Path], None]
"""Writes a complete checkpoint into an empty folder."""

BUILDERS: dict[str, Builder] = {}
"""Family name → builder. Filled by `@builder` when the family modules are imported."""

SEED = 0
MARKER = ".evalharness-tiny-complete"
"""Written last: a folder without it is an interrupted build and is never used."""

# Bumped whenever a builder changes what it writes, so stale caches are rebuilt, not reused.
FORMAT = "1"

# Modules that register families. A missing module is fine (it may not be written yet); any other
# import error is a bug and is raised.
_FAMILY_MODULES = (
    "evalharness.models._tiny_vlm",
    "evalharness.models._tiny_contrastive",
    "evalharness.models._tiny_open_clip",  # CoCa; building it needs open_clip, listing it not
)


def builder(name: str) -> Callable[[Builder], Builder]:
    """Register a checkpoint builder under a family name."""

    def register(fn: Builder) -> Builder:
        old = BUILDERS.get(name)
        if old is not None and old.__qualname__ != fn.__qualname__:
            raise ValueError(f"tiny family {name!r} is registered twice")
        BUILDERS[name] = fn
        return fn

    return register


def default_root() -> Path:
    env = os.environ.get("EVALHARNESS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "evalharness" / "tiny"


def folder(family: str, root: Path | None = None) -> Path:
    """Where a family's checkpoint lives (built or not)."""
    return (root or default_root()) / f"{family}-v{FORMAT}"


def is_built(family: str, root: Path | None = None) -> bool:
    return (folder(family, root) / MARKER).is_file()


def build(family: str, root: Path | None = None) -> Path:
    """Build a family's checkpoint if it is not already there, and return its folder.

    The checkpoint is written into a temporary folder next to the target and renamed into place
    once complete, so a crash never leaves a half-written checkpoint and two processes building
    the same family at once both end up with one complete folder.
    """
    if family not in BUILDERS:
        known = ", ".join(sorted(BUILDERS))
        raise KeyError(f"unknown tiny model family {family!r}; known: {known}")
    target = folder(family, root)
    if (target / MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with _seeded():
            BUILDERS[family](tmp)
        (tmp / MARKER).write_text(f"{family} v{FORMAT}\n")
        if target.exists() and not (target / MARKER).is_file():
            shutil.rmtree(target, ignore_errors=True)  # leftover of an interrupted build
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished first: its folder is as good as ours.
            if not (target / MARKER).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextlib.contextmanager
def _seeded() -> Iterator[None]:
    """Fixed torch seed for the build, without disturbing the caller's random state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        yield


# Text the tokenizers are trained on: the words the synthetic benchmarks ask and answer with, so
# that prompts tokenize into a few dozen tokens rather than hundreds of bytes.
CORPUS = (
    "How many red circles are there in the image? There are 3 red circles.",
    "What colour is the square? The square is blue. The triangle is green.",
    "Is there a yellow star to the left of the purple square? Yes. No.",
    "Which shape is above the orange triangle? The circle is above it, below, right of it.",
    "Answer with a single word or number: zero one two three four five six seven eight nine ten",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 A. B. C. D. Answer with the option's letter.",
    "Describe the image. A photo of a cat, a dog and a small black and white picture with text.",
    "system user assistant USER: ASSISTANT: Question: Answer: You are a helpful assistant.",
    "shape colour color count number what where which who how is are the a an of in on",
    "red green blue yellow orange purple pink brown black white gray grey cyan magenta",
    "circle square triangle star rectangle ellipse diamond hexagon cross heart line dot",
)


def train_tokenizer(
    special_tokens: Sequence[str],
    *,
    bos: str | None = "<s>",
    eos: str = "</s>",
    pad: str = "<pad>",
    unk: str | None = None,
    vocab_size: int = 400,
    extra_text: Sequence[str] = (),
    **init_kwargs: Any,
) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on `CORPUS`, wrapped as a transformers fast tokenizer.

    `special_tokens` are the architecture's own markers (`<image>`, `<|vision_start|>`, …); each
    becomes one id that the text never splits into. `init_kwargs` go to PreTrainedTokenizerFast
    (for example `image_token="<image>"` for processors that read it from the tokenizer).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    named = [t for t in (pad, eos, bos, unk) if t is not None]
    specials = list(dict.fromkeys([*named, *special_tokens]))
    tok = Tokenizer(models.BPE(unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([*CORPUS, *extra_text], trainer=trainer)
    fast: Any = PreTrainedTokenizerFast  # untyped constructor
    wrapped: PreTrainedTokenizerFast = fast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        unk_token=unk,
        additional_special_tokens=[t for t in specials if t not in named],
        **init_kwargs,
    )
    return wrapped


def _load_family_modules() -> None:
    for name in _FAMILY_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


_load_family_modules()


def __getattr__(name: str) -> Any:
    # Computed on access: a family module imported after this one still shows up.
    if name == "FAMILIES":
        return tuple(BUILDERS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
