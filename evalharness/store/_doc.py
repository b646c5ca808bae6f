"""The schema doc (docs/results-schema.md), generated from the records: the prose of the
template `_schema.md` with a table of each record's columns in place of its marker."""

from __future__ import annotations

from importlib.resources import files

from evalharness.store._columns import Record, columns
from evalharness.store._records import RunRecord, SampleRecord

TEMPLATE = "_schema.md"
RECORDS: tuple[type[Record], ...] = (RunRecord, SampleRecord)


def marker(record: type[Record]) -> str:
    """The template's line that the record's table replaces."""
    return f"<!-- columns: {record.TABLE} -->"


def schema_markdown() -> str:
    """docs/results-schema.md as the records and the template make it."""
    text = (files("evalharness.store") / TEMPLATE).read_text(encoding="utf-8")
    for record in RECORDS:
        if marker(record) not in text:
            raise ValueError(f"the schema template has no {marker(record)!r} line")
        text = text.replace(marker(record), table(record))
    return text


def table(record: type[Record]) -> str:
    """A Markdown table of the record's columns, then its column families."""
    lines = ["| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.kind} | {_cell(c.doc)} |" for c in columns(record)]
    lines += [f"| `{p.prefix}<{p.part}>` | {p.kind} | {_cell(p.doc)} |" for p in record.PREFIXES]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
