"""Regenerates tests/golden/docvqa_anls.json from the official code: python docvqa_anls.py SRC OUT, where SRC holds
the official repositories checked out at the commits the file records (see ../README.md)."""

# ruff: noqa  (a reproduction script, kept as it was run)
import importlib.util
import json
import os
import random
import sys
import tempfile
import types

SRC, OUT = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location(
    "rrc", f"{SRC}/Qwen-VL/eval_mm/infographicsvqa_eval.py"
)
rrc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rrc)
rng = random.Random(16)
WORDS = [
    "paris",
    "Paris",
    "  Paris ",
    "PARIS",
    "parís",
    "straße",
    "STRASSE",
    "İstanbul",
    "istanbul",
    "$1,250.00",
    "1250",
    "1,250",
    "12/03/1998",
    "March 12, 1998",
    "the total",
    "total",
    "Total:",
    "abcd",
    "abce",
    "ab",
    "abxy",
    "a",
    "b",
    "",
    " ",
    "\n",
    "line\nbreak",
    "line break",
    "N/A",
    "none",
    "ﬁnance",
    "finance",
    "Dr. Smith",
    "dr smith",
    "Smith",
    "42",
    "forty-two",
    "ITC Limited",
    "itc ltd",
    "x" * 10,
    "x" * 5,
    "abcdefgh",
    "abcdwxyz",
    "tab\there",
    "東京",
    "東京都",
    "😀 smile",
    "smile",
]
cases = []
for i in range(300):
    answers = rng.sample(WORDS, rng.randint(1, 3))
    r = rng.random()
    if r < 0.3:
        pred = rng.choice(answers)
    elif r < 0.4:
        pred = "  " + rng.choice(answers).upper() + "  "
    else:
        pred = rng.choice(WORDS)
    cases.append({"prediction": pred, "answers": answers})
# similarity of exactly one half: "abcd" against "abxy" (2 edits of 4), "ab" against "a"
cases += [
    {"prediction": "abxy", "answers": ["abcd"]},
    {"prediction": "a", "answers": ["ab"]},
    {"prediction": "abcdwxyz", "answers": ["abcdefgh"]},
]
gt = {
    "dataset_name": "golden",
    "data": [
        {"questionId": i, "question": "q", "answers": c["answers"]} for i, c in enumerate(cases)
    ],
}
sub = [{"questionId": i, "answer": c["prediction"]} for i, c in enumerate(cases)]
d = tempfile.mkdtemp()
g, s = os.path.join(d, "gt.json"), os.path.join(d, "sub.json")
json.dump(gt, open(g, "w"))
json.dump(sub, open(s, "w"))
args = types.SimpleNamespace(anls_threshold=0.5, answer_types=False)
res = rrc.evaluate_method(g, s, args)
for i, c in enumerate(cases):
    c["official"] = res["per_sample_result"][str(i)]["score"]
json.dump(
    {
        "script": "QwenLM/Qwen-VL eval_mm/infographicsvqa_eval.py (the RRC's DocVQA/InfographicVQA evaluation)",
        "commit": "aa00ed04091eea5fcdd32985e7915f1c53e7d599",
        "overall": res["result"]["score"],
        "cases": cases,
    },
    open(f"{OUT}/docvqa_anls.json", "w"),
    ensure_ascii=False,
    indent=0,
)
print(len(cases), res["result"]["score"], sum(c["official"] == 0.5 for c in cases))
