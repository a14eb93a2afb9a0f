"""Evidence a coach can read, check and mail (issue 22), in a real browser at 1280×800.

A study of two shared side-view jumps with their by-eye references: the Study page and the
offline report show the per-jump table with units and one filmstrip per jump, with no raw
column names and no NaN/None/<NA>; the Scorecard shows one verdict in view; a reference saved
on the Accuracy page shows its error column without another click.
"""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pytest

from browser_support import (
    ARTIFACTS,
    draft_study,
    go,
    import_references,
    no_exceptions,
    page_fixture,
    run_study,
    screenshot_at,
    server_fixture,
    set_number,
)
from conftest import CLIPS

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

JUMPS = CLIPS / "jumps"
PICKED = ("cmj_side_dhruvrahuja_3.mp4", "cmj_side_dhruvrahuja_4.mp4")  # two short jumps
RUN_CLIP = "cmj_side_dhruvrahuja_5.mp4"  # 43 frames; no reference saved for it before the test
RAW_NAMES = (
    "flight_time_s",
    "flight_time_ms",
    "flight_time_error_ms",
    "jump_height_m",
    "reference_flight_time",
    "takeoff_frame",
    "landing_frame",
    "fps_ratio",
    "agreement_0.1",
    "trajectory_r2",
    "still_jitter_ratio",
    "Tasks API",
    "Model-only timing",
)
NOT_A_VALUE = re.compile(r"\b(NaN|nan|None|<NA>)\b")


server = server_fixture(JUMPS, "evidence")
page = page_fixture()


def visible_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def grid_headers(page, key: str) -> list[str]:
    """The headers of a table (Streamlit's grid keeps them in an accessible DOM table)."""
    grid = page.locator(f".st-key-{key} [data-testid='stDataFrame']").first
    grid.locator("[role='columnheader']").first.wait_for(state="attached")
    return [h.strip() for h in grid.locator("[role='columnheader']").all_inner_texts() if h.strip()]


def filmstrip_alts(page) -> list[str]:
    return [a for a in page.locator("img").evaluate_all("l => l.map(i => i.alt || '')") if "Filmstrip" in a]


def test_study_report_scorecard_and_reference_in_one_step(page, server, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)

    # -- a study of two jumps, with the by-eye references imported by SHA-256 -------------------
    draft_study(page, PICKED)
    import_references(page, JUMPS / "study.csv", PICKED, tmp_path / "refs.csv")
    run_study(page, "two-jumps", len(PICKED), timeout=600_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img')]"
        ".filter(i => (i.alt || '').startsWith('Filmstrip')).length >= 2"
    )
    no_exceptions(page)
    screenshot_at(page, "Jump by jump", "evidence-study.png")
    headers = grid_headers(page, "study-jumps-grid")
    for header in ("Flight (ms, ± ref)", "Height (cm, ± ref)", "Landing (± marked)"):
        assert header in headers, headers  # every key column in view at 1280 px
    text = visible_text(page)
    assert not [raw for raw in RAW_NAMES if raw in text], text
    assert not NOT_A_VALUE.search(text)
    assert len(filmstrip_alts(page)) == 2  # one per jump

    # -- the offline report: the same table, a filmstrip per jump, no raw names -----------------
    page.get_by_role("button", name="Prepare the evidence report (zip)").click()
    with page.expect_download(timeout=300_000) as download:
        page.get_by_role("button", name=re.compile("Evidence report")).click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    report = files["report.html"].decode("utf-8")
    (ARTIFACTS / "evidence-study-report.html").write_text(report, encoding="utf-8")
    assert "Jump by jump" in report and "Flight error (ms)" in report and "Height (cm)" in report
    assert report.count("alt='Filmstrip of") == 2
    assert sum(n.startswith("filmstrips/") for n in files) == 2
    body = re.sub(r"<style>.*?</style>|src='data:[^']*'|title='[^']*'", "", report, flags=re.S)
    assert not [raw for raw in RAW_NAMES if raw in body]
    assert not NOT_A_VALUE.search(re.sub(r"<[^>]+>", " ", body))
    assert "study_jumps.csv" in files and "flight_time_error_ms (ms)" in files["study_jumps.csv"].decode()

    # -- a run of one jump: the Scorecard's one verdict, the Accuracy page's reference ---------
    go(page, "Clip")
    page.get_by_text("Upload a video").click()
    page.set_input_files("input[type=file]", str(JUMPS / RUN_CLIP))
    page.wait_for_selector("text=43 frames")
    go(page, "Run")
    page.get_by_role("button", name="Run benchmark").click()
    page.wait_for_selector("text=Model load time", timeout=300_000)
    no_exceptions(page)

    go(page, "Scorecard")
    page.get_by_test_id("stAlert").first.wait_for()
    verdicts = [
        t
        for t in page.get_by_test_id("stAlert").all_inner_texts()
        if re.search(r"\b(Keep|Replace|Not enough)\b", t)
    ]
    assert len(verdicts) == 1, verdicts
    text = visible_text(page)
    assert "Speed-only score" not in text and "Framework:" not in text and "full replacement" not in text
    assert not [raw for raw in RAW_NAMES if raw in text]
    page.screenshot(path=ARTIFACTS / "evidence-scorecard.png")

    go(page, "Accuracy")
    page.get_by_role("heading", name="Jump by jump, against the reference").wait_for(timeout=120_000)
    before = grid_headers(page, "jump-per-jump-grid")
    assert "Flight time (ms)" in before and "Flight (ms, ± ref)" not in before  # no reference yet
    page.screenshot(path=ARTIFACTS / "evidence-accuracy-before.png")
    table = pd.read_csv(JUMPS / "study.csv")
    ref = table.set_index("clip").loc[RUN_CLIP]
    set_number(page, "Take-off frame", int(ref["takeoff_frame"]))
    set_number(page, "Landing frame", int(ref["landing_frame"]))
    page.get_by_role("button", name="Save the reference with the run").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.st-key-jump-per-jump-grid [role=columnheader]')]"
        ".some(h => h.innerText.includes('± ref'))"
    )
    no_exceptions(page)
    screenshot_at(page, "Jump by jump, against the reference", "evidence-accuracy.png")
