"""The board as tables: Markdown and CSV files beside the site, and a short ranking for a terminal.

Every number is the index page's: the same rows in the same order, with its ranks, scores and
95 % intervals. Markdown shows them as the page does (×100 for 0-1 scores); CSV holds the stored
values, for other tools.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Record = dict[str, Any]

MARKDOWN_FILE = "table.md"
CSV_FILE = "table.csv"
_NOT_RANKED = {"blind": "blind", "reference": "ref"}
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _rows(index: Record) -> Iterator[Record]:
    for section in index["sections"]:
        yield from section["rows"]


def _rank(row: Record) -> str:
    if row["kind"] != "model":
        return _NOT_RANKED.get(row["kind"], "")
    if row["rank"] is None:
        return "—"
    return f"{row['rank']}{'=' if row.get('tied') else ''}"


def _shown(cell: Record | None) -> str:
    if cell is None:
        return ""
    return f"{cell['text']} ({cell['ci']})" if cell["ci"] else cell["text"]


def _markdown_text(text: str) -> str:
    """Text safe in a Markdown table cell: no column break, no HTML, one line."""
    for raw, safe in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(raw, safe)
    return " ".join(text.split())


def markdown(index: Record) -> str:
    benches = index["benches"]
    header = ["rank", "model", "params", "overall", *(b["name"] for b in benches)]
    lines = [
        "| " + " | ".join(_markdown_text(h) for h in header) + " |",
        "|" + "|".join([":---", ":---", "---:", "---:"] + ["---:"] * len(benches)) + "|",
    ]
    for row in _rows(index):
        cells = [_rank(row), row["name"], row["params"], _shown(row["overall"])]
        cells += [_shown(c) for c in row["cells"]]
        lines.append("| " + " | ".join(_markdown_text(c) for c in cells) + " |")
    scale = "×100, " if index["percent"] else ""
    lines += [
        "",
        f"Scores {scale}95 % confidence intervals in parentheses. Tied ranks (=) are not "
        "significantly different from the best of their group; ref: reference baselines and "
        "blind: blind runs are not ranked; — : ranked only with every benchmark.",
    ]
    return "\n".join(lines) + "\n"


def _csv_text(value: Any) -> Any:
    """A text cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value.startswith(_SPREADSHEET_FORMULA):
        return "'" + value
    return value


def csv_text(index: Record) -> str:
    header = [
        "rank",
        "tied",
        "model",
        "kind",
        "family",
        "params",
        "overall",
        "overall_ci_low",
        "overall_ci_high",
        "benchmarks",
    ]
    for b in index["benches"]:
        header += [b["name"], f"{b['name']}_ci_low", f"{b['name']}_ci_high"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_csv_text(h) for h in header])
    for row in _rows(index):
        values: list[Any] = [
            row["rank"] if row["kind"] == "model" and row["rank"] is not None else "",
            bool(row.get("tied")),
            row["name"],
            row["kind"],
            row["family"],
            row["params_v"] or None,  # unknown (references: none)
            *_values(row["overall"]),
            row["coverage"],
        ]
        for c in row["cells"]:
            values += _values(c)
        writer.writerow([_csv_text(v) if v is not None else "" for v in values])
    return out.getvalue()


def _values(cell: Record | None) -> list[Any]:
    if cell is None:
        return [None, None, None]
    return [cell["v"], cell.get("lo"), cell.get("hi")]


def write(index: Record, out: Path) -> None:
    (out / MARKDOWN_FILE).write_text(markdown(index), encoding="utf-8")
    (out / CSV_FILE).write_text(csv_text(index), encoding="utf-8")


def ranking(table_csv: Path, top: int = 10) -> list[str]:
    """A few lines for a terminal, read back from the CSV: the best `top` models by rank, with
    their overall score and interval (stored scale) and how many benchmarks they cover."""
    with table_csv.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "model"]
    if not rows:
        return ["no ranked models yet"]
    lines = [f"{'rank':>5}  {'overall':>22}  {'benchmarks':>10}  model"]
    for r in rows[:top]:
        rank = (r["rank"] + ("=" if r["tied"] == "True" else "")) if r["rank"] else "—"
        overall = _interval(r["overall"], r["overall_ci_low"], r["overall_ci_high"])
        lines.append(f"{rank:>5}  {overall:>22}  {r['benchmarks']:>10}  {r['model']}")
    if len(rows) > top:
        lines.append(f"… and {len(rows) - top} more models in {table_csv.name}")
    return lines


def _interval(value: str, lo: str, hi: str) -> str:
    def num(v: str) -> str:
        return f"{float(v):.3f}" if v not in ("", "nan") else "—"

    return f"{num(value)} [{num(lo)}, {num(hi)}]" if lo and hi else num(value)
