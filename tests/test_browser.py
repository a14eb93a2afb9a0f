"""End to end in a real browser: `streamlit run app.py` driven by Playwright with Debian's chromium.

Upload a real clip, run two real backends, download the per-frame CSV, check
the overlay video plays, wait for the charts, and save screenshots (1280×800)
under test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import io

import av
import pandas as pd
import pytest

from browser_support import (
    ARTIFACTS,
    go,
    no_exceptions,
    page_fixture,
    screenshot_at,
    server_fixture,
    set_number,
    settled,
)
from conftest import CLIPS, RUNNING
from posebench.backends.backend_config import DEFAULT_COMPARISON
from posebench.core.schema import landmark_columns
from posebench.dashboard import verdict_view
from posebench.decision import headline_verdict
from posebench.decision.verdict_evidence import Evidence
from posebench.store import run_store, sidecars

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

FRAMES, WARMUP = 20, 3

server = server_fixture(CLIPS, "browser")
page = page_fixture()


def test_upload_run_download_and_watch(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    # 1. Clip: upload a real clip.
    go(page, "Clip")
    page.get_by_text("Upload a video").click()
    page.set_input_files("input[type=file]", str(RUNNING))
    page.wait_for_selector("text=480 × 352 px")
    page.wait_for_selector("text=47 frames")
    no_exceptions(page)
    page.screenshot(path=ARTIFACTS / "browser-clip.png")

    # 2. Run: the default backends on a few frames.
    go(page, "Run")
    set_number(page, "Frames to process", FRAMES)
    set_number(page, "Warm-up frames", WARMUP)
    page.get_by_role("button", name="Run benchmark").click()
    page.wait_for_selector("text=Model load time", timeout=240_000)
    no_exceptions(page)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    screenshot_at(page, "Results", "browser-run.png")

    # The per-frame CSV has the documented columns and one row per frame per backend.
    with page.expect_download() as download:
        page.get_by_role("button", name="Per-frame CSV").click()
    frames = pd.read_csv(download.value.path())
    assert "latency_ms (ms)" in frames.columns  # the unit in the header
    frames.columns = frames.columns.str.replace(r" \(.*\)$", "", regex=True)
    expected = [
        "backend",
        "frame",
        "warmup",
        "latency_ms",
        "decode_ms",
        "detect_ms",
        "pose_ms",
        *landmark_columns(),
    ]
    assert set(expected) <= set(frames.columns)
    # the default comparison: MediaPipe lite, the rtmlib default and the tuned preset
    assert sorted(frames["backend"].unique()) == list(DEFAULT_COMPARISON)
    assert len(frames) == 3 * FRAMES
    assert frames.groupby("backend")["warmup"].sum().tolist() == [WARMUP] * 3

    # 3. Compare: the overlay video has a source the browser can play.
    go(page, "Compare")
    video = page.locator("video").first
    video.wait_for(state="attached")
    assert video.evaluate("v => v.canPlayType('video/mp4; codecs=\"avc1.42E01E\"')") in ("probably", "maybe")
    page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v && v.readyState >= 1 && v.duration > 0; }"
    )
    duration = video.evaluate("v => v.duration")
    assert duration == pytest.approx(FRAMES / 29.97, abs=0.1)
    assert video.evaluate("v => v.videoWidth") == 3 * 480  # one panel per backend
    source = video.evaluate("v => v.currentSrc")
    data = page.request.get(source).body()
    (ARTIFACTS / "browser-overlay.mp4").write_bytes(data)
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        frame = next(container.decode(video=0))
        frame.to_image().save(ARTIFACTS / "browser-overlay-frame0.png")
    page.get_by_role("heading", name="Overlay video").scroll_into_view_if_needed()
    no_exceptions(page)
    page.screenshot(path=ARTIFACTS / "browser-compare.png")

    # 4. Charts: four Altair charts, each with its caption.
    go(page, "Charts")
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas,"
        " [data-testid='stVegaLiteChart'] svg.marks\").length >= 4",
        timeout=60_000,
    )
    settled(page)  # Vega has finished drawing before the screenshot
    no_exceptions(page)
    assert page.get_by_text("Settings: 20 frames per backend").count() == 4
    page.screenshot(path=ARTIFACTS / "browser-charts.png")

    # 5. Results: the run was saved and is listed.
    go(page, "Results")
    page.wait_for_selector("text=1 saved run(s)")
    no_exceptions(page)
    page.screenshot(path=ARTIFACTS / "browser-results.png")
    assert len([p for p in server[1].iterdir() if not p.name.startswith(".")]) == 1

    # 6. Scorecard: the headline verdict comes first, the same sentence the CLI would print.
    folder = next(p for p in server[1].iterdir() if (p / "run.json").exists())
    run = run_store.load(folder)
    expected = headline_verdict.decide(
        Evidence.from_run(
            run, sidecars.load_reference(run, server[1]), sidecars.load_jump_table(run, server[1])
        )
    )
    go(page, "Scorecard")
    headline = page.get_by_test_id("stAlert").first
    headline.wait_for()
    assert expected.headline in headline.inner_text()  # after the icon's name
    page.get_by_text(verdict_view.detail(expected)[:80]).first.wait_for()  # the whole sentence below
    assert expected.decision != "replace"  # 20 frames of one clip, no reference
    page.get_by_text("Other scoring schemes").first.wait_for()  # the other scores, collapsed, below
    no_exceptions(page)
    page.screenshot(path=ARTIFACTS / "browser-scorecard.png")
