"""Two scripted lmms-eval model classes (simple and chat) that record what the bridge sends them,
registered in lmms-eval's model registry under `evalharness_fake`."""

from __future__ import annotations

from typing import Any, ClassVar

from lmms_eval.api.instance import GenerationResult, Instance, TokenCounts
from lmms_eval.api.model import lmms
from lmms_eval.protocol import ChatMessages

NAME = "evalharness_fake"


class FakeSimple(lmms):
    """Answers `<first word of the prompt>|<number of images>|<first image size>`."""

    calls: ClassVar[list[dict[str, Any]]] = []
    inits: ClassVar[list[dict[str, Any]]] = []

    def __init__(
        self,
        pretrained: str = "none",
        batch_size: int = 1,
        device: str = "cuda",
        device_map: str = "cuda",
        flag: bool = False,
    ) -> None:
        super().__init__()
        self.inits.append(
            {
                "pretrained": pretrained,
                "batch_size": batch_size,
                "device": device,
                "device_map": device_map,
                "flag": flag,
            }
        )

    def _answer(self, text: str, images: list[Any], gen: dict[str, Any]) -> str:
        self.calls.append({"text": text, "images": images, "gen": dict(gen)})
        gen.pop("until", None)  # lmms-eval models consume `until` from the dict they get
        size = images[0].size if images else None
        return f"{text.split()[0]}|{len(images)}|{size}"

    def generate_until(self, requests: list[Instance]) -> list[Any]:
        out = []
        for req in requests:
            text, gen, doc_to_visual, doc_id, task, split = req.args
            out.append(self._answer(text, doc_to_visual(self.task_dict[task][split][doc_id]), gen))
        return out

    def loglikelihood(self, requests: list[Instance]) -> list[tuple[float, bool]]:
        raise NotImplementedError

    def generate_until_multi_round(self, requests: list[Instance]) -> list[str]:
        raise NotImplementedError


class FakeChat(FakeSimple):
    """The chat flavour: reads `doc_to_messages`, reports token counts."""

    is_simple = False

    def generate_until(self, requests: list[Instance]) -> list[Any]:
        out = []
        for req in requests:
            _, doc_to_messages, gen, doc_id, task, split = req.args
            messages = ChatMessages(messages=doc_to_messages(self.task_dict[task][split][doc_id]))
            images, _, _ = messages.extract_media()
            said = messages.messages[-1].content[-1].text
            answer = self._answer(said, images, gen)
            out.append(GenerationResult(answer, TokenCounts(input_tokens=7, output_tokens=3)))
        return out


def register() -> None:
    from lmms_eval.models import MODEL_REGISTRY_V2
    from lmms_eval.models.registry_v2 import ModelManifest

    def path(cls: type) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    MODEL_REGISTRY_V2.register_manifest(
        ModelManifest(NAME, simple_class_path=path(FakeSimple), chat_class_path=path(FakeChat)),
        overwrite=True,
    )
