"""Strings from results are data, never markup: payloads in every field of a results folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from evalharness.leaderboard._safe import image_id, label, safe_json, slug

from .conftest import PAYLOAD, read_data
from .html_tree import parse

SAFE_LINK = re.compile(
    r"^(\.\./)?([a-z]+/)*[A-Za-z0-9_.-]+\.(html|css|js|jpg)(#[a-z]+=[a-z0-9-]+)?$"
)


def test_pages_have_no_injected_elements_attributes_or_links(xss_site: Path) -> None:
    pages = list(xss_site.rglob("*.html"))
    assert len(pages) > 8
    for page in pages:
        tree = parse(page.read_text(encoding="utf-8"))
        assert not tree.find_all("img"), page  # the pages draw no images; any <img> is injected
        for el in tree.iter():
            for name, value in el.attrs.items():
                assert not name.startswith("on"), (page, el.tag, name)
                if name in ("href", "src"):
                    assert value is not None and SAFE_LINK.match(value), (page, value)
                    assert not value.strip().lower().startswith("javascript:")
        for script in tree.iter("script"):
            if "src" in script.attrs:
                assert not script.text.strip()
                continue
            # inline scripts are only JSON data blocks, and they parse: nothing closed them early
            assert script.attrs.get("type") == "application/json", page
            json.loads(script.text)
        text = tree.text
        assert "{{7*7}}" in text  # results are never evaluated as templates


def test_payload_is_shown_literally(xss_site: Path) -> None:
    index = parse((xss_site / "index.html").read_text(encoding="utf-8"))
    assert index.find("title").text == PAYLOAD
    model_links = [a.text for a in index.iter("a") if a.attrs.get("href", "").startswith("models/")]
    assert any(t.startswith(PAYLOAD) for t in model_links)


def test_chart_labels_escape_plotly_markup(xss_site: Path) -> None:
    index = parse((xss_site / "index.html").read_text(encoding="utf-8"))
    figures = [
        json.loads(s.text) for s in index.iter("script") if s.attrs.get("id", "").startswith("fig-")
    ]
    assert figures
    labels = json.dumps(figures)
    assert "<script>" not in labels and "<img" not in labels
    assert json.dumps(label(PAYLOAD))[1:-1] in labels  # html-escaped, so plotly shows it as text


def test_data_scripts_cannot_break_out(xss_site: Path) -> None:
    files = list((xss_site / "data").rglob("*.js"))
    assert len(files) > 10
    seen = False
    for path in files:
        text = path.read_text(encoding="utf-8")
        body = text[text.index("=") + 1 :]
        for char in "<>&'\u2028\u2029":
            assert char not in body, (path, char)
        _, value = read_data(path)
        seen = seen or any(PAYLOAD in v for v in _strings(value))
        if path.parent.name == "items":
            for ids in value["img"]:
                assert ids is None or all(image_id(fp) == fp for fp in ids)
    assert seen  # the payload round-trips as data


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_safe_json_escapes_everything_that_ends_a_script() -> None:
    text = safe_json(
        {"a": "</script><!--'&\u2028\u2029", "n": float("nan"), "t": (1.0, float("inf"))}
    )
    assert json.loads(text) == {"a": "</script><!--'&\u2028\u2029", "n": None, "t": [1.0, None]}
    assert not set("<>&'\u2028\u2029") & set(text)


@given(st.text())
def test_slugs_are_url_and_file_safe(text: str) -> None:
    s = slug(text)
    assert re.fullmatch(r"[a-z0-9-]+", s)
    assert s == slug(text)


def test_slugs_differ_when_names_slugify_alike() -> None:
    assert slug("A/B") != slug("a-b")


def test_image_ids_reject_paths() -> None:
    assert image_id("0a" * 16) == "0a" * 16
    for bad in ("../../etc/passwd", "missing:/x.png", "a b", "", None, 3, "<x>"):
        assert image_id(bad) is None
