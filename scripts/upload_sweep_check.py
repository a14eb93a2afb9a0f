"""Uploads left by closed tabs, end to end (docs/robustness.md, "Uploads of closed sessions").

    python scripts/upload_sweep_check.py [--tabs 5] [--wait 330]

Starts the dashboard of this checkout (``dashboard.launch``) with its own upload folder and
``POSEBENCH_UPLOAD_GRACE_S=0``, uploads the shared running clip on the Clip page from
``--tabs`` separate browser sessions (Debian's chromium, Playwright), closes them all and
prints how many uploads are on disk every 15 s. Streamlit keeps a closed tab's session for
2 minutes and the sweep looks every 60 s, so all but one go within about 3 minutes; the one
left is the (single) user's latest upload, kept for a reload until ``POSEBENCH_UPLOAD_TTL_S``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=5)
    parser.add_argument("--wait", type=float, default=330.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from conftest import CLIPS, RUNNING
    from test_browser import CHROMIUM, CHROMIUM_ARGS, streamlit_app

    tmp = Path(tempfile.mkdtemp(prefix="upload-sweep-"))
    uploads = tmp / "uploads"
    env = dict(
        os.environ,
        POSEBENCH_RESULTS=str(tmp / "results"),
        POSEBENCH_CLIP_DIRS=str(CLIPS),
        POSEBENCH_UPLOADS=str(uploads),
        POSEBENCH_UPLOAD_GRACE_S="0",
    )
    with streamlit_app(env, tmp / "streamlit.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tabs = []
        for _ in range(args.tabs):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            tab = context.new_page()
            tab.set_default_timeout(120_000)
            tab.goto(url + "/Clip")
            tab.wait_for_selector("h1:has-text('Clip')")
            tab.get_by_text("Upload a video").click()
            tab.set_input_files("input[type=file]", str(RUNNING))
            tabs.append((context, tab))
        for _context, tab in tabs:
            tab.wait_for_selector("text=47 frames")
        print(f"{len(list(uploads.glob('upload-*')))} uploads on disk with {args.tabs} tabs open", flush=True)
        for context, _tab in tabs:
            context.close()
        closed = time.time()
        while time.time() - closed < args.wait:
            left = len(list(uploads.glob("upload-*")))
            print(f"  {time.time() - closed:4.0f} s after closing: {left} on disk", flush=True)
            time.sleep(15)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
