"""Names with a prefix (`lmms:vqav2`): registry resolution and the command-line rewriting.

These need no lmms-eval: the registry and override handling are generic.
"""

from __future__ import annotations

from typing import Any

import pytest

from evalharness.cli.config import OverrideError, check_overrides, normalize_overrides
from evalharness.registry import Registry, UnknownNameError


class Family:
    """A factory standing for many names: `fam:<member>`."""

    def __init__(self, member: str, size: int = 1) -> None:
        self.member, self.size = member, size

    @classmethod
    def for_name(cls, member: str) -> Any:
        return lambda **kw: cls(member, **kw)


def plain(**kw: Any) -> str:
    return "plain"


def registry() -> Registry[Any]:
    reg: Registry[Any] = Registry("thing", "evalharness.test_no_such_group")
    reg.register("fam", Family)
    reg.register("plain", plain)
    return reg


def test_prefix_resolves_through_for_name() -> None:
    made = registry().create("fam:alpha", size=3)
    assert (made.member, made.size) == ("alpha", 3)
    assert registry().create("fam:beta:gamma").member == "beta:gamma"  # the rest is kept whole


def test_prefix_without_hook_or_unknown_prefix_is_an_unknown_name() -> None:
    with pytest.raises(UnknownNameError, match="'plain:x'"):
        registry().get("plain:x")
    with pytest.raises(UnknownNameError, match="'nope:x'"):
        registry().get("nope:x")
    with pytest.raises(UnknownNameError):
        registry().get("fam:")


def test_short_forms_become_a_group_option_and_a_name() -> None:
    out = normalize_overrides(
        ["model=lmms:qwen2_vl", "benchmark=lmms:vqav2", "limit=3", "model.args.x=1"]
    )
    assert out == [
        "model=lmms",
        "++model.name=lmms:qwen2_vl",
        "benchmark=lmms",
        "++benchmark.name=lmms:vqav2",
        "limit=3",
        "++model.args.x=1",
    ]


def test_a_list_of_prefixed_names_becomes_a_sweep_over_the_name() -> None:
    assert normalize_overrides(["benchmark=lmms:a,lmms:b"]) == [
        "benchmark=lmms",
        "++benchmark.name=lmms:a,lmms:b",
    ]


def test_mixing_prefixed_and_plain_names_is_refused() -> None:
    with pytest.raises(OverrideError, match="same prefix"):
        check_overrides(["benchmark=vqav2,lmms:textvqa"])


def test_unknown_prefix_gets_did_you_mean() -> None:
    with pytest.raises(OverrideError, match=r"unknown benchmark 'vqa2'.*'vqav2'"):
        check_overrides(["benchmark=vqa2:x"])


def test_model_args_string_is_quoted_and_parses_as_one_value() -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    [arg] = normalize_overrides(["model.args.model_args=pretrained=/m/q,device_map=cpu"])
    [override] = OverridesParser.create().parse_overrides([arg])
    assert override.key_or_group == "model.args.model_args"
    assert override.value() == "pretrained=/m/q,device_map=cpu"
    quoted = 'model.args.model_args="pretrained=/m/q"'  # quoted by the user already: unchanged
    assert normalize_overrides([quoted]) == ["++" + quoted]
