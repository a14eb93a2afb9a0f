"""A link to a page as a fresh server's very first request, in a real browser.

Streamlit decides once per server, when the first browser connects, whether the app keeps its
pages in a ``pages/`` folder beside ``app.py``; a checkout from the page-file days keeps an empty
one (with Python's caches in it), and then the first link to a page showed "Page not found" over
the right page. The app is started here from a folder that has such a leftover, through the
launcher every browser test uses (``dashboard.launch``).
"""

from __future__ import annotations

import os
import shutil

import pytest

from browser_support import CHROMIUM, CHROMIUM_ARGS, ROOT, VIEWPORT, no_exceptions, settled
from conftest import CLIPS, RUNNING
from posebench.dashboard import launch

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_clear_pages_folder_removes_only_a_folder_without_pages(tmp_path):
    (tmp_path / "pages" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pages" / "__pycache__" / "old.cpython-311.pyc").write_bytes(b"x")
    assert launch.clear_pages_folder(tmp_path) is None and not (tmp_path / "pages").exists()
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "1_Clip.py").write_text("print('a page of its own')\n")
    assert launch.clear_pages_folder(tmp_path) == tmp_path / "pages"
    assert (tmp_path / "pages" / "1_Clip.py").exists()  # someone's file: left alone
    with (
        pytest.raises(RuntimeError, match="holds files"),
        launch.streamlit_app(tmp_path, dict(os.environ), tmp_path / "log.txt"),
    ):
        pass


def test_a_link_to_a_page_is_a_fresh_servers_first_request(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    app = tmp_path / "app"
    app.mkdir()
    shutil.copyfile(ROOT / "app.py", app / "app.py")
    shutil.copytree(ROOT / ".streamlit", app / ".streamlit")
    (app / "pages" / "__pycache__").mkdir(parents=True)  # what a checkout from before keeps
    src = str(ROOT / "src")
    env = dict(
        os.environ,
        POSEBENCH_RESULTS=str(tmp_path / "results"),
        POSEBENCH_CLIP_DIRS=str(CLIPS),
        PYTHONPATH=src + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""),
    )
    with launch.streamlit_app(app, env, tmp_path / "streamlit.log") as served, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport=VIEWPORT)
        tab.set_default_timeout(120_000)
        tab.goto(f"{served.url}/Run?clip={RUNNING.name}")  # nothing asked of the server before
        tab.wait_for_selector("h1:has-text('Run')")
        tab.get_by_test_id("stSidebar").get_by_text(RUNNING.name).wait_for()  # the link's clip
        settled(tab)
        assert tab.get_by_text("Page not found").count() == 0
        assert tab.get_by_role("dialog").count() == 0
        assert "/Run" in tab.url
        no_exceptions(tab)
        # the address's page stays usable: its form answers (a dialog would cover it)
        tab.get_by_role("spinbutton", name="Frames to process").fill("5")
        tab.get_by_role("spinbutton", name="Frames to process").press("Enter")
        tab.wait_for_function("document.querySelector(`input[aria-label='Frames to process']`).value == '5'")
        browser.close()
    assert not (app / "pages").exists()
