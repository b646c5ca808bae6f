"""Model settings: parsed once into frozen typed objects, strictly, with one-line refusals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from evalharness import registry
from evalharness.cli._docs import setting_docs
from evalharness.models._hf_settings import HFSettings
from evalharness.models.base import ModelLoadError, ModelSpec
from evalharness.models.settings import (
    NoSettings,
    WithProcessAhead,
    check_given,
    least,
    parse,
    settings_type,
)


@dataclass(frozen=True)
class Example(WithProcessAhead):
    flag: bool = False
    """A yes or no."""
    mode: Literal["fast", "exact"] = "exact"
    """How."""
    count: int = field(default=2, metadata=least(1))
    """How many."""
    scale: float | None = None
    """How much."""
    name: str = "x"
    """What."""
    extra: dict[str, Any] = field(default_factory=dict)
    """More."""


def example(**args: Any) -> Example:
    return parse(Example, ModelSpec("ex", args=args))


def refusal(**args: Any) -> str:
    with pytest.raises(ModelLoadError) as caught:
        example(**args)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("model 'ex': ")
    return message.removeprefix("model 'ex': ")


@pytest.mark.parametrize("word", ["no", "off", "false", "0", "No", " OFF ", "FALSE", False, 0])
def test_every_spelling_of_no_is_false(word: Any) -> None:
    assert example(flag=word).flag is False


@pytest.mark.parametrize("word", ["yes", "on", "true", "1", "Yes", "ON", "True", True, 1])
def test_every_spelling_of_yes_is_true(word: Any) -> None:
    assert example(flag=word).flag is True


@pytest.mark.parametrize("word", ["nope", "", "y", "2", 2, -1, 0.5, None, [], {}])
def test_anything_else_is_refused_naming_the_setting_and_its_values(word: Any) -> None:
    assert refusal(flag=word).startswith(f"args.flag must be true or false, not {word!r}")


def test_enums_take_only_their_values() -> None:
    assert example(mode="fast").mode == "fast"
    assert refusal(mode="quick") == "args.mode must be fast or exact, not 'quick'"
    assert refusal(mode=True) == "args.mode must be fast or exact, not True"
    # auto, or a yes or no
    assert example().process_ahead == "auto"
    assert example(process_ahead="no").process_ahead is False
    assert example(process_ahead="on").process_ahead is True
    assert refusal(process_ahead="often").startswith(
        "args.process_ahead must be auto, true or false, not 'often'"
    )
    assert example(process_ahead="auto").runs_ahead("cuda:0")
    assert not example(process_ahead="auto").runs_ahead("cpu")
    assert example(process_ahead="yes").runs_ahead("cpu")


def test_numbers_text_and_mappings() -> None:
    got = example(count="3", scale=1, name=7, extra={"a": 1})
    assert (got.count, got.scale, got.name, got.extra) == (3, 1.0, "7", {"a": 1})
    assert isinstance(got.scale, float)
    assert example(count=4.0).count == 4 and example(scale=None).scale is None
    assert refusal(count=0) == "args.count must be a whole number of at least 1, got 0"
    assert refusal(count=2.5) == "args.count must be a whole number of at least 1, got 2.5"
    assert refusal(count=True) == "args.count must be a whole number of at least 1, got True"
    assert refusal(scale="lots") == "args.scale must be a number, got 'lots'"
    assert refusal(scale="nan") == "args.scale must be a number, got 'nan'"
    assert refusal(name=True) == "args.name must be text, not True"
    assert refusal(name=["a"]) == "args.name must be text, not ['a']"
    assert refusal(extra="a=1") == "args.extra must be a mapping, got 'a=1'"


def test_defaults_are_the_dataclass_defaults_and_the_result_is_frozen() -> None:
    got = example()
    assert got == Example()
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.flag = True  # type: ignore[misc]


def test_unknown_keys_are_one_line_with_did_you_mean() -> None:
    message = refusal(flga=True, zzz=1)
    assert message.startswith("unknown args 'flga' (did you mean 'flag'?), 'zzz'. Known args: ")
    assert "count, extra, flag, mode, name, process_ahead, scale" in message
    with pytest.raises(ModelLoadError, match=r"takes no model\.args settings; got 'x'"):
        parse(NoSettings, ModelSpec("oracle", args={"x": 1}))


def test_checks_across_settings_name_the_model() -> None:
    with pytest.raises(ModelLoadError) as caught:
        parse(
            HFSettings,
            ModelSpec("hf", args={"vision_attention": "batched", "attn_implementation": "eager"}),
        )
    assert str(caught.value).startswith(
        "model 'hf': args.vision_attention=batched works with attn_implementation=sdpa"
    )


def test_given_settings_can_be_checked_before_their_values_are_known() -> None:
    check_given(Example, {"flag": "no", "count": "${x}"}, "model 'ex'", unread={"count"})
    with pytest.raises(ModelLoadError, match="unknown args 'cuont'"):
        check_given(Example, {"cuont": "${x}"}, "model 'ex'", unread={"cuont"})


def test_every_builtin_model_declares_documented_settings() -> None:
    for name in registry.models.names():
        factory = registry.models.get(name)
        if not factory.__module__.startswith(("evalharness.models", "evalharness.bridges")):
            continue  # plugins may read their args their own way
        cls = settings_type(factory)
        assert cls is not None, name
        docs = setting_docs(cls)
        undocumented = [f.name for f in dataclasses.fields(cls) if f.name not in docs]
        assert undocumented == [], f"{name}: {undocumented}"
        parse(cls, ModelSpec(name))  # the defaults alone are valid settings
