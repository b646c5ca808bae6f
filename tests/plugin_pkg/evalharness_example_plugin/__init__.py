"""An example plugin: a benchmark that lives outside evalharness and registers by entry point.

"Is the number of dots even?" on tiny images. It uses only evalharness's public API.
"""

from __future__ import annotations

from collections.abc import Sequence

from evalharness import (
    BaseBenchmark,
    GenerationSettings,
    ModelInfo,
    Prediction,
    RenderedImage,
    Sample,
    Scored,
    extract,
    version_string,
)


def _dots(n: int) -> RenderedImage:
    def render():  # type: ignore[no-untyped-def]
        from PIL import Image, ImageDraw

        img = Image.new("RGB", (32, 32), "white")
        draw = ImageDraw.Draw(img)
        for i in range(n):
            x = 4 + (i % 4) * 7
            y = 4 + (i // 4) * 7
            draw.ellipse((x, y, x + 4, y + 4), fill="black")
        return img

    return RenderedImage(key=f"dots:{n}", render=render)


class ParityBenchmark(BaseBenchmark):
    """Is the number of dots even? A plugin example."""

    name = "example_parity"
    capability = "counting"
    description = "Is the number of dots even? A plugin example."
    generation = GenerationSettings(max_new_tokens=4)

    def __init__(self, n: int = 12) -> None:
        self.n = n
        self.version = version_string("1", {"n": n}, "Is the number of dots even?")

    def samples(self) -> Sequence[Sample]:
        return [
            Sample(
                id=f"parity-{i:03d}",
                images=(_dots(i),),
                prompt="Is the number of dots even? Answer yes or no.",
                targets=("yes" if i % 2 == 0 else "no",),
                answer_space=("yes", "no"),
                category="parity",
                metadata={"dots": i},
            )
            for i in range(self.n)
        ]

    def score_open(self, sample: Sample, text: str) -> Scored:
        said = extract.yes_no(text)
        correct = float(said is not None and said == (sample.target == "yes"))
        return Scored(extracted=None if said is None else ("yes" if said else "no"), score=correct)


class ParrotModel:
    """Answers from the sample's target, wrong on every third sample; `args.delay` seconds per batch;
    with `args.fail=N`, every Nth sample is an error.

    A deterministic stand-in for a slow model, for resume and crash tests.
    """

    capabilities = frozenset({"generate"})
    reference = False

    def __init__(self, spec) -> None:  # type: ignore[no-untyped-def]
        self.spec = spec
        self.delay = float(spec.args.get("delay", 0.0))
        self.fail = int(spec.args.get("fail", 0))

    def identity(self) -> dict[str, object]:
        # everything that can change an answer (part of the run key); `delay` and `fail` are
        # left out: they change how long it takes and what fails, not what it says
        return {"name": "example_parrot"}

    def info(self) -> ModelInfo:
        # what the board shows (not part of the run key)
        return ModelInfo(family_group="generative", params=1)

    def predict(self, requests):  # type: ignore[no-untyped-def]
        import time

        time.sleep(self.delay)
        out = []
        for r in requests:
            i = int(r.sample.id.rsplit("-", 1)[1])
            if self.fail and i % self.fail == self.fail - 1:
                out.append(Prediction.from_exception(RuntimeError("the parrot lost its voice")))
            elif i % 3 == 2:
                out.append(Prediction(text="Maybe."))
            else:
                out.append(Prediction(text=f"{r.sample.target.capitalize()}."))
        return out
