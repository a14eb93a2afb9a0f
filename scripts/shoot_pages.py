"""Screenshot every dashboard page at 1280×800 in headless Chromium, as a coach would go through
them: upload a jump, run the default comparison, look at each page, run a 2-clip study and print
its one-page report to PDF. For looking at, not a test:
``python scripts/shoot_pages.py OUT_DIR [--clip PATH] [--frames N] [--study-only]``
(``--clip``: the clip uploaded and run, default a short side-view jump; ``--frames``: frames to
process, default the whole clip; the run has one round).

PNGs, one per screenful (``NN-page-K.png``), go to OUT_DIR, with the study report as HTML and PDF.
Needs Debian's chromium (/usr/bin/chromium) and Playwright's Python package.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, go, settled, streamlit_app

JUMPS = Path(os.environ.get("POSEBENCH_SHARED", "/work/shared")) / "clips" / "jumps"
RUN_CLIP = "cmj_side_dhruvrahuja_5.mp4"
MAX_SHOTS = 8  # screenfuls per page
STUDY_CLIPS = ("cmj_side_dhruvrahuja_3.mp4", "cmj_side_dhruvrahuja_4.mp4")


def shoot(page, out: Path, name: str) -> None:
    try:
        settled(page, timeout=120_000)
    except Exception as exc:  # a page that keeps polling is shot as it is
        print(f"{name}: not settled ({exc.__class__.__name__})", flush=True)
    # the page scrolls inside Streamlit's main section, not the window: one shot per screenful
    main = "document.querySelector(\"[data-testid='stMain']\")"
    height = page.evaluate(f"{main}.scrollHeight")
    for i, top in enumerate(range(0, max(1, height), VIEWPORT["height"] - 80)):
        if i >= MAX_SHOTS:
            break
        page.evaluate(f"{main}.scrollTo(0, {top})")
        page.wait_for_timeout(300)  # the grid redraws its canvas after a scroll
        page.screenshot(path=out / f"{name}-{i + 1}.png")
    page.evaluate(f"{main}.scrollTo(0, 0)")
    print(f"shot {name} ({height} px)", flush=True)


def main(out: Path, study_only: bool = False, clip: Path | None = None, frames: int | None = None) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    results = Path(tempfile.mkdtemp(prefix="posebench-shots-"))
    env = dict(os.environ, POSEBENCH_RESULTS=str(results), POSEBENCH_CLIP_DIRS=str(JUMPS))
    with streamlit_app(env, out / "streamlit.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_selector("text=Work through the pages")
        shoot(page, out, "01-home")
        if not study_only:
            single_run_pages(page, out, clip or JUMPS / RUN_CLIP, frames)
        study_pages(page, out, results)
        go(page, "Live")
        shoot(page, out, "12-live")
        browser.close()


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function(
        "([l, v]) => document.querySelector(`input[aria-label='${l}']`).value == v", arg=[label, str(value)]
    )


def single_run_pages(page, out: Path, clip: Path, frames: int | None) -> None:
    """Clip, Run (during and after a short run) and the pages that show one run."""
    go(page, "Clip")
    page.get_by_text("Upload a video").click()
    page.set_input_files("input[type=file]", str(clip))
    page.wait_for_selector(f"text=Using your upload: {clip.name}", timeout=300_000)
    shoot(page, out, "02-clip")

    go(page, "Run")
    if frames:
        set_number(page, "Frames to process", frames)
    set_number(page, "Rounds", 1)
    page.get_by_role("button", name="Run benchmark").click()
    page.wait_for_selector("text=Running for", timeout=300_000)
    page.screenshot(path=out / "03-run-loading.png")
    page.wait_for_selector("text=s left", timeout=300_000)
    page.screenshot(path=out / "03-run-progress.png")
    page.wait_for_selector("text=Model load time", timeout=600_000)
    shoot(page, out, "03-run")

    for i, name in enumerate(("Compare", "Charts", "Accuracy", "Scorecard", "Results", "Explorer"), 4):
        go(page, name)
        if name == "Accuracy":
            heading = page.get_by_role("heading", name="Jump by jump, against the reference")
            heading.wait_for(timeout=300_000)
        shoot(page, out, f"{i:02d}-{name.lower()}")


def study_pages(page, out: Path, results: Path) -> None:
    """A 2-clip study with the by-eye references, and its one-page report printed to PDF."""
    go(page, "Study")
    box = page.locator("[data-testid='stMultiSelect']").filter(has_text="Clips on this server")
    box.click()
    for name in STUDY_CLIPS:
        page.keyboard.type(name)
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add these clips").click()
    page.wait_for_selector("text=References for 2 clips")
    shoot(page, out, "10-study-draft")
    import pandas as pd

    refs = pd.read_csv(JUMPS / "study.csv")
    refs = refs[refs["clip"].isin(STUDY_CLIPS)]
    csv = results / "refs.csv"
    from posebench.store import references

    refs[list(references.CSV_COLUMNS)].to_csv(csv, index=False)
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Import references")
    uploader.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector("text=2 references imported")
    field = page.get_by_role("textbox", name="Study name")
    field.fill("two-jumps")
    field.press("Enter")
    page.get_by_role("button", name="Run the study (2 clips × 2 backends)").click()
    page.get_by_role("heading", name="Jump by jump").wait_for(timeout=900_000)
    shoot(page, out, "11-study")
    page.get_by_role("button", name="Prepare the evidence report (zip)").click()
    with page.expect_download(timeout=300_000) as download:
        page.get_by_role("button", name=re.compile("^Evidence report")).click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        report_dir = out / "study-report"
        archive.extractall(report_dir)
    html = next(report_dir.rglob("report.html"))
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"]
        + [f"--print-to-pdf={out / 'study-report.pdf'}", html.as_uri()],
        check=False,
        timeout=120,
        capture_output=True,
    )
    print("printed study-report.pdf", flush=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="shots", type=Path)
    parser.add_argument("--study-only", action="store_true")
    parser.add_argument("--clip", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=None)
    args = parser.parse_args()
    main(args.out, study_only=args.study_only, clip=args.clip, frames=args.frames)
