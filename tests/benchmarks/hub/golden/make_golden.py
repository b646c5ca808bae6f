"""Regenerate the golden cases: run each benchmark's official evaluation code, unchanged, on
generated replies and write the inputs with the official outputs as JSON.

Not part of the test run. Put the official files in OFFICIAL_DIR (see README.md for sources and
commits; MME's `calculate_metrics` class saved as mme_calculation.py with `process_result`
returning its scores), in an environment with scikit-learn and Levenshtein, then:

    python make_golden.py OUTPUT_DIR OFFICIAL_DIR
"""

import ast
import contextlib
import importlib.util
import io
import json
import logging
import random
import re
import sys
import tempfile
from pathlib import Path

from Levenshtein import distance

OUT = Path(sys.argv[1])
OFF = Path(sys.argv[2])
OUT.mkdir(parents=True, exist_ok=True)
rng = random.Random(2026)


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def functions(path, names, namespace):
    """Only the named top-level functions of an official file, run in `namespace`."""
    tree = ast.parse(Path(path).read_text())
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), namespace)
    return namespace


def write(name, cases):
    (OUT / f"{name}.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
    print(
        name,
        len(cases)
        if isinstance(cases, list)
        else {k: len(v) if isinstance(v, list) else v for k, v in cases.items() if k != "scores"},
    )


# ---------------------------------------------------------------- MMMU
mmmu = load("mmmu_eval_utils", OFF / "mmmu_eval_utils.py")
mmmu.random.choice = lambda seq: "__RANDOM__"
OPTION_POOL = [
    "red",
    "blue",
    "A cat",
    "B-cell",
    "photosynthesis",
    "12",
    "12.5",
    "none of the above",
    "the first one",
    "Option C",
    "a",
    "increase",
    "decrease",
    "(D) all",
    "3/4",
    "x = 2",
]
MC_REPLIES = [
    "{L}",
    "({L})",
    "{L}.",
    "{l}",
    "The answer is {L}.",
    "Answer: ({L})",
    "{L}. {T}",
    "{T}",
    "I think the correct option is {T} because it fits.",
    "({L}) or ({M})",
    "{L} or {M}",
    "Both {L} and {M} look plausible here, but {M}",
    "",
    "None",
    "!?{L}.,",
    "'{L}'",
    "The image shows {T} and also {U} in the corner of the figure.",
    "{L}{M}",
    "Option {L} is wrong; the right one is {M}.",
    "{T} {L}",
    " {L} ",
    "{L}:",
    "E. none",
    "It is ({L}) for sure, not ({M})",
    "the answer must be {t} obviously here",
    "A B C D",
]
mc = []
for _ in range(300):
    n = rng.randint(2, 6)
    opts = rng.sample(OPTION_POOL, n)
    letters = [chr(65 + i) for i in range(n)]
    i, j, u = rng.randrange(n), rng.randrange(n), rng.randrange(n)
    reply = rng.choice(MC_REPLIES).format(
        L=letters[i], M=letters[j], l=letters[i].lower(), T=opts[i], t=opts[i].lower(), U=opts[u]
    )
    index2ans = {letters[x]: opts[x] for x in range(n)}
    parsed = mmmu.parse_multi_choice_response(reply, letters, index2ans)
    mc.append(
        {"reply": reply, "options": opts, "official": None if parsed == "__RANDOM__" else parsed}
    )
ANSWERS = [
    "3.5",
    "1,000",
    "24",
    "-2",
    "0.25",
    "photosynthesis",
    "a",
    "Paris",
    "2e3",
    "['24/7', '3.429']",
    "12 kg",
    "100%",
    "7",
]
OPEN_REPLIES = [
    "{A}",
    "The answer is {A}.",
    "so the result is {A}",
    "x = {A}",
    "It is {A}",
    "{A} units",
    "First we compute 2 + 3 = 5.\nTherefore the answer is {A}",
    "I think {A}. But maybe 7.",
    "the value is approximately 3.50",
    "therefore: 1000",
    "Final answer: 2,000",
    "answer is 2.0e3",
    "It could be photosynthesis or respiration",
    "A",
    "the answer is a",
    "",
    ".",
    "so .",
    "Paris is the capital. So Paris",
    "Result = -2.00",
    "24/7",
    "3.429 hours",
    "is 0.250 so",
    "The probability is 25%",
    "12 kg is the mass",
    "final 7.0",
    "7 is it",
    "not sure",
]
opn = []
for _ in range(300):
    answer = rng.choice(ANSWERS)
    shown = answer if not answer.startswith("[") else rng.choice(ast.literal_eval(answer))
    reply = rng.choice(OPEN_REPLIES).format(A=shown)
    gold = ast.literal_eval(answer) if answer.startswith("[") else answer
    parsed = mmmu.parse_open_response(reply)
    opn.append(
        {
            "reply": reply,
            "answer": answer,
            "parsed": sorted(repr(p) for p in parsed),
            "official": bool(mmmu.eval_open(gold, parsed)),
        }
    )
write("mmmu", {"choice": mc, "open": opn})

# ---------------------------------------------------------------- MME
mme = load("mme_calculation", OFF / "mme_calculation.py")
TASKS = mme.eval_type_dict["Perception"] + mme.eval_type_dict["Cognition"]
MME_REPLIES = [
    "Yes",
    "No",
    "yes.",
    "no.",
    "Yes, there is.",
    "No, it is not.",
    "NO",
    "YES",
    " yes",
    "  yes",
    "Not sure",
    "nope",
    "The answer is yes",
    "y",
    "n",
    "",
    "Yesterday",
    "no, yes",
    "Noo",
    "Yes.",
    "I don't know",
    "None",
    "nothing",
    "yes no",
    "On the left",
    "Y",
    "eyes",
    "know",
]
items = []
with tempfile.TemporaryDirectory() as d:
    for task in TASKS:
        lines = []
        for img in range(rng.randint(3, 8)):
            for q in range(2):
                gt = rng.choice(["Yes", "No"])
                reply = rng.choice(MME_REPLIES)
                name = f"{task}_{img:03d}.png"
                items.append(
                    {
                        "category": task,
                        "image": name,
                        "question": f"Is it {q}? Please answer yes or no.",
                        "answer": gt,
                        "reply": reply,
                    }
                )
                lines.append(f"{name}\t{items[-1]['question']}\t{gt}\t{reply}\n")
        Path(d, task + ".txt").write_text("".join(lines))
    import warnings

    warnings.simplefilter("ignore")
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        result = mme.calculate_metrics().process_result(d)
scores = {
    "perception": result["Perception"][0],
    "cognition": result["Cognition"][0],
    "tasks": {**result["Perception"][1], **result["Cognition"][1]},
}
write("mme", {"items": items, "scores": scores})

# ---------------------------------------------------------------- OCRBench
src = (OFF / "ocrbench_example.py").read_text()
start = src.index("    for i in range(len(data)):\n        data_type")
end = src.index("    save_json(data")
loop = "\n".join(line[4:] for line in src[start:end].splitlines())
tail_start = src.index("    if len(data)==1000:")
tail_end = src.index("    else:\n        for i in range(len(data)):\n            num_all")
tail = "\n".join(line[4:] for line in src[tail_start:tail_end].splitlines())
namespace = {}
exec(src[: src.index("def eval_worker")], namespace)  # the score tables
TYPES = {
    "Regular Text Recognition": ["IIIT5K"],
    "Irregular Text Recognition": ["svt"],
    "Artistic Text Recognition": ["WordArt"],
    "Handwriting Recognition": ["IAM"],
    "Digit String Recognition": ["ORAND"],
    "Non-Semantic Text Recognition": ["NonSemanticText"],
    "Scene Text-centric VQA": ["textVQA", "STVQA"],
    "Doc-oriented VQA": ["docVQA"],
    "Key Information Extraction": ["FUNSD"],
    "Handwritten Mathematical Expression Recognition": ["HME100k"],
}
COUNTS = [50] * 6 + [200, 200, 200, 100]
WORDS = [
    "CENTRE",
    "Friend",
    "coca cola",
    "12:30",
    "New\nYork",
    "x^{2} + 1",
    "\\frac { a } { b }",
    "",
    "a b",
    "Stop",
]
data = []
for (kind, sets), count in zip(TYPES.items(), COUNTS, strict=True):
    for _ in range(count):
        ds = rng.choice(sets)
        ans = [rng.choice(WORDS) for _ in range(rng.randint(1, 2))]
        answers = ans if rng.random() < 0.7 else ans[0]
        base = ans[0]
        reply = rng.choice(
            [
                base,
                base.lower(),
                base.upper(),
                f"The text says {base}.",
                base.replace(" ", ""),
                base.replace("\n", " "),
                f"  {base}\n",
                "something else",
                "",
                base[:-1],
                f"{base}!".swapcase(),
            ]
        )
        data.append(
            {
                "dataset_name": ds,
                "id": len(data),
                "question": "what is written in the image?",
                "answers": answers,
                "type": kind,
                "predict": reply,
            }
        )
ns = {**namespace, "data": data}

buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    exec(loop, ns)
    exec(tail, ns)
final = re.search(r"Final Score\(Total 1000\): (\d+)", buf.getvalue()).group(1)
write(
    "ocrbench",
    {
        "items": [
            {k: d[k] for k in ("dataset_name", "answers", "type", "predict")}
            | {"official": d.get("result")}
            for d in data
        ],
        "scores": {"final": int(final), "types": dict(ns["OCRBench_score"])},
    },
)

# ---------------------------------------------------------------- ChartQA
p2s = functions(
    OFF / "pix2struct_metrics.py",
    {"relaxed_correctness"},
    {"Optional": __import__("typing").Optional},
)
TARGETS = [
    "12",
    "12.5",
    "0",
    "0.0",
    "45%",
    "1000",
    "-3",
    "Yes",
    "no",
    "Republican",
    "2019",
    "nan",
    "inf",
    "1e3",
    "0.45",
    "[1, 2]",
    "17.3",
]
PREDS = [
    "12",
    "12.6",
    "13",
    "11.4",
    "12.0",
    "12.",
    " 12",
    "12 ",
    "45",
    "0.45",
    "45%",
    "46%",
    "44.9%",
    "0",
    "0.0",
    "-0",
    "1000",
    "1,000",
    "1050",
    "1051",
    "yes",
    "YES",
    "No",
    "republican",
    "Republican party",
    "2019",
    "2020",
    "nan",
    "inf",
    "1e3",
    "1E3",
    "",
    "%",
    "12%",
    "-3",
    "-3.1",
    "3",
    "1_000",
    "[1, 2]",
    "17.3",
    "16.5",
    "18.165",
    "18.17",
]
chart = []
for target in TARGETS:
    for pred in rng.sample(PREDS, 18):
        chart.append(
            {
                "reply": pred,
                "answer": target,
                "official": bool(p2s["relaxed_correctness"](target, pred)),
            }
        )
write("chartqa", chart)

# ---------------------------------------------------------------- MathVista

mv_ns = {"re": re, "logging": logging, "distance": distance, "demo_prompt": "examples"}
functions(OFF / "mathvista_extract_answer.py", {"extract_answer", "create_test_prompt"}, mv_ns)
functions(
    OFF / "mathvista_calculate_score.py",
    {"get_most_similar", "normalize_extracted_answer", "safe_equal"},
    mv_ns,
)


class Judge:
    def get_response(self, user_prompt):
        return "__JUDGE__"


logging.disable(logging.CRITICAL)
PROBLEMS = [
    ("multi_choice", "text", ["red", "blue", "green", "yellow"], None, "blue"),
    ("multi_choice", "text", ["3", "4", "5"], None, "4"),
    ("multi_choice", "text", ["(A) 1", "12 cm", "12 m", "120 cm"], None, "12 cm"),
    ("free_form", "integer", [], None, "12"),
    ("free_form", "integer", [], None, "-3"),
    ("free_form", "float", [], 1.0, "1.5"),
    ("free_form", "float", [], 2.0, "0.25"),
    ("free_form", "list", [], None, "[1, 2, 3]"),
]
MV_REPLIES = [
    "{ans}",
    "({L})",
    "{L}",
    "{l}",
    "(B) blue",
    'The answer is "{ans}".',
    "The answer is {ans}.",
    "",
    "12",
    "12.0",
    " 12",
    "1.5",
    "1.50",
    "1.549",
    "1.45",
    "0.25",
    "0.254",
    "1e1",
    "nan",
    "inf",
    'The answer is "B".',
    'The answer is "(C)".',
    "blu",
    "Blue",
    "green.",
    "about 12",
    "[1, 2, 3]",
    'The answer is "[1, 2, 3]".',
    "-3",
    "−3",
    'The answer is "12". Done',
    "4",
    'The answer is "".',
    "3.0",
    "0.2",
    "x",
    "(b)",
    "(Z)",
    'The answer is "1.5" and "2".',
]
mv = []
for qtype, atype, choices, precision, answer in PROBLEMS:
    for template in MV_REPLIES:
        idx = rng.randrange(len(choices)) if choices else 0
        reply = template.format(ans=answer, L=chr(65 + idx), l=chr(97 + idx))
        problem = {
            "question_type": qtype,
            "answer_type": atype,
            "choices": choices or None,
            "query": "Q",
            "pid": "1",
        }
        for quick in (True, False):
            extraction = mv_ns["extract_answer"](Judge(), reply, problem, quick_extract=quick)
            case = {
                "reply": reply,
                "question_type": qtype,
                "answer_type": atype,
                "choices": choices,
                "precision": precision,
                "answer": answer,
                "quick_extract": quick,
            }
            if extraction == "__JUDGE__":
                case |= {"official_route": "judge", "official": None, "normalized": None}
            else:
                normalized = mv_ns["normalize_extracted_answer"](
                    extraction, choices, qtype, atype, precision
                )
                case |= {
                    "official_route": "rule",
                    "normalized": normalized,
                    "official": bool(mv_ns["safe_equal"](normalized, answer)),
                }
            mv.append(case)
write("mathvista", mv)
