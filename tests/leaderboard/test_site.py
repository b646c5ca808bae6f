"""The built site: pages, assets, data files, comparability, provenance and rebuilds."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evalharness.leaderboard import SiteError, build_site, build_site_from_frames
from evalharness.leaderboard.__main__ import main
from evalharness.leaderboard._read import read_results
from evalharness.store import load_runs, load_samples

from .conftest import read_data
from .html_tree import Element, parse


def _page(path: Path) -> Element:
    return parse(path.read_text(encoding="utf-8"))


def _manifest(site: Path) -> dict:
    key, value = read_data(site / "data" / "manifest.js")
    assert key == "manifest"
    return value


def test_every_page_and_asset_is_written(results: Path, site: Path) -> None:
    runs = load_runs(results)
    for name in (
        "index.html",
        "compare.html",
        "samples.html",
        "assets/style.css",
        "assets/site.js",
    ):
        assert (site / name).is_file(), name
    assert len(list((site / "models").glob("*.html"))) == runs["model"].nunique()
    ranked_benchmarks = runs.loc[runs["status"] == "complete", "benchmark"].nunique()
    assert len(list((site / "benchmarks").glob("*.html"))) == ranked_benchmarks


def test_plotly_is_shipped_once_and_never_inlined(site: Path) -> None:
    import plotly

    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    copies = [p for p in site.rglob("*") if p.is_file() and p.name.startswith("plotly")]
    assert copies == [site / "assets" / "plotly.min.js"]
    assert copies[0].read_bytes() == bundled.read_bytes()
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert len(text) < 400_000 and "plotly.js v" not in text
        srcs = [s.attrs["src"] for s in parse(text).iter("script") if s.attrs.get("src")]
        assert any(s is not None and s.endswith("assets/plotly.min.js") for s in srcs)


def test_no_external_resources(site: Path) -> None:
    for page in site.rglob("*.html"):
        for el in _page(page).iter():
            for attr in ("src", "href"):
                value = el.attrs.get(attr)
                if value is not None:
                    assert "//" not in value and ":" not in value.split("#")[0], (page, value)
    assert "url(" not in (site / "assets" / "style.css").read_text()


def test_index_sections_ranks_and_runs_shown_apart(site: Path) -> None:
    index = _page(site / "index.html")
    sections = {
        b.attrs["data-section"]: b for b in index.find("table", id="board").find_all("tbody")
    }
    assert set(sections) == {"model", "blind", "reference"}
    ranks = [
        r.find("td").attrs["data-v"] for r in sections["model"].find_all("tr", data_kind="model")
    ]
    ranked = [int(r) for r in ranks if r]
    assert ranked and ranked == sorted(ranked) and ranked[0] == 1
    assert "" in ranks  # the model missing a benchmark is not ranked overall
    for kind in ("blind", "reference"):
        assert all(
            r.find("td").attrs["data-v"] == ""
            for r in sections[kind].find_all("tr", data_kind=kind)
        )
    names = [r.find("a").text for r in sections["reference"].find_all("tr", data_kind="reference")]
    assert sorted(names) == ["oracle", "prior", "random"]
    apart = index.find("details", **{"class": "apart"}).text
    for reason in (
        "benchmark version 0+deadbeef",
        "run failed",
        "run running",
        "a different sample set",
    ):
        assert reason in apart
    assert "brought to the current version by evalharness rescore" in apart
    assert "goes on from the samples it already answered" in apart


def test_overall_scores_ranks_and_cis_agree(results: Path, site: Path) -> None:
    m = _manifest(site)
    runs = pd.DataFrame([{"rkey": k, **v} for k, v in m["runs"].items()])
    ranked = runs[runs["r"]]
    for mkey, model in m["models"].items():
        mine = ranked[ranked["m"] == mkey]
        if len(mine):
            assert model["o"] == pytest.approx(mine["s"].mean())
    order = sorted((v for v in m["models"].values() if v["rk"] is not None), key=lambda v: -v["o"])
    assert [v["rk"] for v in order] == sorted(v["rk"] for v in order)
    index = _page(site / "index.html")
    for row in index.find_all("tr", data_kind="model"):
        overall = row.find("td", **{"class": "num score overall"})
        lo, hi = overall.find("small").text.split(" · ")[0].split("–")
        value = float(overall.attrs["data-v"]) * 100
        assert float(lo) - 0.05 <= value <= float(hi) + 0.05


def test_run_data_files_match_the_samples(results: Path, site: Path) -> None:
    m = _manifest(site)
    runs = load_runs(results)
    # every unranked run (partial, failed, other version) and all runs of two benchmarks
    benches = sorted(runs["benchmark"].unique())[:2]
    chosen = runs[(runs["status"] != "complete") | runs["benchmark"].isin(benches)][
        "run_id"
    ].tolist()
    samples = load_samples(results, run_ids=chosen)
    for run_id in chosen:
        rkey = _rkey(run_id)
        run = m["runs"][rkey]
        _, items = read_data(site / "data" / "items" / f"{run['b']}.js")
        _, data = read_data(site / "data" / "runs" / f"{rkey}.js")
        mine = samples[samples["run_id"] == run_id]
        score = dict(zip(mine["sample_id"], mine["score"], strict=True))
        output = dict(zip(mine["sample_id"], mine["prediction"], strict=True))
        positions = data.get("i", list(range(len(data["s"]))))
        assert len(positions) == len(data["p"]) == len(data["e"]) == len(mine)
        for j, i in enumerate(positions):
            sid = items["id"][i]
            expected = None if math.isnan(score[sid]) else pytest.approx(score[sid])
            assert data["s"][j] == expected
            assert data["p"][j] == (output[sid] if isinstance(output[sid], str) else None)


def _rkey(run_id: str) -> str:
    from evalharness.leaderboard._safe import digest

    return f"r{digest(run_id)}"


def test_score_files_and_thumbnails(site: Path) -> None:
    m = _manifest(site)
    for bv, bench in m["benches"].items():
        _, scores = read_data(site / "data" / "scores" / f"{bv}.js")
        _, items = read_data(site / "data" / "items" / f"{bv}.js")
        assert len(scores["groups"]) == len(items["id"])
        for encoded in scores["runs"].values():
            assert len(encoded) == len(items["id"])
            if scores["binary"]:
                assert set(encoded) <= set("01.")
        for ids in items["img"]:
            assert ids, "every fake sample has a thumbnail"
            for fp in ids:
                assert (site / "images" / fp[:2] / f"{fp}.jpg").is_file()
        assert bench["bin"] == scores["binary"]


def test_png_thumbnails_of_older_results_reach_the_site_as_jpeg(tmp_path: Path) -> None:
    from PIL import Image

    from .fake_results import make_results

    results = make_results(tmp_path / "results", n_models=2, n_benchmarks=1, n_samples=4)
    thumbs = sorted((results / "images").rglob("*.jpg"))
    for path in thumbs:  # as written before thumbnails were JPEG
        with Image.open(path) as image:
            image.save(path.with_suffix(".png"))
        path.unlink()
    build_site(results, tmp_path / "site")
    for path in thumbs:
        fp = path.stem
        with Image.open(tmp_path / "site" / "images" / fp[:2] / f"{fp}.jpg") as got:
            assert got.format == "JPEG"
            assert got.size == Image.open(path.with_suffix(".png")).size


def test_benchmark_page_metrics_difficulty_and_forest(site: Path) -> None:
    page = next(p for p in (site / "benchmarks").glob("synth-counting-*.html"))
    tree = _page(page)
    headers = [th.text for th in tree.find("table").iter("th")]
    assert "score[color]" in headers and "score[size]" in headers
    figure = json.loads(tree.find("script", id="fig-difficulty").text)
    xs = {x for trace in figure["data"] for x in trace["x"]}
    assert xs <= set(range(11)) and len(xs) > 3
    forest = json.loads(tree.find("script", id="fig-forest").text)
    assert len(forest["data"][0]["y"]) == len(tree.find("table").find_all("tr")) - 1
    assert "Count" in tree.find("p", **{"class": "lede"}).text  # description stored with its runs


def _facts(page: Path) -> dict[str, str]:
    tree = _page(page)
    facts = tree.find("dl", **{"class": "facts"})
    return {
        div.find("dt").text.strip(): div.find("dd").text.strip() for div in facts.find_all("div")
    }


def test_benchmark_page_says_how_many_images_and_when_few(site: Path) -> None:
    # the fixture: 30 counting questions on an image each; 30 others, two per image
    counting = _facts(next((site / "benchmarks").glob("synth-counting-*.html")))
    assert counting["Samples"] == "30" and counting["Images"] == "30"
    others = [p for p in (site / "benchmarks").glob("*.html") if "counting" not in p.name]
    paired = _facts(others[0])
    assert paired["Samples"] == "30"
    assert paired["Images"].startswith("15 (few: the bootstrap resamples images")
    assert "rough" in paired["Images"]


def test_model_page_provenance(site: Path) -> None:
    page = next(p for p in (site / "models").glob("generative-*.html") if "blind" not in p.name)
    text = _page(page).text
    for needle in (
        "0123abcd",
        "NVIDIA H100",
        "2.14.1",
        "bfloat16",
        "revision",
        "errors",
        "max_new_tokens",
    ):
        assert needle in text
    assert "Blind twin" in text


def test_rebuild_in_place_and_refuse_foreign_folders(results: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(results, out)
    stale = out / "data" / "runs" / "stale.js"
    stale.write_text("old")
    build_site(results, out)
    assert not stale.exists() and (out / "index.html").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(SiteError, match="not empty"):
        build_site(results, foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    # the repository's default folder holds only a README: built into, README kept
    default = tmp_path / "leaderboard"
    default.mkdir()
    (default / "README.md").write_text("# leaderboard/\n")
    build_site(results, default)
    build_site(results, default)
    assert (default / "index.html").exists() and (default / "README.md").exists()


def test_build_from_runs_only_uses_the_stored_cis(results: Path, tmp_path: Path) -> None:
    runs = load_runs(results)
    index = build_site_from_frames(runs, pd.DataFrame(), None, tmp_path / "s", resamples=200)
    m = _manifest(tmp_path / "s")
    ranked = [v for v in m["models"].values() if v["rk"] is not None]
    assert ranked and all(v["o"] is not None for v in ranked)
    assert "synth_counting" in index.read_text()
    assert not any((tmp_path / "s" / "data").glob("runs/*.js"))


def test_reader_keeps_the_newest_part_of_an_unfinished_run(results: Path, tmp_path: Path) -> None:
    copy = tmp_path / "results"
    shutil.copytree(results, copy, ignore=shutil.ignore_patterns("images"))
    run_dir = next((copy / "samples").iterdir())
    first = pq.read_table(run_dir / "part-000000.parquet").to_pandas()
    newer = first.iloc[:3].copy()
    newer["prediction"] = "newer answer"
    pq.write_table(
        pa.Table.from_pandas(newer, preserve_index=False), run_dir / "part-000001.parquet"
    )
    runs, samples = read_results(copy)
    mine = samples[samples["run_id"] == first["run_id"].iloc[0]]
    assert len(mine) == len(first)
    assert (mine["prediction"] == "newer answer").sum() == 3
    assert set(runs["run_id"]) == set(load_runs(copy)["run_id"])
    store = load_samples(copy)
    assert len(store) == len(samples)


def test_command_line(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(results), str(tmp_path / "cli"), "--title", "CLI board"]) == 0
    assert "index.html" in capsys.readouterr().out
    assert "CLI board" in (tmp_path / "cli" / "index.html").read_text()
    assert main([str(tmp_path / "nothing"), str(tmp_path / "cli2")]) == 1


def test_sample_scores_drive_the_benchmark_ranks(site: Path) -> None:
    """Ranks on a benchmark page never increase down the table and ties carry their test."""
    for page in (site / "benchmarks").glob("*.html"):
        rows = _page(page).find("table").find("tbody").find_all("tr")
        ranks = [r.find("td").attrs["data-v"] for r in rows if r.attrs.get("class") == "kind-model"]
        values = [int(r) for r in ranks]
        assert values == sorted(values) and values[0] == 1
        titles = [
            r.find("td").attrs.get("title") for r in rows if r.attrs.get("class") == "kind-model"
        ]
        assert all(t and ("McNemar" in t or "bootstrap" in t) for t in titles[1:])


def test_empty_and_all_failed_boards_still_build(results: Path, tmp_path: Path) -> None:
    from evalharness.store import ResultsStore

    index = build_site_from_frames(pd.DataFrame(), pd.DataFrame(), None, tmp_path / "empty")
    assert "No complete, comparable runs yet" in index.read_text()
    failed = load_runs(results).assign(status="failed")
    index = build_site_from_frames(failed, pd.DataFrame(), None, tmp_path / "failed")
    assert index.read_text().count("run failed") == len(failed)
    ResultsStore(tmp_path / "fresh")
    assert build_site(tmp_path / "fresh", tmp_path / "fresh_site").is_file()


def test_parameter_chart_only_when_a_model_has_both_a_size_and_an_overall(
    results: Path, tmp_path: Path
) -> None:
    def figures(index: Path) -> set[str]:
        scripts = _page(index).iter("script")
        return {s.attrs["id"] for s in scripts if s.attrs.get("id", "").startswith("fig-")}

    runs, samples = load_runs(results), load_samples(results)
    assert "fig-params" in figures(build_site_from_frames(runs, samples, None, tmp_path / "all"))
    # one sized model, whose one run has another sample set (a limit): ranked nowhere, so it
    # has no overall score and there is no point to plot
    done = runs[(runs["status"] == "complete") & runs["score"].notna()]
    seeing = ~done["reference"] & ~done["blind"] & done["model_params"].notna()
    model = done[seeing].iloc[[0]].copy()
    model["data_hash"] = "another sample set"
    lone = pd.concat([done[done["reference"]], model], ignore_index=True)
    index = build_site_from_frames(lone, samples, None, tmp_path / "lone")
    assert "fig-params" not in figures(index)


def test_building_the_site_imports_no_benchmark_code(results: Path, tmp_path: Path) -> None:
    """What the site shows of a benchmark (its description, its difficulty column) is stored
    with its runs: the board is built without the registry or any benchmark's code."""
    code = (
        "import sys\n"
        "from evalharness.leaderboard import build_site\n"
        f"build_site({str(results)!r}, {str(tmp_path / 'board')!r})\n"
        "print(sorted(m for m in sys.modules if m == 'evalharness.registry'"
        " or m.split('.')[:2] == ['evalharness', 'benchmarks']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "board" / "index.html").is_file()
