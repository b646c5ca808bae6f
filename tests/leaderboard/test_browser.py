"""The site in headless Chromium, opened from file://: scripts, sorting, filters, charts, data.

Skipped only where Chromium is not installed and CI is not set; under CI a missing browser fails.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evalharness.leaderboard.ranking import mcnemar_p

from .conftest import read_data

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _find_browser() -> tuple[str, str] | None:
    browser = next((p for name in BROWSERS if (p := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    found = _find_browser()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        found = None
    if found is None:
        reason = "headless Chromium, chromedriver and selenium are needed for the browser test"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{reason}; CI is set, so they must be installed")
        pytest.skip(f"{reason} (apt-get install chromium chromium-driver; pip install selenium)")
    options = Options()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--allow-file-access-from-files"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=found[1]), options=options)
    yield drv
    drv.quit()


def _open(driver: Any, path: Path, fragment: str = "") -> None:
    driver.get(path.resolve().as_uri() + fragment)
    _wait(driver, lambda: driver.execute_script("return document.readyState") == "complete")


def _wait(driver: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting for the page"
        time.sleep(0.05)


def _errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _assert_not_blank(driver: Any) -> None:
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20
    assert max(ImageStat.Stat(image).stddev) > 10


def _charts(driver: Any) -> int:
    script = "return [...document.querySelectorAll('.chart')].filter(c => c.querySelector('.main-svg')).length"
    return int(driver.execute_script(script))


def _js(driver: Any, script: str) -> Any:
    return driver.execute_script(script)


def test_index_sorts_filters_and_draws_charts(driver: Any, site: Path) -> None:
    _open(driver, site / "index.html")
    _wait(driver, lambda: _charts(driver) >= 2)
    names = "return [...document.querySelectorAll('tbody[data-section=model] tr[data-kind]')].map(r => r.dataset.name)"
    before = _js(driver, names)
    driver.find_element("xpath", "//table[@id='board']//th[normalize-space()='Model']").click()
    after = _js(driver, names)
    assert sorted(before) == after != before
    driver.find_element("xpath", "//table[@id='board']//th[normalize-space()='Model']").click()
    assert _js(driver, names) == sorted(before, reverse=True)
    visible = "return [...document.querySelectorAll('#board tr[data-kind]')].filter(r => !r.hidden).length"
    total = _js(driver, visible)
    _js(driver, "const s = document.querySelector('[data-filter=family]'); s.value = 'generative';"
                "s.dispatchEvent(new Event('change'))")  # fmt: skip
    shown = _js(driver, visible)
    assert 0 < shown < total
    assert _js(driver, "return [...document.querySelectorAll('#board tr[data-kind]')]"
                       ".filter(r => !r.hidden).every(r => r.dataset.family === 'generative')")  # fmt: skip
    _js(driver, "const k = document.querySelector('[data-filter=kind]'); k.value = 'reference';"
                "k.dispatchEvent(new Event('change'))")  # fmt: skip
    assert _js(driver, visible) == 0
    _assert_not_blank(driver)
    assert _errors(driver) == []


def test_benchmark_and_model_pages_draw_their_charts(driver: Any, site: Path) -> None:
    bench = next((site / "benchmarks").glob("synth-counting-*.html"))
    _open(driver, bench)
    _wait(driver, lambda: _charts(driver) == 2)  # forest and difficulty curve
    _assert_not_blank(driver)
    model = next(p for p in (site / "models").glob("generative-*.html") if "blind" not in p.name)
    _open(driver, model)
    _wait(driver, lambda: _charts(driver) == 2)  # capability profile and blind gap
    assert _errors(driver) == []


def test_sample_browser_loads_a_run_and_filters(driver: Any, site: Path) -> None:
    _, manifest = read_data(site / "data" / "manifest.js")
    rkey, run = next(
        (k, r) for k, r in manifest["runs"].items() if r["r"] and manifest["benches"][r["b"]]["bin"]
    )
    _open(driver, site / "samples.html", f"#run={rkey}")
    cards = "return document.querySelectorAll('article.sample').length"
    _wait(driver, lambda: _js(driver, cards) > 0)
    assert _js(driver, cards) == min(run["n"], 50)
    _wait(
        driver,
        lambda: _js(
            driver, "const i = document.images[0]; return !!i && i.complete && i.naturalWidth > 0"
        ),
    )
    driver.find_element("css selector", "[data-show=wrong]").click()
    outcomes = _js(
        driver, "return [...document.querySelectorAll('.outcome')].map(o => o.textContent)"
    )
    assert outcomes and set(outcomes) == {"wrong"}
    driver.find_element("css selector", "[data-show=correct]").click()
    assert set(
        _js(driver, "return [...document.querySelectorAll('.outcome')].map(o => o.textContent)")
    ) == {"correct"}
    _assert_not_blank(driver)
    _open(
        driver, site / "samples.html", "#run=../../evil"
    )  # not a known run: falls back to the first
    _wait(driver, lambda: _js(driver, cards) > 0)
    assert _errors(driver) == []


def test_head_to_head_computes_paired_tests(driver: Any, site: Path) -> None:
    _, manifest = read_data(site / "data" / "manifest.js")
    ranked = sorted((k for k, m in manifest["models"].items() if m["rk"] is not None),
                    key=lambda k: manifest["models"][k]["rk"])  # fmt: skip
    _open(driver, site / "compare.html", f"#a={ranked[0]}&b={ranked[1]}")
    rows = "return document.querySelectorAll('[data-result] tbody tr').length"
    _wait(driver, lambda: _js(driver, rows) > 1)
    _wait(
        driver, lambda: _js(driver, "return document.querySelectorAll('article.sample').length") > 0
    )
    last = _js(driver, "const r = [...document.querySelectorAll('[data-result] tbody tr')].pop();"
                       "return [...r.cells].map(c => c.textContent)")  # fmt: skip
    assert last[0].startswith("Mean over") and last[-1] != "no shared items"
    for b, c in ((0, 0), (3, 12), (10, 0), (40, 70), (150, 100)):
        assert _js(driver, f"return EH.stats.mcnemar({b}, {c})") == pytest.approx(
            mcnemar_p(b, c), rel=1e-6
        )
    # a verdict only where the test and the interval agree (they can differ with few clusters)
    for p, ci, says in [
        (0.45, [0.04, 0.21], "unclear: test and interval disagree"),
        (0.01, [-0.01, 0.3], "unclear: test and interval disagree"),
        (0.01, [0.05, 0.3], "A better"),
        (0.5, [-0.1, 0.2], "no significant difference"),
    ]:
        got = _js(driver, f"return EH.verdict({{n: 24, p: {p}, ci: {ci}, d: 0.1}}, 'A', 'B')")
        assert got == says
    _assert_not_blank(driver)
    assert _errors(driver) == []


def test_payloads_do_not_run_in_the_browser(driver: Any, xss_site: Path) -> None:
    _, manifest = read_data(xss_site / "data" / "manifest.js")
    rkey = next(iter(manifest["runs"]))
    a, b = list(manifest["models"])[:2]
    pages = [
        ("index.html", ""),
        ("samples.html", f"#run={rkey}"),
        ("compare.html", f"#a={a}&b={b}"),
    ]
    pages += [
        (str(next(xss_site.glob(f"{kind}/*.html")).relative_to(xss_site)), "")
        for kind in ("models", "benchmarks")
    ]
    for page, fragment in pages:
        _open(driver, xss_site / page, fragment)
        time.sleep(0.3)  # let the page scripts and data loads run
        assert (
            _js(driver, "return 1") == 1
        )  # raises UnexpectedAlertPresentException after an alert()
        injected = "[onerror], script:not([src]):not([type]), img:not([src^='images/'])"
        assert _js(driver, f'return document.querySelectorAll("{injected}").length') == 0, page
    assert _errors(driver) == []


def test_cross_harness_page_lists_the_disagreements(driver: Any, tmp_path: Path) -> None:
    import pandas as pd

    from evalharness.leaderboard import build_site

    from .conftest import PAYLOAD
    from .fake_results import make_results

    results = make_results(tmp_path / "results", n_models=2, n_benchmarks=2, n_samples=6)
    rows = [  # what `evalharness parity` writes: three readings of each stored answer
        ("1", "red", 1.0, 1.0, 1.0),
        ("2", "The answer is two.", 0.0, 1.0, 0.0),
        ("3", "Yes", 0.0, 1.0, 1.0),
        ("4", PAYLOAD, 0.0, 0.0, float("nan")),
    ]
    frame = pd.DataFrame(
        [
            {
                "run_id": "r1",
                "benchmark": "vqav2",
                "model": "m",
                "task": "vqav2_val",
                "metric": "exact_match",
                "sample_id": sid,
                "prompt": "q",
                "prediction": text,
                "target": "t",
                "official": off,
                "robust": rob,
                "lmms_eval": lm,
                "lmms_response": text,
            }
            for sid, text, off, rob, lm in rows
        ]
    )
    (results / "parity").mkdir()
    frame.to_parquet(results / "parity" / "r1.parquet")
    site = build_site(results, tmp_path / "site", title="t").parent
    _open(driver, site / "index.html")  # every page links to it
    _js(driver, "document.querySelector('nav a[href=\"parity.html\"]').click()")
    _wait(driver, lambda: driver.current_url.endswith("parity.html"))
    assert _js(driver, "return 1") == 1  # no alert() from the payload
    counts = _js(
        driver,
        "return [...document.querySelectorAll('.parity-counts td')].map(t => t.textContent)",
    )
    # official≠lmms: 3, 4; robust≠lmms: 2, 4; official≠robust: 2, 3
    assert counts == ["2", "2", "2"]
    listed = _js(
        driver,
        "return [...document.querySelectorAll('.parity-rows tbody tr')].map(r => r.dataset.sample)",
    )
    assert listed == ["2", "3", "4"]
    raw = _js(driver, "return document.querySelector('tr[data-sample=\"2\"] .raw').textContent")
    assert raw == "The answer is two."
    injected = "[onerror], script:not([src]):not([type]), img:not([src^='images/'])"
    assert _js(driver, f'return document.querySelectorAll("{injected}").length') == 0
    assert _errors(driver) == []
