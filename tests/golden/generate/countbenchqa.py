"""Regenerates tests/golden/countbenchqa.json from the official code: python countbenchqa.py SRC OUT, where SRC holds
the official repositories checked out at the commits the file records (see ../README.md)."""

# ruff: noqa  (a reproduction script, kept as it was run)
import importlib.util
import json
import random
import sys
import types

SRC, OUT = sys.argv[1], sys.argv[2]
for name in [
    "moondream",
    "moondream.torch",
    "moondream.torch.config",
    "moondream.torch.moondream",
    "moondream.torch.weights",
    "moondream.eval",
]:
    m = types.ModuleType(name)
    m.__path__ = []
    sys.modules[name] = m
sys.modules["moondream.torch.config"].MoondreamConfig = object
sys.modules["moondream.torch.moondream"].MoondreamModel = object
sys.modules["moondream.torch.weights"].load_weights_into_model = None
rng = random.Random(16)
REPLIES = [
    "3",
    " 3 ",
    "3\n",
    "three",
    "Three",
    "3.",
    "There are 3 apples.",
    "03",
    "3.0",
    "",
    " ",
    "10",
    "ten",
    "1 0",
    "2",
    "II",
    "３",
    "3 apples",
    "three (3)",
    "\t7",
    "7!",
    "seven",
    "Seven.",
    "4",
    "four",
    "5",
    "The answer is 5",
    "5\n\n",
    "６",
    "9",
    "nine",
    "8",
    "eight",
    "2.",
    "Two",
]
cases = []
for i in range(300):
    number = rng.randint(2, 10)
    cases.append({"number": number, "reply": rng.choice(REPLIES + [str(number)] * 6)})
rows = [{"image": None, "question": "How many?", "number": c["number"]} for c in cases]
ds = types.ModuleType("datasets")
ds.load_dataset = lambda *a, **k: rows
sys.modules["datasets"] = ds
tq = types.ModuleType("tqdm")
tq.tqdm = lambda x, **k: x
sys.modules["tqdm"] = tq
sys.modules.setdefault("torch", types.ModuleType("torch"))
spec = importlib.util.spec_from_file_location(
    "moondream.eval.countbenchqa", f"{SRC}/moondream/moondream/eval/countbenchqa.py"
)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)


class Fake:
    i = 0

    def encode_image(self, image):
        return None

    def query(self, enc, question):
        r = cases[self.i]["reply"]
        self.i += 1
        return {"answer": r}


out = mod.eval_countbenchqa(Fake())
for c, r in zip(cases, out["results"]):
    c["official"] = float(r["is_correct"])
json.dump(
    {
        "script": "vikhyat/moondream moondream/eval/countbenchqa.py (eval_countbenchqa)",
        "commit": "44146f139242dacdf7c02b799e68097424a31036",
        "accuracy_percent": out["acc"],
        "cases": cases,
    },
    open(f"{OUT}/countbenchqa.json", "w"),
    ensure_ascii=False,
    indent=0,
)
print(out["acc"], out["correct_count"])
