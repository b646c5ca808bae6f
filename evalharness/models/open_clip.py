"""Models that live in open_clip: CoCa, and OpenCLIP's CLIP and SigLIP checkpoints.

`model.path` names the checkpoint in one of three ways:

- an open_clip architecture (`ViT-B-32`, `coca_ViT-L-14`) with `model.args.pretrained` set to one
  of its tags (`laion2b_s13b_b90k`) or to a weights file;
- a hub id in open_clip's spelling, `hf-hub:org/name`;
- a local folder in the layout of such a hub checkpoint: `open_clip_config.json` and weights.

Every model answers option items like the transformers matching models: each option scores the
model's own logit, `exp(logit_scale) · cos(image, text) + logit_bias`. CoCa also writes captions,
greedily, for caption requests (see `is_caption`); other open questions are unsupported, since
CoCa's decoder is a captioner and takes no question. With `args.captions: false` a CoCa only
matches, so question suites whose items carry options are matched instead of being sent to
generation.

Captions are decoded here from CoCa's own next-token logits (its forward pass) rather than through
`CoCa.generate`, which needs transformers' beam-search classes that transformers 5 removed, and
which forces a minimum length and an end token that greedy decoding has no use for.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from evalharness.models._fingerprint import checkpoint_hash, files_hash
from evalharness.models._hf_load import is_local, resolve_device, resolve_dtype
from evalharness.models._open_clip_load import (
    PRECISION,
    WEIGHT_SUFFIXES,
    check_folder,
    hub_commit,
    import_open_clip,
)
from evalharness.models._shared import (
    cut_at_stop,
    match_scores,
    parameter_count,
    quiet_root_logger,
    run_per_budget,
    run_split,
    tiny_spec,
    unsupported,
)
from evalharness.models.base import ModelInfo, ModelLoadError, ModelSpec
from evalharness.models.settings import WithProcessAhead, parse, takes
from evalharness.types import Capability, Prediction, Request

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class OpenCLIPSettings(WithProcessAhead):
    """What `model=open_clip` takes in `model.args`."""

    pretrained: str | None = None
    """Weights for a named architecture: an open_clip tag or a weights file."""
    template: str = "{}"
    """Wraps each option text before matching, e.g. "a photo of {}"."""
    captions: bool = True
    """CoCa writes captions for caption requests; false: it matches options only, so question
    suites whose items carry options are matched instead of sent to generation."""


_CAPTION_WORDS = re.compile(r"\b(caption|describe|description)\b", re.IGNORECASE)


def is_caption(request: Request) -> bool:
    """Whether a request asks for a caption: an open request of a caption item, or an instruction
    (no question mark) to caption or describe the image. "Does this caption match?" is not one."""
    if request.mode != "generate" or request.form != "open":
        return False
    if request.sample.category == "caption":
        return True
    return bool(_CAPTION_WORDS.search(request.text)) and "?" not in request.text


class OpenCLIPModel:
    """open_clip models (CoCa, CLIP, SigLIP): options by image-text matching; CoCa also captions."""

    description = "open_clip models (CoCa, CLIP, SigLIP): match options; CoCa also captions."
    reference = False
    settings_type: ClassVar[type[OpenCLIPSettings]] = OpenCLIPSettings

    def __init__(self, spec: ModelSpec, *, identity_path: str | None = None) -> None:
        self.settings = settings = parse(OpenCLIPSettings, spec)
        self.spec = spec
        self.template = settings.template or "{}"
        self._identity_path = identity_path or spec.path
        open_clip = import_open_clip(spec.name)
        source, pretrained, self.revision = self._resolve(open_clip)
        self.pretrained = settings.pretrained or None
        self.device = resolve_device(spec.device)
        self.dtype = resolve_dtype(spec.dtype, self.device)
        self.process_ahead = settings.runs_ahead(self.device)
        """Whether `prepare` runs the image transforms (`args.process_ahead`; auto: not on a CPU)."""
        precision = PRECISION[str(self.dtype).removeprefix("torch.")]
        try:
            with quiet_root_logger(logging.WARNING):
                model, _, self.preprocess = open_clip.create_model_and_transforms(
                    source, pretrained=pretrained, precision=precision, device=self.device
                )
                self.tokenizer = open_clip.get_tokenizer(source)
        except Exception as exc:  # downloads, configs and weight loaders raise many types
            raise ModelLoadError(f"model {spec.name!r}: cannot load {spec.path}: {exc}") from exc
        self.model = model.eval()
        if source.startswith("hf-hub:"):
            self.revision = hub_commit(source.removeprefix("hf-hub:"))
        self.family = self._family()
        self.captions = self.family == "coca" and settings.captions
        self.capabilities: frozenset[Capability] = frozenset(
            {"choice", "generate"} if self.captions else {"choice"}
        )
        if self.captions:
            self._start, self._end = self._caption_tokens()
        self._identity: dict[str, Any] | None = None

    # --- loading ---------------------------------------------------------------------------

    def _resolve(self, open_clip: Any) -> tuple[str, str | None, str | None]:
        """What to hand open_clip (name or schema, pretrained) and the revision for the identity."""
        spec, name = self.spec, self.spec.name
        path = spec.path
        if not path:
            raise ModelLoadError(
                f"model {name!r} needs a checkpoint: set model.path to an open_clip model name "
                "(with model.args.pretrained), an hf-hub:org/name id or a checkpoint folder."
            )
        pretrained = self.settings.pretrained or None
        named = not path.startswith(("hf-hub:", "local-dir:")) and not is_local(path)
        if pretrained is not None and not named:
            raise ModelLoadError(
                f"model {name!r}: model.args.pretrained applies to named architectures only; "
                f"{path} brings its own weights, so drop pretrained."
            )
        # a folder is pinned by its weights hash (below), so a revision there is moot, as for the
        # transformers models; open_clip's hub and tag downloads take no revision
        if spec.revision and (named or path.startswith("hf-hub:")):
            raise ModelLoadError(
                f"model {name!r}: open_clip cannot pin a revision; download that revision and set "
                "model.path to its folder (or set model.revision=null)."
            )
        if path.startswith("hf-hub:"):
            return path, None, None  # the commit is known once open_clip has downloaded it
        if named:
            return self._named(open_clip, path, pretrained)
        folder = Path(path.removeprefix("local-dir:")).expanduser()
        check_folder(name, folder)
        return f"local-dir:{folder}", None, "local:" + checkpoint_hash(folder)

    def _named(
        self, open_clip: Any, arch: str, pretrained: str | None
    ) -> tuple[str, str | None, str | None]:
        name = self.spec.name
        known = open_clip.list_models()
        given, arch = arch, arch.replace("/", "-")  # open_clip's own spelling of ViT-B/32
        if arch not in known:
            close = difflib.get_close_matches(arch, known, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            if "/" in given:
                hint += f" A hub checkpoint is spelt hf-hub:{given}."
            raise ModelLoadError(
                f"model {name!r}: unknown open_clip model {arch!r}.{hint} "
                "open_clip.list_models() lists them; or give an hf-hub:org/name id or a folder."
            )
        tags = open_clip.list_pretrained_tags_by_model(arch)
        if pretrained is None:
            raise ModelLoadError(
                f"model {name!r}: set model.args.pretrained to a tag of {arch} "
                f"({', '.join(tags) or 'none known'}) or to a weights file."
            )
        if open_clip.get_pretrained_cfg(arch, pretrained):
            return arch, pretrained, None
        file = Path(pretrained).expanduser()
        if file.is_file():
            return arch, str(file), "local:" + files_hash([file])
        if is_local(pretrained) or file.suffix in (*WEIGHT_SUFFIXES, ".pt", ".npz"):
            raise ModelLoadError(
                f"model {name!r}: weights file {pretrained} does not exist; set "
                "model.args.pretrained to an existing file or to a tag."
            )
        raise ModelLoadError(
            f"model {name!r}: {pretrained!r} is not a pretrained tag of {arch} "
            f"(known: {', '.join(tags) or 'none'}) nor a weights file."
        )

    def _family(self) -> str:
        if hasattr(self.model, "text_decoder"):
            return "coca"
        return "siglip" if getattr(self.model, "logit_bias", None) is not None else "clip"

    def _caption_tokens(self) -> tuple[int, int]:
        """The start and end token ids of captions, from open_clip's or a transformers tokenizer."""
        tok = self.tokenizer
        start, end = getattr(tok, "sot_token_id", None), getattr(tok, "eot_token_id", None)
        inner = getattr(tok, "tokenizer", None)
        if start is None and inner is not None:
            start = inner.bos_token_id if inner.bos_token_id is not None else inner.cls_token_id
        if end is None and inner is not None:
            end = inner.eos_token_id if inner.eos_token_id is not None else inner.sep_token_id
        if not (isinstance(start, int) and isinstance(end, int)):
            raise ModelLoadError(
                f"model {self.spec.name!r}: its tokenizer has no start and end tokens to caption "
                "with; set model.args.captions=false to use it for matching only."
            )
        return start, end

    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            ident: dict[str, Any] = {
                "path": self._identity_path,
                "pretrained": self.pretrained,
                "revision": self.revision,
                "dtype": str(self.dtype).removeprefix("torch."),
                "family": self.family,
            }
            if self.family == "coca":
                ident["captions"] = self.captions
            if self.template != "{}":
                ident["template"] = self.template
            self._identity = ident
        return dict(self._identity)

    def info(self) -> ModelInfo:
        return ModelInfo("contrastive", parameter_count(self.model))

    # --- answering -------------------------------------------------------------------------

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        return self.prepare(requests)()

    def prepare(self, requests: Sequence[Request]) -> Callable[[], list[Prediction]]:
        """Sort the requests into matching and captioning and, with `process_ahead`, run the
        image transforms (resize, crop, normalise) now for the images they will use; the
        returned call embeds, scores and captions."""
        out: list[Prediction | None] = [None] * len(requests)
        match: list[int] = []
        caption: list[int] = []
        for i, r in enumerate(requests):
            if not r.images:
                out[i] = Prediction(error="ValueError: open_clip models need an image")
            elif r.mode == "choice":
                if r.choices:
                    match.append(i)
                else:
                    out[i] = Prediction(error="ValueError: choice request without options")
            elif self.captions and is_caption(r) and len(r.images) > 1:
                out[i] = unsupported(r, f"CoCa captions one image; this item has {len(r.images)}")
            elif self.captions and is_caption(r):
                caption.append(i)
            elif self.captions:
                out[i] = unsupported(r, "CoCa answers no questions; it captions or scores options")
            else:
                out[i] = unsupported(r, "matching models only score options")
        ready: dict[int, torch.Tensor] = {}
        if self.process_ahead:
            # a caption describes one image (see `_caption`); matching uses all of an item's
            used = [img for i in match for img in requests[i].images]
            used += [requests[i].images[0] for i in caption]
            for img in used:
                with contextlib.suppress(Exception):  # the call fails it, on its own request
                    ready.setdefault(id(img), self._transform(img))

        def run() -> list[Prediction]:
            size = self.spec.batch_size
            match_fn = functools.partial(self._match, ready=ready)
            preds = run_split([requests[i] for i in match], size, match_fn)
            for i, p in zip(match, preds, strict=True):
                out[i] = p
            caption_fn = functools.partial(self._caption, ready=ready)
            for i, p in run_per_budget(requests, caption, size, caption_fn).items():
                out[i] = p
            return [p if p is not None else Prediction(error="internal: no answer") for p in out]

        return run

    def _transform(self, image: Any) -> torch.Tensor:
        pixels: torch.Tensor = self.preprocess(image.convert("RGB"))
        return pixels

    def _pixels(self, images: Sequence[Any], ready: dict[int, torch.Tensor]) -> torch.Tensor:
        """The images as one batch on the device; `ready`: those transformed ahead, by id."""
        import torch

        done = [ready.get(id(img)) for img in images]
        batch = torch.stack(
            [
                t if t is not None else self._transform(img)
                for t, img in zip(done, images, strict=True)
            ]
        )
        return batch.to(self.device, self.dtype)

    def _match(
        self, requests: Sequence[Request], ready: dict[int, torch.Tensor]
    ) -> list[Prediction]:
        import torch

        start = time.perf_counter()
        model = self.model

        def images(batch: list[Any]) -> torch.Tensor:
            emb: torch.Tensor = model.encode_image(self._pixels(batch, ready), normalize=True)
            return emb.float()

        def texts(batch: list[str]) -> torch.Tensor:
            emb: torch.Tensor = model.encode_text(
                self.tokenizer(batch).to(self.device), normalize=True
            )
            return emb.float()

        with torch.inference_mode():
            scale = model.logit_scale.exp().float()
            bias = model.logit_bias.float() if model.logit_bias is not None else 0.0
            scores = match_scores(requests, self.template, images, texts, scale, bias)
        each = (time.perf_counter() - start) / len(requests)
        return [Prediction(choice_scores=s, latency_s=each) for s in scores]

    def _caption(
        self, requests: Sequence[Request], ready: dict[int, torch.Tensor]
    ) -> list[Prediction]:
        """Greedy captions from CoCa's next-token logits, one token for every unfinished row."""
        import torch

        begin = time.perf_counter()
        model, n = self.model, len(requests)
        budget = self._budget(requests[0].generation.max_new_tokens)
        pad = int(getattr(model, "pad_id", 0))
        with torch.inference_mode():
            # a caption describes one image; extra images of an item are not shown to CoCa
            encoded = model(self._pixels([r.images[0] for r in requests], ready))
            latent, embs = encoded["image_features"], encoded["image_embs"]
            tokens = torch.full((n, 1), self._start, dtype=torch.long, device=self.device)
            done = torch.zeros(n, dtype=torch.bool, device=self.device)
            for _ in range(budget):
                live = (~done).nonzero().squeeze(1)
                if live.numel() == 0:
                    break
                step = model(
                    None,
                    tokens[live],
                    image_latent=latent[live],
                    image_embs=embs[live],
                    output_labels=False,
                )["logits"][:, -1]
                nxt = torch.full((n,), pad, dtype=torch.long, device=self.device)
                nxt[live] = step.float().argmax(dim=-1)
                tokens = torch.cat([tokens, nxt[:, None]], dim=1)
                done[live] = nxt[live] == self._end
        each = (time.perf_counter() - begin) / n
        preds = []
        for r, row in zip(requests, tokens[:, 1:].tolist(), strict=True):
            length = row.index(self._end) + 1 if self._end in row else len(row)
            text = self._decode(row[:length])
            preds.append(
                Prediction(
                    text=cut_at_stop(text, r.generation.stop),
                    latency_s=each,
                    output_tokens=length,
                )
            )
        return preds

    def _budget(self, wanted: int) -> int:
        """New tokens that fit the text positions: the k-th token is predicted from k inputs."""
        limits = [
            v
            for v in (
                getattr(self.model.text, "context_length", None),
                getattr(self.model, "context_length", None),
            )
            if isinstance(v, int)
        ]
        return max(1, min([wanted, *limits]))

    def _decode(self, ids: list[int]) -> str:
        ids = [t for t in ids if t not in (self._start, self._end)]
        inner = getattr(self.tokenizer, "tokenizer", None)
        if inner is not None:  # a transformers tokenizer inside open_clip's wrapper
            return str(inner.decode(ids, skip_special_tokens=True)).strip()
        return " ".join(str(self.tokenizer.decode(ids)).split())


@takes(OpenCLIPSettings)
def tiny_coca(spec: ModelSpec) -> OpenCLIPModel:
    """Tiny random-weight CoCa, built offline (tests and smoke runs)."""
    return OpenCLIPModel(tiny_spec("coca", spec), identity_path="tiny:coca")
