"""Regenerates tests/golden/hallusionbench_judge.json from the official code: python hallusionbench_judge.py SRC OUT,
where SRC holds the official repositories checked out at the commits the file records (see ../README.md).

Runs the script's `evaluate_by_chatgpt` with openai's ChatCompletion replaced by a scripted judge
that records each prompt and answers with a given reply: the cases keep the prompt sent and the
verdict the script read from the reply; the runs add `assign_correctness`, `get_eval_all`,
`get_eval_pair_all` and `get_eval_fig` on the judged rows."""

# ruff: noqa  (a reproduction script, kept as it was run)
import copy
import json
import random
import sys
import tempfile
import types

SRC, OUT = sys.argv[1], sys.argv[2]
sys.path.insert(0, f"{SRC}/HallusionBench")
for name in ["openai", "prettytable", "tqdm"]:
    m = types.ModuleType(name)
    sys.modules[name] = m
sys.modules["prettytable"].PrettyTable = object
sys.modules["tqdm"].tqdm = lambda x, **k: x

sent = []


class Judge:
    """openai.ChatCompletion as the script calls it: records the prompt and answers with the
    reply `answer(prompt)` gives."""

    answer = staticmethod(lambda prompt: "")

    @staticmethod
    def create(model, messages, api_key, request_timeout):
        prompt = messages[0]["content"]
        sent.append({"model": model, "prompt": prompt})
        return {"choices": [{"message": {"content": Judge.answer(prompt)}}]}


sys.modules["openai"].ChatCompletion = Judge
import utils

SAVE = tempfile.mkdtemp(prefix="hallusionbench-judge-") + "/out.json"

JUDGE_REPLIES = [
    "correct",
    "Correct",
    "Correct.",
    "CORRECT",
    "\u201ccorrect\u201d",
    " correct \n",
    "incorrect",
    "Incorrect.",
    "INCORRECT",
    "\u201cincorrect\u201d",
    "unclear",
    "Unclear.",
    "",
    "   ",
    "\n",
    "not correct",
    "It is correct, not incorrect.",
    "Correctly answered",
    "incorrectly",
    "corrected",
    "uncertain",
    "wrong",
    "right",
    "yes",
    "no",
    "1",
    "0",
    "The prediction is correct.",
    "The prediction answer is Incorrect\nbecause it conflicts",
    "Output: correct",
    "unclear, though leaning correct",
    "in-correct",
    "inCORRECT",
    "cor rect",
    "Richtig",
    "corr\u00e9ct",
    "c\u043errect",
    "\u0130NCORRECT",
    "\uff23\uff2f\uff32\uff32\uff25\uff23\uff34",
]
PREDICTIONS = [
    "Yes",
    "No.",
    "",
    "I cannot tell.",
    "Yes, the left line is longer.",
    "no\n",
    "No, according to the chart, {it} is not.",
    "\u201cYes\u201d \u2014 clearly",
    "N/A",
    "Yes\r\nNo",
    "  yes  ",
    "\u00fcber: ja",
    "It is incorrect to say so.",
]
QUESTIONS = [
    "Is the left line longer than the right line?",
    "Is China, Hongkong SAR, the leading importing country of gold in 2018?",
    "Does the {brace} stay as it is?",
    "Multi\nline question?",
    "",
]
DETAILS = [
    "Both lines have the same length.",
    "Switzerland is the leading importing country of gold in 2018?",
    "",
    'Yes: \u201cquoted\u201d and "straight".',
]

rng = random.Random(17)


cases = []
for i, reply in enumerate(JUDGE_REPLIES + [rng.choice(JUDGE_REPLIES) for _ in range(23)]):
    row = {
        "question": f"{rng.choice(QUESTIONS)} (item {i})",
        "gt_answer_details": rng.choice(DETAILS),
        "model_prediction": rng.choice(PREDICTIONS),
    }
    sent.clear()
    Judge.answer = staticmethod(lambda prompt, reply=reply: reply)
    [out] = utils.evaluate_by_chatgpt(
        [dict(row)], "model_prediction", "verdict", load_json=False, save_json_path=SAVE
    )
    [call] = sent
    cases.append(
        {
            "question": row["question"],
            "gt_answer_details": row["gt_answer_details"],
            "prediction": row["model_prediction"],
            "judge_reply": reply,
            "prompt": call["prompt"],
            "judge_model": call["model"],
            "verdict": out["verdict"],
        }
    )

runs = []
attempts = 0
while len(runs) < 20 and attempts < 500:
    attempts += 1
    data = []
    for cat in ("VD", "VS"):
        for set_id in range(rng.randint(1, 3)):
            sub = rng.choice(["chart", "map", "illusion"])
            figures = rng.randint(1, 3)
            questions = rng.randint(1, 3)
            for fig in range(figures):
                for q in range(questions):
                    visual = "0" if (cat == "VS" and fig == 0) else ("1" if fig == 0 else "2")
                    question = f"{cat} {sub} set {set_id} figure {fig}: is question {q} true?"
                    prediction = rng.choice(PREDICTIONS)
                    details = rng.choice(DETAILS)
                    reply = rng.choice(JUDGE_REPLIES)
                    data.append(
                        {
                            "category": cat,
                            "subcategory": sub,
                            "set_id": str(set_id),
                            "figure_id": str(fig),
                            "question_id": str(q),
                            "visual_input": visual,
                            "question": question,
                            "gt_answer_details": details,
                            "gt_answer": rng.choice(["0", "1"]),
                            "model_prediction": prediction,
                            "judge_reply": reply,
                            "same": rng.choice(["0", "1"]),
                        }
                    )
    # each row's prompt is unique (its question names it): the judge answers it with its reply
    sent.clear()
    Judge.answer = staticmethod(
        lambda prompt, data=data: next(
            r["judge_reply"] for r in data if "Question:" + r["question"] + "\n" in prompt
        )
    )
    work = utils.evaluate_by_chatgpt(
        copy.deepcopy(data), "model_prediction", "verdict", load_json=False, save_json_path=SAVE
    )
    assert len(sent) == len(data)
    work = utils.assign_correctness(work, "verdict")
    try:
        a = utils.get_eval_all(work, "verdict")
        q = utils.get_eval_pair_all(work, "verdict")
        f = utils.get_eval_fig(work)
    except AssertionError:
        continue  # the script's own consistency assert fails on this draw: not a golden case
    runs.append(
        {
            "rows": [{k: v for k, v in r.items()} for r in data],
            "verdicts": [r["verdict"] for r in work],
            "official": {
                "aAcc": a["correct"] / a["total"],
                "qAcc": q["correct"] / q["total"],
                "fAcc": f["correct"] / f["total"],
            },
        }
    )
json.dump(
    {
        "script": "tianyi-lab/HallusionBench utils.py (evaluate_by_chatgpt, assign_correctness, get_eval_all, get_eval_pair_all, get_eval_fig)",
        "commit": "744007c232c292942c7f80eb61edb2465482da31",
        "judge": "openai.ChatCompletion.create replaced by a scripted judge answering judge_reply; verdict: the script's code, 0 wrong, 1 right, 2 uncertain",
        "cases": cases,
        "runs": runs,
    },
    open(f"{OUT}/hallusionbench_judge.json", "w"),
    indent=0,
    ensure_ascii=True,
)
print(len(cases), len(runs), attempts, runs[0]["official"])
