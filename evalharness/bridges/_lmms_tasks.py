"""lmms-eval's side of `benchmark=lmms:<task>`: finding a task, its documents, visuals and scoring.

Everything here calls lmms-eval's own code (task manager, `doc_to_visual`, filters,
`process_results`, aggregation functions) so that a task scores exactly as lmms-eval scores it;
what is ours is only the glue to our types.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import hashlib
import inspect
import json
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from evalharness.errors import EvalharnessError
from evalharness.images import to_rgb
from evalharness.types import FileImage, ImageSource, RenderedImage

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class LmmsBridgeError(EvalharnessError, RuntimeError):
    """lmms-eval is missing, or a task or model of it cannot be used; the message says why."""


def require_lmms() -> str:
    """lmms-eval's version; a clear error when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        import lmms_eval  # noqa: F401
    except ImportError as exc:
        raise LmmsBridgeError(
            f"the lmms-eval bridge needs lmms-eval ({exc}); install it with "
            "`pip install 'evalharness[lmms]'`."
        ) from exc
    try:
        return version("lmms_eval")
    except PackageNotFoundError:  # a source checkout on sys.path
        return "unknown"


def _cause(exc: BaseException) -> BaseException:
    """The real error behind lmms-eval's retry wrappers (tenacity's RetryError)."""
    attempt = getattr(exc, "last_attempt", None)
    inner = attempt.exception() if attempt is not None else None
    return inner if isinstance(inner, BaseException) else exc


def load_task(name: str, include_path: str | None, prompt_variant: str | None) -> Any:
    """The lmms-eval task object (a ConfigurableTask) called `name`, its data loaded.

    A task found under `include_path` is loaded without indexing lmms-eval's ~2000 built-in
    tasks, which takes seconds; `prompt_variant` picks the task's per-model prompt settings
    (`lmms_eval_specific_kwargs`), as lmms-eval does with the name of the model under test.
    """
    require_lmms()
    from lmms_eval.tasks import TaskManager, get_task_dict

    if include_path is not None and not Path(include_path).is_dir():
        raise LmmsBridgeError(f"lmms-eval include_path {include_path!r} is not a folder.")
    manager = None
    if include_path is not None:
        manager = TaskManager(
            "WARNING", include_path, include_defaults=False, model_name=prompt_variant
        )
    if manager is None or name not in manager.all_tasks:
        manager = TaskManager("WARNING", include_path, model_name=prompt_variant)
    if name not in manager.all_tasks:
        close = difflib.get_close_matches(name, manager.all_tasks, n=5, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        where = f" or under {include_path}" if include_path else ""
        raise LmmsBridgeError(f"lmms-eval has no task {name!r}{where}.{hint}")
    try:
        tasks = _leaves(get_task_dict([name], manager))
    except Exception as exc:  # dataset download, YAML or task code errors
        cause = _cause(exc)
        raise LmmsBridgeError(
            f"lmms-eval task {name!r} failed to load: {type(cause).__name__}: {cause}"
        ) from exc
    if len(tasks) != 1:
        names = ", ".join(f"lmms:{t}" for t in sorted(tasks))
        raise LmmsBridgeError(
            f"lmms-eval {name!r} is a group of {len(tasks)} tasks; run them one by one: {names}."
        )
    task = next(iter(tasks.values()))
    output_type = task.config.output_type
    if output_type != "generate_until":
        raise LmmsBridgeError(
            f"lmms-eval task {name!r} has output_type {output_type!r}; the bridge runs "
            "generate_until tasks only."
        )
    return task


def _leaves(tree: Mapping[Any, Any]) -> dict[str, Any]:
    """The tasks of a (possibly nested) task dict: groups map to dicts of their subtasks."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out.update(_leaves(value))
        elif value is not None:
            out[str(getattr(value.config, "task", key))] = value
    return out


def split_name(task: Any) -> str:
    return str(task.config.test_split if task.has_test_docs() else task.config.validation_split)


# --- what defines a task (its version) ----------------------------------------------------------


def _stable(value: Any) -> Any:
    """A JSON-able stand-in for config values: functions by name and source hash, not address."""
    if callable(value):
        try:
            source = inspect.getsource(value)
        except (OSError, TypeError):
            source = ""
        digest = hashlib.sha256(source.encode()).hexdigest()[:12]
        name = getattr(value, "__qualname__", type(value).__qualname__)
        return f"{getattr(value, '__module__', '')}.{name}#{digest}"
    return str(value)


def config_fingerprint(task: Any) -> str:
    """A hash of the task's whole config: prompts, prompt functions' code, metrics, data source."""
    config = task.config
    fields = (
        {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        if dataclasses.is_dataclass(config)
        else dict(vars(config))
    )
    fields["lmms_eval_specific_kwargs"] = task.lmms_eval_specific_kwargs
    blob = json.dumps(fields, sort_keys=True, default=_stable)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --- visuals -------------------------------------------------------------------------------------


def _pixels_key(image: Any) -> str:
    h = hashlib.sha256(f"{image.mode}{image.size}".encode())
    h.update(image.tobytes())
    return h.hexdigest()


def visual_sources(
    visuals: Sequence[Any] | None, reload: Callable[[int], Any], label: str
) -> tuple[ImageSource, ...]:
    """Our image sources for one document's `doc_to_visual` output.

    Decoded images are not kept: each source names its pixels by hash and calls `reload(k)` (which
    runs `doc_to_visual` again) when the runner loads it, so a large task holds no images in
    memory. Image file paths become file sources; videos and audio are refused.
    """
    from PIL import Image

    out: list[ImageSource] = []
    for k, visual in enumerate(visuals or ()):
        if isinstance(visual, Image.Image):
            rgb = to_rgb(visual)
            out.append(RenderedImage(_pixels_key(rgb), functools.partial(reload, k)))
        elif isinstance(visual, str) and visual.lower().endswith(IMAGE_SUFFIXES):
            out.append(FileImage(visual))
        else:
            kind = type(visual).__name__
            shown = visual if isinstance(visual, str) else kind
            raise LmmsBridgeError(
                f"{label}: doc_to_visual gave {shown!r}; the bridge passes images only "
                "(PIL images or image files), not video or audio."
            )
    return tuple(out)


def as_rgb(visual: Any) -> Any:
    return to_rgb(visual)


# --- scoring -------------------------------------------------------------------------------------


def filtered(task: Any, doc_ids: Sequence[int], texts: Sequence[str]) -> list[Any]:
    """The task's first filter pipeline applied to raw outputs, as lmms-eval applies it.

    lmms-eval reports one row per filter; its tables lead with the first, which is also the
    only one of most tasks (`take_first`, named "none").
    """
    from lmms_eval.api.instance import Instance

    ensembles = getattr(task, "_filters", None) or []
    if not ensembles:
        return list(texts)
    name = task.config.task
    instances = [
        Instance(
            request_type="generate_until",
            arguments=(),
            idx=0,
            metadata={"task": name, "doc_id": doc_id, "repeats": 1},
            resps=[text],
        )
        for doc_id, text in zip(doc_ids, texts, strict=True)
    ]
    ensemble = ensembles[0]
    ensemble.apply(instances, None)
    return [inst.filtered_resps[ensemble.name] for inst in instances]


def process(task: Any, doc: Mapping[str, Any], response: Any) -> dict[str, Any]:
    """lmms-eval's per-document scores; the document is copied, as some scorers edit it."""
    result = task.process_results(copy.deepcopy(dict(doc)), [response])
    if not isinstance(result, Mapping):
        raise LmmsBridgeError(
            f"lmms-eval task {task.config.task!r}: process_results returned "
            f"{type(result).__name__}, not a dict of metrics."
        )
    return dict(result)


def is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real)


def is_mean(fn: Any) -> bool:
    """Whether an aggregation is lmms-eval's plain mean (a sum over rows, so bootstrappable)."""
    from lmms_eval.api import metrics

    return fn is metrics.mean


def aggregate(fn: Callable[..., Any], items: list[Any]) -> float:
    """lmms-eval's aggregation of a metric's per-document values, as its evaluator calls it.

    Aggregations that write submission files read lmms-eval's command-line `args`, which a run of
    ours has not got: they get None and, if they fail, the value is NaN.
    """
    if not items:
        return math.nan
    try:
        takes_args = "args" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_args = False
    try:
        value = fn(items, args=None) if takes_args else fn(items)
    except Exception as exc:  # such aggregations need lmms-eval's CLI; the value is unknown here
        warnings.warn(f"lmms-eval aggregation {_stable(fn)} failed: {exc}", stacklevel=2)
        return math.nan
    return float(value) if is_number(value) else math.nan
