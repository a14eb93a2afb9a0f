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

from browser_support import (
    CHROMIUM,
    VIEWPORT,
    app_env,
    dashboard_tab,
    draft_study,
    go,
    import_references,
    run_study,
    set_number,
    settled,
)

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
    out.mkdir(parents=True, exist_ok=True)
    results = Path(tempfile.mkdtemp(prefix="posebench-shots-"))
    env = app_env(results, POSEBENCH_CLIP_DIRS=JUMPS)
    with dashboard_tab(env, out, timeout=120_000) as page:
        shoot(page, out, "01-home")
        if not study_only:
            single_run_pages(page, out, clip or JUMPS / RUN_CLIP, frames)
        study_pages(page, out, results)
        go(page, "Live")
        shoot(page, out, "12-live")


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
    try:  # a short run may finish between two looks of the progress panel
        page.wait_for_selector("text=s left", timeout=30_000)
        page.screenshot(path=out / "03-run-progress.png")
    except Exception:
        print("03-run-progress: the run finished before a time-left estimate was shown", flush=True)
    page.wait_for_selector("text=Model load time", timeout=600_000)
    shoot(page, out, "03-run")

    for i, name in enumerate(("Compare", "Charts", "Accuracy", "Scorecard", "Results", "Explorer"), 4):
        go(page, name)
        if name == "Accuracy":
            # the jump table, or (a capped run) the sentence that says why there is none
            done = page.get_by_text(re.compile("^Jump by jump, against the reference|^No jump metrics from"))
            done.first.wait_for(timeout=300_000)
        shoot(page, out, f"{i:02d}-{name.lower()}")


def study_pages(page, out: Path, results: Path) -> None:
    """A 2-clip study with the by-eye references, and its one-page report printed to PDF."""
    draft_study(page, STUDY_CLIPS)
    shoot(page, out, "10-study-draft")
    import_references(page, JUMPS / "study.csv", STUDY_CLIPS, results / "refs.csv")
    run_study(page, "two-jumps", len(STUDY_CLIPS), timeout=900_000)
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
