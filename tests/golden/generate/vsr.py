"""Regenerates tests/golden/vsr.json from the official code: python vsr.py SRC OUT, where SRC holds
the official repository checked out at the commit the file records (see ../README.md), run with
scikit-learn 1.5.1 (the release current at that commit; the repository pins none).

The scorer reads the results files' `true_false_probabilities` (the pair the model wrappers
normalised, float32 values as Python floats) and `ground_truth_answer`. Each case's verdict is
the scorer's accuracy on the case and one anchor case it gets right, of the other label:
2 * accuracy - 1."""

# ruff: noqa  (a reproduction script, kept as it was run)
import importlib.util
import json
import random
import sys
import types

import numpy as np

SRC, OUT = sys.argv[1], sys.argv[2]
# the module's heavy imports are not needed to score: stand-ins
for name in [
    "jsonlines",
    "torch",
    "torch.utils",
    "torch.utils.data",
    "torchvision",
    "torchvision.transforms",
    "PIL",
    "PIL.Image",
    "tqdm",
    "vlm_eval",
    "vlm_eval.overwatch",
    "vlm_eval.tasks",
    "vlm_eval.tasks.registry",
    "vlm_eval.util",
    "vlm_eval.util.interfaces",
]:
    sys.modules[name] = types.ModuleType(name)
data = sys.modules["torch.utils.data"]
data.DataLoader = data.Dataset = data.DistributedSampler = object
sys.modules["torch"].Tensor = object
sys.modules["torchvision.transforms"].Compose = object
sys.modules["PIL"].Image = sys.modules["PIL.Image"]
sys.modules["tqdm"].tqdm = lambda x, **k: x
sys.modules["vlm_eval.overwatch"].initialize_overwatch = lambda name: types.SimpleNamespace(
    info=lambda *a, **k: None
)
sys.modules["vlm_eval.tasks.registry"].DATASET_REGISTRY = {}
sys.modules["vlm_eval.util.interfaces"].VLM = sys.modules[
    "vlm_eval.util.interfaces"
].ImageProcessor = object
spec = importlib.util.spec_from_file_location(
    "vsr_harness", f"{SRC}/vlm-evaluation/vlm_eval/tasks/harnesses/vsr.py"
)
vsr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vsr)


def score(examples):
    """The scorer's metrics, or the exception it raised."""
    pairs = {str(i): dict(e, example_id=i) for i, e in enumerate(examples)}
    scorer = vsr.VSRScorer("vsr-full", None, pairs, None)
    try:
        m = scorer.score("model")
    except Exception as exc:
        return {"raises": f"{type(exc).__name__}: {exc}"}
    return {
        "accuracy": m["accuracy__VSR-ExactMatch"],
        "roc_auc": m["auc-roc"],
        "pr_auc": m["auc-pr"],
    }


def pair(true_logit, false_logit, rest):
    """The wrappers' pair from a first-step logit vector: softmax over the vocabulary, then
    normalised over the two, in float32 (numpy here, torch there)."""
    logits = np.array([true_logit, false_logit, *rest], dtype=np.float32)
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    two = probs[:2]
    return (two / two.sum()).tolist()


rng = random.Random(7)


def realistic():
    rest = [rng.gauss(0, 3) for _ in range(30)]
    return pair(rng.gauss(2, 4), rng.gauss(2, 4), rest)


SPECIAL = [
    [0.5, 0.5],  # a tie: True
    [0.5000000596046448, 0.4999999403953552],  # float32 neighbours of one half
    [0.4999999403953552, 0.5000000596046448],
    [0.3, 0.3],  # a tie of an unnormalised pair
    [1.0, 0.0],
    [0.0, 1.0],
    [1e-30, 1.0],
    [1.0, 1e-30],
    [1e-45, 0.0],  # a subnormal against nothing
    [0.0, 0.0],  # both nothing: a tie, True
    [0.7, 0.30000001192092896],
    [0.9999999403953552, 5.960464477539063e-08],
]

# per-case verdicts: each special and realistic pair, with either label, beside an anchor
cases = []
for p in SPECIAL + [realistic() for _ in range(60)]:
    for label in (True, False):
        anchor = {
            "true_false_probabilities": [0.1, 0.9] if label else [0.9, 0.1],
            "ground_truth_answer": not label,
        }
        case = {"true_false_probabilities": p, "ground_truth_answer": label}
        out = score([case, anchor])
        cases.append({**case, "official": 2 * out["accuracy"] - 1})

runs = []


def add(name, examples):
    runs.append({"name": name, "examples": examples, "official": score(examples)})


def ex(p, label):
    return {"true_false_probabilities": p, "ground_truth_answer": label}


for k in range(8):  # realistic runs
    add(f"random-{k}", [ex(realistic(), rng.random() < 0.5) for _ in range(rng.randrange(5, 60))])
for k in range(4):  # few distinct probabilities: ties within and across the labels
    values = [rng.choice([0.1, 0.25, 0.5, 0.75, 0.9]) for _ in range(40)]
    add(f"ties-{k}", [ex([v, 1 - v], rng.random() < 0.5) for v in values])
add("every pair a tie", [ex([0.5, 0.5], i % 3 == 0) for i in range(12)])
add("near ties", [ex(p, i % 2 == 0) for i, p in enumerate(SPECIAL[:4] * 3)])
add("specials", [ex(p, i % 3 != 0) for i, p in enumerate(SPECIAL * 2)])
add(
    "all predicted True",
    [ex([0.6 + 0.03 * (i % 10), 0.4 - 0.03 * (i % 10)], i % 4 != 0) for i in range(20)],
)
add(
    "all predicted False",
    [ex([0.1 + 0.03 * (i % 10), 0.9 - 0.03 * (i % 10)], i % 4 != 0) for i in range(20)],
)
add("perfect", [ex([0.8, 0.2], True), ex([0.2, 0.8], False)] * 5)
add("inverted", [ex([0.2, 0.8], True), ex([0.8, 0.2], False)] * 5)
add("one of each", [ex([0.3, 0.7], True), ex([0.6, 0.4], False)])
add("only true captions", [ex(realistic(), True) for _ in range(10)])
add("only false captions", [ex(realistic(), False) for _ in range(10)])
add("one caption", [ex([0.7, 0.3], True)])

json.dump(
    {
        "script": "TRI-ML/vlm-evaluation vlm_eval/tasks/harnesses/vsr.py (VSRScorer.score), scikit-learn 1.5.1",
        "commit": "d9f58967de7f62371ee068dbfa07878cdaef5607",
        "cases": cases,
        "runs": runs,
    },
    open(f"{OUT}/vsr.json", "w"),
    indent=0,
)
print(len(cases), "cases;", [(r["name"], r["official"]) for r in runs[-6:]])
