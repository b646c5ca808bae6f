"""Text that parquet cannot hold, stored reversibly.

Parquet text is UTF-8, and a Python string can hold what UTF-8 cannot encode: a lone surrogate
(a model's tokenizer can produce one) or undecodable bytes carried as surrogates (`os.fsdecode`,
`surrogateescape`). Such a value is stored as its JSON string literal (`json.dumps`: ASCII,
with `\\udXXX` escapes), and its row's `escaped` column lists, as a JSON array, the columns so
stored; `json.loads` gives the original back (`restore_text` does it for a whole frame). Every
other row has `escaped` null and its text as it was.

Rows are escaped as they are made, before any frame is built (pandas' string columns refuse
such text too); from there on every step, scoring included, sees the stored form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

ESCAPED = "escaped"
"""The column that names a row's escaped columns (a JSON array), null when none."""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def stored_text(text: str) -> str:
    """`text` as the store holds it: itself, or its JSON literal when UTF-8 cannot encode it."""
    return text if _encodable(text) else json.dumps(text)


def escape_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """`row` with every unencodable string escaped and `escaped` naming those columns.

    Flags the row has already are kept (a row read in its stored form and written again), so a
    value escaped once is neither escaped twice nor left unflagged.
    """
    out = dict(row)
    flags = set(_flags(out.get(ESCAPED)))
    texts = [v for k, v in out.items() if isinstance(v, str) and k != ESCAPED]
    if not _encodable("".join(texts)):  # one check per row: the usual case ends here
        for key, value in out.items():
            if key != ESCAPED and isinstance(value, str) and not _encodable(value):
                out[key] = json.dumps(value)
                flags.add(key)
    out[ESCAPED] = json.dumps(sorted(flags)) if flags else None
    return out


def restore_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read from the store (`load_samples`, `load_runs`) with its escaped text as it was
    given, and without the `escaped` column. Restored columns hold Python objects: the text may
    hold lone surrogates again, which pandas' string columns and most writers refuse."""
    if ESCAPED not in frame.columns:
        return frame
    flags = [_flags(v) for v in frame[ESCAPED]]
    out = frame.drop(columns=[ESCAPED])
    for col in sorted({c for f in flags for c in f} & set(out.columns)):
        values = out[col].tolist()
        for i, f in enumerate(flags):
            if col in f and isinstance(values[i], str):
                values[i] = json.loads(values[i])
        out[col] = pd.Series(values, index=out.index, dtype=object)
    return out


def _flags(value: Any) -> list[str]:
    if not isinstance(value, str) or not value:
        return []
    names = json.loads(value)
    return [str(n) for n in names] if isinstance(names, list) else []
