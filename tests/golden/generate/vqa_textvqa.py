"""Regenerates tests/golden/vqa_eval.json and textvqa_mmf.json from the official code: python vqa_textvqa.py SRC OUT, where SRC holds
the official repositories checked out at the commits the file records (see ../README.md)."""

# ruff: noqa  (a reproduction script, kept as it was run)
import contextlib
import importlib.util
import io
import json
import random
import re
import sys

SRC, OUT = sys.argv[1], sys.argv[2]
# vqaEval.py is Python 2: its two print statements are made calls before it runs
code = open(f"{SRC}/VQA/PythonEvaluationTools/vqaEvaluation/vqaEval.py", encoding="utf-8").read()
code = re.sub(r'print "(.*)"', r'print("\1")', code)
space = {}
exec(compile(code, "vqaEval.py", "exec"), space)
VQAEval = space["VQAEval"]
spec = importlib.util.spec_from_file_location("m4c", f"{SRC}/mmf/mmf/utils/m4c_evaluators.py")
m4c = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m4c)
TextVQAAccuracyEvaluator = m4c.TextVQAAccuracyEvaluator
rng = random.Random(16)
ATOMS = [
    "yes",
    "Yes",
    "no",
    "No.",
    "2",
    "two",
    "Two",
    "ten",
    "10",
    "none",
    "0",
    "zero",
    "1,000",
    "1000",
    "3.5",
    "3.",
    "a dog",
    "the dog",
    "dog",
    "dogs",
    "an apple",
    "apple",
    "dont",
    "don't",
    "don’t",
    "im",
    "i'm",
    "ive",
    "whys",
    "why's",
    "Im",
    "somebody'd",
    "yall",
    "y'all",
    "it's",
    "its",
    "man's hat",
    "mans hat",
    "t-shirt",
    "t shirt",
    "tshirt",
    "red, white",
    "red white",
    "what?",
    "what",
    "left!",
    "left",
    "(left)",
    "left side",
    "",
    " ",
    "\n",
    "yes\n",
    "no\tway",
    "café",
    "cafe",
    "naïve",
    "東京",
    "😀",
    "a.b.c",
    "e.g.",
    "U.S.A.",
    "usa",
    "50%",
    "5:30",
    "5 30",
    "#1",
    "@home",
    "home",
    '"quoted"',
    "quoted",
    "x/y",
    "x y",
    "well-known",
    "wellknown",
    "o'clock",
    "oclock",
    "1,2",
    "1 2",
    "12",
    "....",
    "a " + "." * 40 + "b",
    "The Cat",
    "cat",
    "A",
    "the",
    "an",
    "one dog",
    "1 dog",
    "won't",
    "wont",
    "wouldnt've",
    "whats",
    "what's",
    "black and white",
    "black & white",
    "blue;green",
    "blue green",
    "[5]",
    "5",
    "{x}",
    "x",
    "back_pack",
    "back pack",
    "<b>",
    "b",
    "=",
    "+1",
    "1",
    "`tick`",
    "tick",
]


def answers10():
    kind = rng.random()
    if kind < 0.25:
        a = rng.choice(ATOMS)
        return [a] * 10  # unanimous
    pool = rng.sample(ATOMS, rng.randint(2, 4))
    return [rng.choice(pool) for _ in range(10)]


def prediction(gts):
    r = rng.random()
    if r < 0.4:
        return rng.choice(gts)
    if r < 0.5:
        return rng.choice(gts).upper()
    if r < 0.6:
        return rng.choice(gts) + rng.choice([".", "!", "\n", " ", ",", "?"])
    return rng.choice(ATOMS)


cases = []
for i in range(400):
    gts = answers10()
    cases.append({"prediction": prediction(gts), "answers": gts})


class Q:
    def __init__(self, qa):
        self.qa = qa

    def getQuesIds(self):
        return list(self.qa)


gts = {
    i: {
        "answers": [
            {"answer": a, "answer_id": k + 1, "answer_confidence": "yes"}
            for k, a in enumerate(c["answers"])
        ],
        "question_type": "what",
        "answer_type": "other",
    }
    for i, c in enumerate(cases)
}
res = {i: {"answer": c["prediction"]} for i, c in enumerate(cases)}


class Exact(VQAEval):
    raw = {}

    def setEvalQA(self, quesId, acc):
        self.raw[quesId] = acc
        super().setEvalQA(quesId, acc)

    def updateProgress(self, progress):
        pass


ev = Exact(Q(gts), Q(res))
with contextlib.redirect_stdout(io.StringIO()):
    ev.evaluate()
for i, c in enumerate(cases):
    c["official"] = ev.raw[i]
json.dump(
    {
        "script": "GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py",
        "commit": "a013f0043c1e2cdc995922dfe257f7149aa9af06",
        "overall_percent": ev.accuracy["overall"],
        "cases": cases,
    },
    open(f"{OUT}/vqa_eval.json", "w"),
    ensure_ascii=False,
    indent=0,
)

# TextVQA: MMF's evaluator, one question at a time (its accuracy is the mean of these)
tv = TextVQAAccuracyEvaluator()
tcases = []
for c in cases:
    score = tv.eval_pred_list([{"pred_answer": c["prediction"], "gt_answers": c["answers"]}])
    tcases.append({"prediction": c["prediction"], "answers": c["answers"], "official": score})
overall = tv.eval_pred_list(
    [{"pred_answer": c["prediction"], "gt_answers": c["answers"]} for c in cases]
)
json.dump(
    {
        "script": "facebookresearch/mmf mmf/utils/m4c_evaluators.py (TextVQAAccuracyEvaluator)",
        "commit": "b0ffc7fba39f210f833c127362146aec01a2f259",
        "overall": overall,
        "cases": tcases,
    },
    open(f"{OUT}/textvqa_mmf.json", "w"),
    ensure_ascii=False,
    indent=0,
)
print(len(cases), ev.accuracy["overall"], overall)
