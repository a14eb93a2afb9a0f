"""A session that survives, in a real browser: reloads, a second tab, the evidence report offline.

`streamlit run app.py` driven by Playwright with Debian's chromium (see browser_support.py).
A shared link opens the Run page on the running clip; a benchmark starts; the tab is
reloaded mid-run and after the run and comes back to the same clip, run and page; a second
tab sees the running job; the evidence report's HTML renders the verdict and its charts
with the network off; no visible table header has an underscore.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from browser_support import ARTIFACTS, chromium, go, no_exceptions, server_fixture, set_number, settled
from conftest import CLIPS, RUNNING

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(600)]

FRAMES, WARMUP = 47, 2
SIZE = {"width": 1280, "height": 800}


server = server_fixture(CLIPS, "session")


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


def sidebar_text(tab) -> str:
    return tab.get_by_test_id("stSidebar").inner_text()


def table_headers(tab) -> list[str]:
    """Header texts of every table drawn on the page (the grid's accessible table)."""
    return tab.evaluate(
        """Array.from(document.querySelectorAll(
            "[data-testid='stDataFrame'] th, [data-testid='stDataFrame'] [role='columnheader'],"
            + " [data-testid='stTable'] th")).map(e => e.textContent.trim()).filter(t => t)"""
    )


def test_reload_second_tab_and_evidence_report(server, browser):
    url = server[0]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=SIZE, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(120_000)

    # A shared link, the server's first request, chooses the clip and the page.
    tab.goto(f"{url}/Run?clip={RUNNING.name}")
    tab.wait_for_selector("h1:has-text('Run')")
    tab.wait_for_selector(f"text={RUNNING.name}")
    set_number(tab, "Frames to process", FRAMES)
    set_number(tab, "Warm-up frames", WARMUP)
    assert tab.get_by_role("checkbox", name="rtmpose-lightweight-tuned").is_checked()  # fair by default
    tab.get_by_role("button", name="Run benchmark").click()
    tab.wait_for_selector("text=Running for")

    # A second tab of the same user sees the running job and can go to it.
    second = context.new_page()
    second.set_default_timeout(300_000)  # a loaded machine serves the second tab slowly
    second.goto(url)
    second.wait_for_selector("text=Work through the pages")
    second.get_by_test_id("stSidebar").get_by_text("A benchmark running").wait_for()
    second.get_by_test_id("stSidebar").get_by_role("link", name=re.compile("See it on .*Run")).wait_for()
    second.screenshot(path=ARTIFACTS / "browser-second-tab.png")

    # Reload mid-run: same page and clip, the run's progress is still shown.
    tab.reload()
    tab.wait_for_selector("h1:has-text('Run')")
    tab.wait_for_selector("text=Running for")
    assert RUNNING.name in tab.url and "/Run" in tab.url
    tab.get_by_test_id("stSidebar").get_by_text(RUNNING.name).wait_for()  # drawn after the page
    tab.screenshot(path=ARTIFACTS / "browser-reload-mid-run.png")

    # After the run: the address names the run; a reload comes back to it on the same page.
    tab.wait_for_selector("text=Model load time", timeout=300_000)
    tab.wait_for_url(re.compile(r"run=[0-9]{8}-"))
    run_id = re.search(r"run=([A-Za-z0-9_.-]+)", tab.url).group(1)
    tab.reload()
    tab.wait_for_selector("text=Model load time")
    assert "/Run" in tab.url and run_id in tab.url and RUNNING.name in tab.url
    tab.get_by_test_id("stSidebar").get_by_text(run_id).wait_for()
    assert RUNNING.name in sidebar_text(tab)
    no_exceptions(tab)

    # The evidence report: jump.csv, verdict.json and an HTML page that works offline.
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Evidence report (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    names = {name.split("/", 1)[1] for name in archive.namelist()}
    assert {"jump.csv", "verdict.json", "report.html", "summary.csv", "frames.csv"} <= names
    report = ARTIFACTS / "browser-evidence-report.html"
    report.write_bytes(archive.read(next(n for n in archive.namelist() if n.endswith("report.html"))))
    offline = browser.new_context(viewport=SIZE)
    offline.set_offline(True)
    page = offline.new_page()
    page.goto(report.as_uri())
    verdict = page.locator("#verdict").inner_text()
    assert len(verdict) > 20
    sizes = page.evaluate("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    assert len(sizes) >= 4 and all(w > 300 for w in sizes)  # every chart of the run
    page.screenshot(path=ARTIFACTS / "browser-evidence-report.png", full_page=True)
    offline.close()

    # Every page: no table header with an underscore, no exception (the page's tables and their
    # headers are the same at any width; 1280x800 is the size the pages are checked at).
    for name in ("Run", "Compare", "Charts", "Accuracy", "Scorecard", "Results", "Explorer", "Clip"):
        go(tab, name)
        settled(tab)  # tables and charts draw after the page
        no_exceptions(tab)
        headers = table_headers(tab)
        assert not [h for h in headers if "_" in h], (name, headers)
        tab.screenshot(path=ARTIFACTS / f"browser-{name.lower()}-1280.png", full_page=True)
    context.close()
