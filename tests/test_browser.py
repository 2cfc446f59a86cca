"""Published reports as readers open them: headless Chromium (Debian's package) via Playwright.

Every workbook's report.html, and the selection's one-page export, opened from disk:
every plotly chart draws, the console shows no error, no request leaves the file
itself, and account names made of HTML or script show as text and never run.

Chromium is Debian's (``apt-get install chromium``; .ci/run installs it), never a
browser downloaded by Playwright. Without it these tests skip locally and fail in CI
(CI=true), so a CI run cannot pass without having opened the reports.

With KAM_SCREENSHOTS=1 the tests also write the top of each sample report to
docs/screenshots/<workbook>.png, the pictures the README shows.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kamlib.run.runner import WORKBOOKS
from support import HOSTILE_NAMES, REPO, kam, write_hostile_company

CHROMIUM = Path(os.environ.get("KAM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
SCREENSHOTS = REPO / "docs" / "screenshots"
SCREENSHOT_SIZE = {"width": 1280, "height": 1400}

# Charts that plotly has drawn: an SVG with a size and at least one trace in it.
DRAWN_CHARTS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(plot => {
    const svg = plot.querySelector('svg.main-svg');
    const box = svg ? svg.getBoundingClientRect() : null;
    return box && box.width > 0 && box.height > 0 && plot.querySelector('g.trace') !== null;
}).length"""
# What a reader can see: the page's text and the text plotly drew into its SVGs.
VISIBLE_TEXT = """() => document.body.innerText + '\\n' +
    [...document.querySelectorAll('svg text')].map(t => t.textContent).join('\\n')"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module, with an empty profile of its own."""
    if not CHROMIUM.exists():
        reason = (f"Chromium not found at {CHROMIUM}: install Debian's package "
                  "(apt-get install chromium) or set KAM_CHROMIUM to its path.")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport=SCREENSHOT_SIZE)
        yield context
        context.close()


def _period_folder(out: Path) -> Path:
    (period,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")
                 and p.name != "failed"]
    return period


@pytest.fixture(scope="module")
def sample_reports(sample_run) -> Path:
    """Every workbook run once on the sample company (shared with other tests)."""
    return _period_folder(sample_run.out)


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory) -> Path:
    """Every workbook run once on a small company whose account names are HTML."""
    root = tmp_path_factory.mktemp("hostile")
    data, out = write_hostile_company(root / "data"), root / "reports"
    result = kam("run", "all", "--data", str(data), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return _period_folder(out)


@dataclass
class OpenedPage:
    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests for anything but the file itself or inline data."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


def open_page(browser, path: Path) -> OpenedPage:
    page = browser.new_page()
    opened = OpenedPage(page, path.as_uri())
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("console", lambda message: opened.errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: opened.errors.append(f"uncaught: {error}"))
    page.goto(opened.url, wait_until="load")
    return opened


def plotly_outputs(notebook: Path) -> int:
    """Charts in the executed notebook: outputs plotly wrote, drawn or only as JSON."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(1 for cell in cells for output in cell.get("outputs", [])
               if "application/vnd.plotly.v1+json" in output.get("data", {})
               or "Plotly.newPlot" in "".join(output.get("data", {}).get("text/html", "")))


def check_charts_drawn(opened: OpenedPage, folder: Path, workbook: str) -> None:
    expected = plotly_outputs(folder / WORKBOOKS[workbook].notebook)
    opened.page.wait_for_function(f"() => ({DRAWN_CHARTS})() >= {expected}", timeout=60_000)
    assert opened.page.locator(".js-plotly-plot").count() == expected
    assert opened.page.evaluate(DRAWN_CHARTS) == expected


def check_names_shown_as_text(opened: OpenedPage) -> None:
    assert opened.page.evaluate("typeof window.__pwned") == "undefined", "a name ran as script"
    text = opened.page.evaluate(VISIBLE_TEXT)
    for name in HOSTILE_NAMES:
        assert name in text, f"{name!r} is not shown as text"
    # Each "Bold & Co" carries its tags as text: none was turned into bold markup.
    assert text.count("Bold & Co") == text.count("<b>Bold & Co</b>")


def check_offline_and_clean(opened: OpenedPage) -> None:
    assert opened.foreign_requests() == []
    assert opened.errors == []


@pytest.mark.slow
@pytest.mark.parametrize("workbook", list(WORKBOOKS))
def test_sample_report_draws_every_chart_offline(browser, sample_reports, workbook):
    folder = sample_reports / workbook
    opened = open_page(browser, folder / "report.html")
    check_charts_drawn(opened, folder, workbook)
    check_offline_and_clean(opened)
    if os.environ.get("KAM_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        opened.page.screenshot(path=SCREENSHOTS / f"{workbook}.png")
    opened.page.close()


@pytest.mark.slow
@pytest.mark.parametrize("workbook", list(WORKBOOKS))
def test_account_names_with_html_show_as_text_and_never_run(browser, hostile_reports,
                                                            workbook):
    folder = hostile_reports / workbook
    opened = open_page(browser, folder / "report.html")
    check_charts_drawn(opened, folder, workbook)
    check_names_shown_as_text(opened)
    check_offline_and_clean(opened)
    opened.page.close()


@pytest.mark.slow
@pytest.mark.parametrize("company", ["sample", "hostile"])
def test_our_key_accounts_page_is_plain_and_offline(browser, request, company):
    folder = request.getfixturevalue(f"{company}_reports") / "selection"
    (page,) = folder.glob("our_key_accounts_*.html")
    opened = open_page(browser, page)
    assert opened.page.locator("ol > li").count() > 0
    if company == "hostile":
        check_names_shown_as_text(opened)
    check_offline_and_clean(opened)
    opened.page.close()
