"""What the browser tests share, and scripts/shoot_pages.py with them: `streamlit run app.py` of
this checkout (``dashboard.launch``) looked at by Debian's chromium through Playwright, and the
steps a coach takes on the pages.

A test module gets its server and page as fixtures made here:
``server = server_fixture(CLIPS, "browser")`` and ``page = page_fixture()``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest

from posebench.dashboard import launch
from posebench.dashboard.launch import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from posebench.store import references

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
HOME = "text=Work through the pages"  # the home page has drawn


def need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")


def app_env(results_dir: Path, **more: str | Path) -> dict[str, str]:
    """This process's environment with the dashboard's results folder and ``more``
    (``POSEBENCH_...=value``); the model folders are the tests' own (conftest sets them)."""
    return dict(os.environ, POSEBENCH_RESULTS=str(results_dir), **{k: str(v) for k, v in more.items()})


@contextlib.contextmanager
def streamlit_app(env: dict, log_path: Path) -> Iterator[str]:
    """The dashboard of this checkout with ``env`` (``dashboard.launch``); yields its URL."""
    with launch.streamlit_app(ROOT, env, log_path) as served:
        yield served.url


@contextlib.contextmanager
def chromium(args: Sequence[str] = CHROMIUM_ARGS):
    """Debian's chromium, headless, launched by Playwright with ``args``; closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        try:
            yield browser
        finally:
            browser.close()


def open_app(browser, url: str, timeout: float = 60_000):
    """A new 1280×800 tab (downloads allowed) on the dashboard's home page, once it has drawn."""
    tab = browser.new_context(viewport=VIEWPORT, accept_downloads=True).new_page()
    tab.set_default_timeout(timeout)
    tab.goto(url)
    tab.wait_for_selector(HOME)
    return tab


@contextlib.contextmanager
def dashboard_tab(env: dict, log_dir: Path, args: Sequence[str] = CHROMIUM_ARGS, timeout: float = 60_000):
    """The dashboard with ``env`` (its log in ``log_dir``) and one tab on it (``open_app``) of a
    chromium launched with ``args``; both stop at the end."""
    with streamlit_app(env, log_dir / "streamlit.log") as url, chromium(args) as browser:
        yield open_app(browser, url, timeout)


def server_fixture(clip_dirs: Path, name: str):
    """A module-scoped fixture ``server``: the dashboard with a fresh results folder and the clips
    in ``clip_dirs``; yields (url, results folder)."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        need_chromium()
        results_dir = tmp_path_factory.mktemp(f"{name}-results")
        env = app_env(results_dir, POSEBENCH_CLIP_DIRS=clip_dirs)
        with streamlit_app(env, tmp_path_factory.mktemp(f"{name}-log") / "streamlit.log") as url:
            yield url, results_dir

    return server


def page_fixture():
    """A module-scoped fixture ``page``: one tab on the module's ``server``, kept between tests."""

    @pytest.fixture(scope="module")
    def page(server):
        with chromium() as browser:
            yield open_app(browser, server[0])

    return page


def go(page, name: str) -> None:
    """Client-side navigation through the sidebar (a new URL would start a new session)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    page.wait_for_selector(f"h1:has-text('{name}')")


def no_exceptions(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def screenshot_at(page, heading: str, file: str) -> None:
    """The page scrolled to ``heading``, saved as test-artifacts/``file`` for a person to see."""
    page.get_by_role("heading", name=heading).scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / file)


def set_number(page, label: str, value) -> None:
    """Type ``value`` into the number box ``label`` and wait until the page holds it."""
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function(
        "([l, v]) => document.querySelector(`input[aria-label='${l}']`).value == v",
        arg=[label, str(value)],
    )


# True once Streamlit's script run has ended (the app root's data-test-script-state), nothing
# drawn is stale, every visible chart has drawn its canvas or SVG marks and every visible table
# its grid (one in a closed expander draws when opened), and all of that held on three polls in
# a row (charts and tables draw after the script ends).
SETTLED = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const drawn = (sel, inner) => Array.from(document.querySelectorAll(sel))
        .every(e => !e.checkVisibility() || e.querySelector(inner));
    const ok = app && app.getAttribute("data-test-script-state") === "notRunning"
        && !document.querySelector("[data-stale='true']")
        && drawn("[data-testid='stVegaLiteChart']", "canvas, svg.marks")
        && drawn("[data-testid='stDataFrame']", "canvas, table");
    window.__settled = ok ? (window.__settled || 0) + 1 : 0;
    return window.__settled >= 3;
}"""


def settled(page, timeout: float = 60_000) -> None:
    """Wait for the page to finish drawing, instead of sleeping for a guessed time."""
    page.evaluate("window.__settled = 0")
    page.wait_for_function(SETTLED, polling=200, timeout=timeout)


# -- a study of a few clips on the server, with their by-eye references ------------------------
def draft_study(page, clips: Iterable[str]) -> None:
    """On the Study page: pick ``clips`` (names of clips on the server) and add them."""
    clips = list(clips)
    go(page, "Study")
    box = page.locator("[data-testid='stMultiSelect']").filter(has_text="Clips on this server")
    box.click()
    for name in clips:
        page.keyboard.type(name)
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    for name in clips:
        box.get_by_text(name).wait_for()
    page.get_by_role("button", name="Add these clips").click()
    page.wait_for_selector(f"text=References for {len(clips)} clips")


def import_references(page, manifest: Path, clips: Iterable[str], csv: Path) -> None:
    """Import the manifest's references of ``clips`` (written to ``csv`` in the references
    format) into the drafted study."""
    table = pd.read_csv(manifest)
    picked = table[table["clip"].isin(list(clips))]
    picked[list(references.CSV_COLUMNS)].to_csv(csv, index=False)
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Import references")
    uploader.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector(f"text={len(picked)} references imported")


def run_study(page, name: str, clips: int, timeout: float) -> None:
    """Name the drafted study, run it on the two default backends and wait for its jumps."""
    field = page.get_by_role("textbox", name="Study name")
    field.fill(name)
    field.press("Enter")
    page.get_by_role("button", name=f"Run the study ({clips} clips × 2 backends)").click()
    page.get_by_role("heading", name="Jump by jump").wait_for(timeout=timeout)
