"""The remote-code route: a checkpoint whose classes ship as code beside its weights.

Families that transformers does not have (Qwen-VL, older InternVL, MiniCPM-V, …) come with
`configuration_*.py` / `modeling_*.py` files and an `auto_map` in config.json. Here a tiny LLaVA is
turned into such a checkpoint (its classes declared in the folder under a new model type) and must
load only with the opt-in, through the same `hf` model, and answer exactly as the built-in class.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from safetensors.torch import save_file
from transformers import LlavaForConditionalGeneration

from evalharness.models import tiny
from evalharness.models.base import ModelLoadError, ModelSpec
from evalharness.models.hf import HFModel
from evalharness.types import GenerationSettings, PILImageSource, Request, Sample

CONFIGURATION = """
from transformers import LlavaConfig


class RemoteLlavaConfig(LlavaConfig):
    model_type = "remote_llava"
"""

MODELING = """
from transformers import LlavaForConditionalGeneration

from .configuration_remote import RemoteLlavaConfig


class RemoteLlavaForConditionalGeneration(LlavaForConditionalGeneration):
    config_class = RemoteLlavaConfig
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the built-in tiny LLaVA, the same weights as a remote-code checkpoint)."""
    native = tiny.build("llava", root=tmp_path_factory.mktemp("tiny"))
    remote = tmp_path_factory.mktemp("remote") / "remote_llava"
    shutil.copytree(native, remote)
    (remote / "configuration_remote.py").write_text(CONFIGURATION)
    (remote / "modeling_remote.py").write_text(MODELING)
    config = json.loads((remote / "config.json").read_text())
    config["model_type"] = "remote_llava"
    config["architectures"] = ["RemoteLlavaForConditionalGeneration"]
    config["auto_map"] = {
        "AutoConfig": "configuration_remote.RemoteLlavaConfig",
        "AutoModelForImageTextToText": "modeling_remote.RemoteLlavaForConditionalGeneration",
    }
    (remote / "config.json").write_text(json.dumps(config))
    # A remote-code class gets no key renaming from transformers: its weights are stored under
    # the class's own parameter names, as such checkpoints are.
    model = LlavaForConditionalGeneration.from_pretrained(native)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, remote / "model.safetensors"
    )
    return native, remote


def requests() -> list[Request]:
    out = []
    for i in range(3):
        img = Image.new("RGB", (30 + 9 * i, 28), (40 * i, 90, 200 - 30 * i))
        text = ["What colour is it?", "How many shapes?", "Describe the picture."][i]
        sample = Sample(id=str(i), images=(PILImageSource(img),), prompt=text)
        out.append(Request(sample, (img,), text, "generate", GenerationSettings(max_new_tokens=5)))
    return out


def test_remote_code_loads_only_with_the_opt_in(folders: tuple[Path, Path]) -> None:
    _, remote = folders
    with pytest.raises(ModelLoadError, match=r"trust_remote_code=true"):
        HFModel(ModelSpec(name="hf", path=str(remote)))


@pytest.mark.parametrize("no", ["no", "off", "false", "False", "0", False, 0])
def test_a_no_in_any_spelling_keeps_the_checkpoints_code_from_running(
    folders: tuple[Path, Path], no: object
) -> None:
    """`trust_remote_code=no` (a string from the command line) is a no, not a truthy string."""
    _, remote = folders
    with pytest.raises(ModelLoadError, match=r"trust_remote_code=true"):
        HFModel(ModelSpec(name="hf", path=str(remote), args={"trust_remote_code": no}))


@pytest.mark.parametrize("unclear", ["nope", "maybe", "", 2, [True]])
def test_an_unclear_trust_remote_code_is_refused_in_one_line(
    folders: tuple[Path, Path], unclear: object
) -> None:
    _, remote = folders
    with pytest.raises(ModelLoadError) as caught:
        HFModel(ModelSpec(name="hf", path=str(remote), args={"trust_remote_code": unclear}))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"model 'hf': args.trust_remote_code must be true or false, not {unclear!r}"
    )


def test_a_yes_in_any_spelling_is_the_opt_in(folders: tuple[Path, Path]) -> None:
    native, remote = folders
    for yes in ("yes", "on", "true", "1", "TRUE"):
        model = HFModel(ModelSpec(name="hf", path=str(remote), args={"trust_remote_code": yes}))
        assert model.identity()["trust_remote_code"] is True
    plain = HFModel(ModelSpec(name="hf", path=str(native), args={"trust_remote_code": "no"}))
    assert plain.identity()["trust_remote_code"] is False


def test_remote_code_model_answers_like_the_builtin_class(folders: tuple[Path, Path]) -> None:
    native, remote = folders
    theirs = HFModel(ModelSpec(name="hf", path=str(native), batch_size=2))
    mine = HFModel(
        ModelSpec(name="hf", path=str(remote), args={"trust_remote_code": True}, batch_size=2)
    )
    assert type(mine._loaded.model).__name__ == "RemoteLlavaForConditionalGeneration"
    got, want = mine.predict(requests()), theirs.predict(requests())
    assert [p.error for p in got] == [None] * 3
    assert [p.text for p in got] == [p.text for p in want]
    assert any(p.output_tokens for p in got)
    identity = mine.identity()
    assert identity["trust_remote_code"] is True and identity["family"] == "remote_llava"
    assert theirs.identity()["trust_remote_code"] is False


def test_a_checkpoint_lacking_weights_is_refused(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    native, _ = folders
    folder = tmp_path / "partial"
    shutil.copytree(native, folder)
    from safetensors.torch import load_file

    weights = load_file(folder / "model.safetensors")
    dropped = sorted(k for k in weights if "lm_head" in k)
    assert dropped
    save_file({k: v for k, v in weights.items() if k not in dropped}, folder / "model.safetensors")
    with pytest.raises(ModelLoadError, match=r"lacks 1 weight.*allow_missing_weights=true"):
        HFModel(ModelSpec(name="hf", path=str(folder)))
    model = HFModel(ModelSpec(name="hf", path=str(folder), args={"allow_missing_weights": True}))
    assert model.identity()["allow_missing_weights"] is True
