"""The Study page in a real browser: clips on the server, a references CSV, run, read the verdict."""

from __future__ import annotations

import hashlib
import json
import re

import pandas as pd
import pytest

from browser_support import go, no_exceptions, page_fixture, screenshot_at, server_fixture, settled
from conftest import CLIPS, RUNNING
from posebench.store import references

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(600)]

server = server_fixture(CLIPS, "study")
page = page_fixture()


def test_a_study_is_built_run_and_read_in_the_browser(page, server, tmp_path):
    _url, results_dir = server
    go(page, "Study")
    page.wait_for_selector("text=No study yet")
    settled(page)  # a busy machine: the widgets take their final place before typing into them
    box = page.locator("[data-testid='stMultiSelect']").filter(has_text="Clips on this server")
    box.click()
    page.keyboard.type("running_side")
    page.get_by_role("option", name=RUNNING.name).first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    settled(page)
    page.get_by_role("button", name="Add these clips").click()
    page.wait_for_selector("text=References for 1 clips")

    sha = hashlib.sha256(RUNNING.read_bytes()).hexdigest()
    csv = tmp_path / "refs.csv"
    csv.write_text(
        ",".join(references.CSV_COLUMNS) + f"\n{RUNNING.name},{sha},cmj,0.3,,,contact mat,browser test\n"
    )
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Import references")
    uploader.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_selector("text=1 references imported")
    assert references.get(sha, results_dir).flight_time_s == 0.3  # kept by SHA-256 for next time

    name = page.get_by_role("textbox", name="Study name")
    name.fill("browser-study")
    name.press("Enter")
    page.get_by_role("button", name="Run the study (1 clips × 2 backends)").click()
    page.wait_for_selector("text=Every clip × backend (2 rows)", timeout=300_000)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stVegaLiteChart']\").length >= 2")
    screenshot_at(page, "Study browser-study", "browser-study.png")
    no_exceptions(page)
    page.locator("[data-testid='stAlert']").first.wait_for()  # the decision, in one line
    why = page.get_by_text(re.compile(r"^Why: ")).first.inner_text()  # and its whole sentence
    assert re.search(r"\b1 clips?\b", why), why  # it says how many clips it rests on
    verdict = json.loads((results_dir / "studies" / "browser-study" / "verdict.json").read_text())
    assert verdict["evidence"]["n_clips"] == 1 and verdict["decision"] != "replace"  # one clip is not enough

    with page.expect_download() as download:
        page.get_by_role("button", name="study_summary.csv").click()
    summary = pd.read_csv(download.value.path())
    assert list(summary["backend"]) == ["mediapipe-lite", "rtmpose-lightweight-tuned"]
    assert list(summary["n_clips"]) == [1, 1]
    assert summary["flight_time_bias_ms"].notna().all()

    go(page, "Results")
    page.wait_for_selector("text=Saved studies")
    screenshot_at(page, "Saved studies", "browser-study-results.png")
    assert page.get_by_role("combobox", name="Study", exact=True).input_value() == "browser-study"
    no_exceptions(page)
