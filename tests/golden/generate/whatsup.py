"""Regenerates tests/golden/whatsup.json from the official code: python whatsup.py SRC OUT, where SRC holds
the official repositories checked out at the commits the file records (see ../README.md)."""

# ruff: noqa  (a reproduction script, kept as it was run)
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import types

import numpy as np

SRC, OUT = sys.argv[1], sys.argv[2]
# the module's heavy imports are not needed to score: stand-ins
for name in [
    "torch",
    "torch.utils",
    "torch.utils.data",
    "torchvision",
    "torchvision.datasets",
    "torchvision.datasets.utils",
    "easydict",
    "tqdm",
]:
    sys.modules[name] = types.ModuleType(name)
sys.modules["torch.utils.data"].Dataset = object
sys.modules["torchvision.datasets.utils"].download_url = None
sys.modules["easydict"].EasyDict = dict
sys.modules["tqdm"].tqdm = lambda x, **k: x
pert = types.ModuleType("dataset_zoo.perturbations")
pert.TextShuffler = object
sys.modules["dataset_zoo.perturbations"] = pert
const = types.ModuleType("dataset_zoo.constants")
const.ARO_ROOT = const.COCO_ROOT = const.FLICKR_ROOT = ""
sys.modules["dataset_zoo.constants"] = const
retr = types.ModuleType("dataset_zoo.retrieval")
retr.pre_caption = None
sys.modules["dataset_zoo.retrieval"] = retr
pkg = types.ModuleType("dataset_zoo")
pkg.__path__ = [f"{SRC}/whatsup_vlms/dataset_zoo"]
sys.modules["dataset_zoo"] = pkg
import importlib.util

spec = importlib.util.spec_from_file_location(
    "dataset_zoo.aro_datasets", f"{SRC}/whatsup_vlms/dataset_zoo/aro_datasets.py"
)
aro = importlib.util.module_from_spec(spec)
spec.loader.exec_module(aro)

rng = random.Random(16)
OBJS = ["mug", "beer-bottle", "book", "dog", "cup", "plate", "sunglasses", "remote"]
BASES = ["table", "armchair", "chair", "box"]
SUBSETS = {
    "A": ["on", "under", "left_of", "right_of"],
    "B": ["in-front_of", "behind", "left_of", "right_of"],
}
WORD = {
    "on": "on",
    "under": "under",
    "left_of": "to the left of",
    "right_of": "to the right of",
    "in-front_of": "in front of",
    "behind": "behind",
}
runs = []
for k in range(12):
    subset = "A" if k % 2 == 0 else "B"
    rels = SUBSETS[subset]
    items = []
    pairs = rng.sample([(o, b) for o in OBJS for b in BASES], 6)
    for o, b in pairs:
        for r in rels:
            path = f"data/controlled_{'images' if subset == 'A' else 'clevr'}/{o}_{r}_{b}.jpeg"
            wrong = [x for x in rels if x != r]
            opts = [f"A {o} {WORD[r]} a {b}"] + [f"A {o} {WORD[x]} a {b}" for x in wrong]
            items.append({"image_path": path, "caption_options": opts})
    scores = []
    for _ in items:
        s = [rng.choice([0.1, 0.2, 0.3, 0.5]) for _ in range(4)]
        if rng.random() < 0.5:
            s[rng.randrange(4)] = 0.9
        if k >= 6 and rng.random() < 0.8:
            s[0] = 0.95
        scores.append(s)  # many ties: they go to the first option, the correct one
    with tempfile.TemporaryDirectory() as d:
        name = (
            "controlled_images_dataset.json" if subset == "A" else "controlled_clevr_dataset.json"
        )
        os.makedirs(os.path.join(d, "controlled_images" if subset == "A" else "controlled_clevr"))
        json.dump(items, open(os.path.join(d, name), "w"))
        ds = aro.Controlled_Images(None, root_dir=d, subset=subset)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ds.evaluate_scores(np.array(scores)[:, None, :])
    said = dict(line.split(": ") for line in out.getvalue().splitlines())
    runs.append(
        {
            "subset": subset,
            "items": items,
            "scores": scores,
            "official": {k2: float(v) for k2, v in said.items()},
        }
    )
json.dump(
    {
        "script": "amitakamath/whatsup_vlms dataset_zoo/aro_datasets.py (Controlled_Images.evaluate_scores)",
        "commit": "7c1f2550eace32e7b8c77de5a792347c402960d1",
        "runs": runs,
    },
    open(f"{OUT}/whatsup.json", "w"),
    indent=0,
)
print(runs[0]["official"], runs[1]["official"])
