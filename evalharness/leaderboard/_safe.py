"""Making strings from results safe for HTML, JavaScript, plotly labels, file names and URLs.

Everything in a results folder is untrusted text: a model name can hold markup. So file names and
link targets are built only from slugs and hashes (never raw names), JSON embedded in a page or a
`.js` data file escapes every character that could end a script or string early, and plotly labels
escape its pseudo-HTML (plotly renders `<a href>` and `<b>` in labels).
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from typing import Any

from markupsafe import Markup

_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_IMAGE_ID = re.compile(r"^[A-Za-z0-9_-]{4,128}$")

# Characters that can close a <script> element, start an HTML comment or entity, or end a JS string
# literal in pre-ES2019 engines; all replaced by JSON unicode escapes (still valid JSON).
_JS_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def digest(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def slug(text: str, n: int = 32) -> str:
    """A readable file-name and URL-safe id: lowercase words plus a short hash of the full text.

    The hash keeps ids distinct when two names slugify alike ("A/B" and "a-b").
    """
    words = _SLUG_DROP.sub("-", text.lower()).strip("-")[:n].strip("-")
    return f"{words}-{digest(text, 8)}" if words else f"x-{digest(text, 8)}"


def safe_json(value: Any, *, clean: bool = True) -> str:
    """JSON that is safe inside <script> elements and `.js` files: NaN and inf become null.

    Bulk data that is already free of NaN passes clean=False to skip the walk over every value.
    """
    data = _clean(value) if clean else value
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in _JS_UNSAFE.items():
        if char in text:
            text = text.replace(char, escape)
    return text


def json_markup(value: Any) -> Markup:
    """`safe_json` marked safe for Jinja, for `<script type="application/json">` blocks."""
    return Markup(safe_json(value))


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def label(text: object) -> str:
    """A plotly label: its pseudo-HTML is escaped so names show literally and links cannot appear."""
    return html.escape(str(text), quote=True)


def image_id(value: object) -> str | None:
    """A thumbnail fingerprint if it is a plain token; anything else could name a path outside."""
    if isinstance(value, str) and _IMAGE_ID.match(value):
        return value
    return None


def parse_json(text: object) -> Any:
    """Parse a JSON column value; invalid or missing values give None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
