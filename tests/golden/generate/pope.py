"""Regenerates tests/golden/pope.json from the official code: python pope.py SRC OUT, where SRC holds
the official repositories checked out at the commits the file records (see ../README.md)."""

# ruff: noqa  (a reproduction script, kept as it was run)
import json
import os
import random
import subprocess
import sys
import tempfile

SRC, OUT = sys.argv[1], sys.argv[2]
# the script reads two file names it leaves empty: they are filled in, nothing else changes
src = open(f"{SRC}/POPE/evaluate.py").read()
src = src.replace("ans_file = ''", "ans_file = sys.argv[1]").replace(
    "label_file = ''", "label_file = sys.argv[2]"
)
src = "import sys\n" + src
RUNNER = os.path.join(tempfile.mkdtemp(), "pope_eval_run.py")
open(RUNNER, "w").write(src)
rng = random.Random(16)
REPLIES = [
    "Yes",
    "No",
    "yes",
    "no",
    "No.",
    "Yes.",
    "no.",
    "No, there is not.",
    "Yes, there is a dog.",
    "There is no dog.",
    "I do not see one.",
    "I don't see one.",
    "Not sure.",
    "not",
    "NO",
    "nope",
    "",
    " ",
    "no\n",
    "No!",
    "No,",
    "no,",
    "Yes. No.",
    "Yes, no doubt.",
    "Well. No.",
    "No dog is present",
    "There is not a cat.",
    "Nothing",
    "none",
    "N/A",
    "Nein",
    "no.\nyes",
    "\nno",
    "yes\nno",
    "Non",
    "The answer is no",
    "The answer is yes",
    "Absolutely not",
    "no doubt",
    "Cannot tell",
    "it's not there",
    "“No”",
    "no…",
    "No\u00a0there isn't",
    "no there isn't",
    "Yes, it is not hidden.",
    "YES",
    "Y",
    "not.",
    "Definitely, not",
    "Sure",
    "1",
    "0",
    "No one knows",
    "Noo",
    "no-one",
    "yes,no",
    "no,yes",
    "No? yes",
]


def run(pairs):
    with tempfile.TemporaryDirectory() as d:
        a, l = os.path.join(d, "a.jsonl"), os.path.join(d, "l.jsonl")
        open(a, "w").write("".join(json.dumps({"answer": r}) + "\n" for r, _ in pairs))
        open(l, "w").write("".join(json.dumps({"label": y}) + "\n" for _, y in pairs))
        p = subprocess.run([sys.executable, RUNNER, a, l], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    out = {"stdout": p.stdout}
    if len(lines) >= 2:
        tp, fp, tn, fn = (int(x) for x in lines[1].split("\t"))
        out.update(tp=tp, fp=fp, tn=tn, fn=fn)
    for line in lines[2:]:
        k, _, v = line.partition(": ")
        out[k] = float(v)
    if p.returncode != 0:
        out["error"] = p.stderr.strip().splitlines()[-1]
    return out


replies = []
for r in REPLIES:
    o = run([(r, "yes")])
    replies.append({"reply": r, "official_no": o["tp"] == 0})
sets = []
for k in range(30):
    n = rng.randint(1, 40)
    pairs = [(rng.choice(REPLIES), rng.choice(["yes", "no"])) for _ in range(n)]
    if k == 0:
        pairs = [("No", "yes"), ("no.", "no"), ("it is not", "yes")]  # nothing read as yes
    if k == 1:
        pairs = [("Yes", "no"), ("yes", "no")]  # no true positive: F1 divides by zero
    o = run(pairs)
    o.pop("stdout")
    sets.append({"replies": [r for r, _ in pairs], "labels": [y for _, y in pairs], "official": o})
json.dump(
    {
        "script": "AoiDragon/POPE evaluate.py",
        "commit": "08d957b917e5a378a2f99d35b6293c536a66298b",
        "replies": replies,
        "sets": sets,
    },
    open(f"{OUT}/pope.json", "w"),
    ensure_ascii=False,
    indent=0,
)
print(
    sum(r["official_no"] for r in replies),
    len(replies),
    [s["official"].get("error") for s in sets[:3]],
)
