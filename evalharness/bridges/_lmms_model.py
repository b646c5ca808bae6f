"""lmms-eval model classes behind our model interface (`model=lmms:<name>`).

lmms-eval models answer `Instance`s whose arguments name a document by task, split and index and
fetch it from `model.task_dict`; their visuals come from calling `doc_to_visual` (simple models)
or `doc_to_messages` (chat models) on that document. Each `predict` call therefore hands the model
one small "task" whose documents are our requests, with their already loaded images.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from evalharness.bridges._lmms_tasks import LmmsBridgeError, require_lmms
from evalharness.errors import did_you_mean
from evalharness.models.base import ModelInfo, ModelSpec
from evalharness.models.settings import parse
from evalharness.types import Capability, GenerationSettings, Prediction, Request

TASK = "evalharness"
"""The task name our requests go under in the model's `task_dict`."""
SPLIT = "requests"


@dataclass(frozen=True)
class LmmsSettings:
    """What `model=lmms:<name>` takes in `model.args`."""

    model: str = ""
    """The lmms-eval model name (`model=lmms:<name>` sets it)."""
    model_args: Any = None
    """Its constructor arguments: "pretrained=PATH,device_map=cpu" as lmms-eval's --model_args
    takes them, or a mapping."""
    force_simple: bool = False
    """Use the model's simple class where it also has a chat one."""


def parse_model_args(value: Any) -> dict[str, Any]:
    """`model_args` as lmms-eval's CLI takes it (`k=v,k=v`, values typed) or as a mapping."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        from lmms_eval.utils import simple_parse_args_string

        try:
            parsed: dict[str, Any] = simple_parse_args_string(value)
        except ValueError as exc:
            raise LmmsBridgeError(
                f"cannot read model_args {value!r} ({exc}); write key=value pairs separated by "
                "commas, e.g. pretrained=PATH,device_map=cpu."
            ) from exc
        return parsed
    raise LmmsBridgeError(f"model_args must be 'k=v,…' or a mapping, not {type(value).__name__}")


def generation_kwargs(settings: GenerationSettings) -> dict[str, Any]:
    """Our decoding settings as an lmms-eval task's `generation_kwargs`; a fresh dict each time,
    as models pop keys (`until`) from it."""
    out: dict[str, Any] = {
        "max_new_tokens": settings.max_new_tokens,
        "temperature": settings.temperature,
        "do_sample": settings.temperature > 0,
    }
    if settings.stop:
        out["until"] = list(settings.stop)
    return out


def _images(doc: Mapping[str, Any]) -> list[Any]:
    """`doc_to_visual` of our request documents."""
    return list(doc["images"])


def _messages(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`doc_to_messages` of our request documents: one user turn, images first, as lmms-eval's
    default for tasks without their own messages."""
    content: list[dict[str, Any]] = [{"type": "image", "url": img} for img in doc["images"]]
    content.append({"type": "text", "text": doc["text"]})
    return [{"role": "user", "content": content}]


def _model_class(name: str, force_simple: bool) -> Any:
    from lmms_eval import models

    known = models.list_available_models(include_aliases=True)
    if name not in known:
        raise LmmsBridgeError(f"lmms-eval has no model {name!r}.{did_you_mean(name, known)}")
    try:
        return models.get_model(name, force_simple)
    except Exception as exc:  # the class's module failed to import (a missing dependency)
        raise LmmsBridgeError(
            f"lmms-eval model {name!r} cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc


class LmmsModel:
    """A model class of lmms-eval (its `qwen2_vl`, `llava_onevision`, `internvl3`, API models…).

    Settings (`model.args`): `model` (the lmms-eval model name; `model=lmms:<name>` sets it),
    `model_args` (its constructor arguments, `"pretrained=PATH,device_map=cpu"` as lmms-eval's
    `--model_args`, or a mapping) and `force_simple` (use the model's simple class where it also
    has a chat one). `batch_size` and `device` come from the run, as lmms-eval's `--batch_size`
    and `--device` do; on CPU, `device_map` defaults to cpu for classes that take it.
    """

    description = "A model class of lmms-eval (model=lmms:<name>, model.args.model_args=...)"
    capabilities: frozenset[Capability] = frozenset({"generate"})
    reference = False
    settings_type: ClassVar[type[LmmsSettings]] = LmmsSettings

    def __init__(self, spec: ModelSpec) -> None:
        self._lmms_version = require_lmms()
        self.settings = settings = parse(LmmsSettings, spec, LmmsBridgeError)
        name = settings.model
        if not name:
            raise LmmsBridgeError(
                "model=lmms needs an lmms-eval model name: model=lmms:qwen2_vl, or "
                "model=lmms model.args.model=qwen2_vl."
            )
        self.name = name
        self.model_args = parse_model_args(settings.model_args)
        cls = _model_class(self.name, settings.force_simple)
        self._class = f"{cls.__module__}.{cls.__qualname__}"
        self._kwargs = {**_run_defaults(cls, spec), **self.model_args}
        try:
            self._lm = cls(**self._kwargs)
        except Exception as exc:
            raise LmmsBridgeError(
                f"lmms-eval model {self.name!r} failed to load with {self._kwargs}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self._chat = not getattr(self._lm, "is_simple", True)

    @classmethod
    def for_name(cls, name: str) -> Callable[[ModelSpec], LmmsModel]:
        """The factory behind the registry name `lmms:<name>`."""

        def make(spec: ModelSpec) -> LmmsModel:
            given = spec.args.get("model")
            if given not in (None, name):
                raise LmmsBridgeError(f"model=lmms:{name} but model.args.model={given!r}")
            return cls(replace(spec, args={**spec.args, "model": name}))

        make.settings_type = LmmsSettings  # type: ignore[attr-defined]
        return make

    def identity(self) -> dict[str, Any]:
        from evalharness.models._fingerprint import checkpoint_hash

        path = self.model_args.get("pretrained")
        out: dict[str, Any] = {
            "bridge": "lmms-eval",
            "lmms_eval": self._lmms_version,
            "model": self.name,
            "class": self._class,
            "model_args": {k: str(v) for k, v in sorted(self.model_args.items())},
            "device": str(self._kwargs.get("device", "")),
            "family": self.name,
        }
        if isinstance(path, str):
            out["path"] = path
            if Path(path).is_dir():
                out["weights"] = checkpoint_hash(Path(path))
        return out

    def info(self) -> ModelInfo:
        return ModelInfo("generative", _parameter_count(self._lm))

    def predict(self, requests: Sequence[Request]) -> list[Prediction]:
        from lmms_eval.api.instance import Instance, unwrap_generation_output

        out: list[Prediction | None] = [None] * len(requests)
        asked = [i for i, r in enumerate(requests) if r.mode == "generate"]
        for i in set(range(len(requests))) - set(asked):
            out[i] = Prediction(
                unsupported=f"lmms models only generate (mode {requests[i].mode!r})"
            )
        if asked:
            docs = [{"images": list(requests[i].images), "text": requests[i].text} for i in asked]
            self._lm.task_dict = {TASK: {SPLIT: docs}}
            instances = [
                Instance(
                    request_type="generate_until",
                    arguments=self._arguments(doc_id, requests[i]),
                    idx=0,
                    metadata={"task": TASK, "doc_id": doc_id, "repeats": 1, "split": SPLIT},
                )
                for doc_id, i in enumerate(asked)
            ]
            start = time.perf_counter()
            answers = self._lm.generate_until(instances)
            if len(answers) != len(asked):
                raise RuntimeError(f"{self.name} gave {len(answers)} answers to {len(asked)}")
            share = (time.perf_counter() - start) / len(asked)
            for i, answer in zip(asked, answers, strict=True):
                text, counts = unwrap_generation_output(answer)
                out[i] = Prediction(
                    text=text if isinstance(text, str) else str(text),
                    latency_s=share,
                    input_tokens=None if counts is None else counts.input_tokens,
                    output_tokens=None if counts is None else counts.output_tokens,
                )
        return [p for p in out if p is not None]

    def _arguments(self, doc_id: int, request: Request) -> tuple[Any, ...]:
        """`generate_until` arguments, shaped as lmms-eval's simple or chat tasks shape them."""
        gen = generation_kwargs(request.generation)
        if self._chat:
            return (request.text, _messages, gen, doc_id, TASK, SPLIT)
        return (request.text, gen, _images, doc_id, TASK, SPLIT)


def _run_defaults(cls: Any, spec: ModelSpec) -> dict[str, Any]:
    """What lmms-eval's CLI adds to `--model_args` (batch size, device), for classes taking it."""
    params = inspect.signature(cls.__init__).parameters
    device = spec.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    out: dict[str, Any] = {"batch_size": spec.batch_size, "device": device}
    if device == "cpu":
        out["device_map"] = "cpu"  # the wrappers' default is "cuda"
    return {k: v for k, v in out.items() if k in params}


def _parameter_count(lm: Any) -> int | None:
    import torch

    for attr in ("model", "_model"):
        try:
            module = getattr(lm, attr, None)
        except Exception:  # properties of API models may raise
            continue
        if isinstance(module, torch.nn.Module):
            return sum(p.numel() for p in module.parameters())
    return None
