"""The board as Markdown and CSV beside the site, and the terminal's ranking: the index page's
rows, ranks and numbers, with names that cannot break the formats."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from evalharness.cli.main import main
from evalharness.leaderboard._runs import build_board
from evalharness.leaderboard._table import _csv_text, ranking
from evalharness.store import load_runs

from .conftest import PAYLOAD
from .html_tree import parse


def table(site: Path) -> list[dict[str, str]]:
    with (site / "table.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_rows_are_the_index_rows_with_the_stored_scores(results: Path, site: Path) -> None:
    index = parse((site / "index.html").read_text(encoding="utf-8"))
    board = index.find("table", id="board")
    shown = [r.find("a").text for r in board.iter("tr") if r.attrs.get("data-kind")]
    rows = table(site)
    assert [r["model"] for r in rows] == shown
    ranked = [int(r["rank"]) for r in rows if r["rank"]]
    assert ranked == sorted(ranked) and ranked[0] == 1
    assert all(r["kind"] == "model" for r in rows if r["rank"])
    ranked = build_board(load_runs(results)).ranked  # the runs the board compares
    checked = 0
    for row in rows:
        for bench in ranked["benchmark"].unique():
            if row[bench] == "":
                continue
            [stored] = ranked[
                (ranked["model"] == row["model"]) & (ranked["benchmark"] == bench)
            ].to_dict("records")
            assert math.isclose(float(row[bench]), stored["score"])
            assert math.isclose(float(row[f"{bench}_ci_low"]), stored["score_ci_low"])
            assert math.isclose(float(row[f"{bench}_ci_high"]), stored["score_ci_high"])
            checked += 1
    assert checked > 10


def test_markdown_has_one_row_per_board_row_and_the_page_s_numbers(site: Path) -> None:
    lines = (site / "table.md").read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[2:] if line.startswith("| ")]
    rows = table(site)
    assert len(body) == len(rows)
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:4] == ["rank", "model", "params", "overall"]
    first = [c.strip() for c in body[0].strip("|").split("|")]
    assert first[0] == "1" or first[0] == "1="
    assert first[1] == rows[0]["model"]
    overall = float(rows[0]["overall"])
    assert first[3].startswith(f"{overall * 100:.1f} (")  # ×100, as on the page


def test_names_cannot_break_the_tables(xss_site: Path) -> None:
    md = (xss_site / "table.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "<img" not in md
    for line in md.splitlines()[2:]:
        if line.startswith("| "):  # every row keeps its columns: no name adds a "|"
            assert line.replace("\\|", "").count("|") == md.splitlines()[0].count("|")
    rows = table(xss_site)
    payload_rows = [r for r in rows if PAYLOAD in r["model"]]
    assert payload_rows  # CSV keeps the name exactly (quoted), and it is not a formula
    formula = "=HYPERLINK(1)"
    assert _csv_text(formula) == "'" + formula and _csv_text("plain") == "plain"


def test_leaderboard_command_prints_the_ranking(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "board"
    assert main(["leaderboard", "--results", str(results), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["rank", "overall", "benchmarks", "model"]
    best = table(out)[0]
    assert printed[1].split()[0] in ("1", "1=") and printed[1].endswith(best["model"])
    assert "table.md" in printed[-1] and "table.csv" in printed[-1]
    assert ranking(out / "table.csv", top=1)[-1].startswith("… and ")
    # the fake results hold runs kept apart (a failed one, an older version, …): said, grouped
    apart = next(i for i, line in enumerate(printed) if "not ranked" in line)
    assert printed[apart].endswith("runs not ranked (the site lists each under Other runs):")
    assert any("not complete (failed" in line for line in printed[apart + 1 : -1])
