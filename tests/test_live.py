"""The Live page: its engine with a fake backend, and in Chromium with a fake camera."""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from browser_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    app_env,
    dashboard_tab,
    go,
    need_chromium,
    no_exceptions,
    settled,
)
from conftest import CLIPS, FakeBackend, goto
from posebench.dashboard import live_webcam

SIDE = CLIPS / "jumps" / "cmj_side_dhruvrahuja_6.mp4"


def test_the_engine_counts_dropped_frames_and_draws_each_backend():
    engine = live_webcam.LiveEngine(["mediapipe-lite"], create=lambda c: FakeBackend(c.display))
    image = np.zeros((120, 160, 3), np.uint8)
    out = engine.process(image, 0.0, waiting=1)
    engine.process(image, 0.1, waiting=3)  # two older frames were waiting: dropped
    snap = engine.meter.snapshot()
    assert (snap["offered"], snap["processed"], snap["dropped"]) == (4, 2, 2)
    assert snap["drop_pct"] == pytest.approx(50.0)
    assert out.shape == image.shape and out.any()  # the skeleton is drawn
    two = live_webcam.LiveEngine(
        ["mediapipe-lite", "rtmpose-lightweight"], create=lambda c: FakeBackend(c.display)
    )
    assert two.process(image, 0.0).shape[1] == 2 * image.shape[1]  # side by side
    engine.close()
    two.close()


def test_nothing_is_recorded_unless_record_is_pressed():
    recorder = live_webcam.Recorder()
    image = np.zeros((10, 12, 3), np.uint8)
    recorder.add(image, 0.0)
    assert recorder.frames == []
    recorder.start()
    recorder.add(image, 0.0)
    recorder.add(image, 0.05)
    frames, times = recorder.stop()
    assert len(frames) == 2
    data = live_webcam.encode(frames, times)
    assert data[4:8] == b"ftyp"  # an MP4
    assert recorder.frames == []


def _y4m(path: Path, frames: int = 45) -> Path:
    """The first frames of a shared clip as a y4m file, the format Chromium's fake camera reads."""
    capture = cv2.VideoCapture(str(SIDE))
    images = []
    while len(images) < frames:
        ok, image = capture.read()
        if not ok:
            break
        images.append(cv2.resize(image, (640, 360)))
    capture.release()
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H360 F30:1 Ip A1:1 C420jpeg\n")
        for image in images:
            fh.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


@contextlib.contextmanager
def _live_page(tmp_path: Path, **env):
    """The Live page in Chromium, whose fake camera plays the first frames of a shared jump;
    ``env``: more of the dashboard's environment (``POSEBENCH_...=value``)."""
    need_chromium()
    camera = _y4m(tmp_path / "camera.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    with dashboard_tab(app_env(tmp_path / "results", **env), tmp_path, args, timeout=90_000) as page:
        go(page, "Live")
        yield page


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.timeout(300)
def test_the_live_page_shows_fps_and_drops_from_a_fake_camera(tmp_path):
    with _live_page(tmp_path) as page:
        frame = page.frame_locator("iframe[title*='streamlit_webrtc']")
        frame.get_by_role("button", name="START").click()
        metric = page.locator("[data-testid='stMetric']", has_text="Processed (frames/s)")
        value = metric.locator("[data-testid='stMetricValue']")
        page.wait_for_function(
            "el => /^[0-9]/.test(el.textContent)", arg=value.element_handle(), timeout=120_000
        )
        fps = float(value.inner_text())
        dropped = page.locator("[data-testid='stMetric']", has_text="Dropped (frames)")
        text = dropped.locator("[data-testid='stMetricValue']").inner_text()
        done, offered = (int(v) for v in text.split(" of "))
        assert fps > 0 and offered > 0 and 0 <= done <= offered
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "browser-live.png")
        print(f"live: {fps} frames/s processed, {done} of {offered} frames dropped")
        no_exceptions(page)


def test_the_results_page_shows_a_runs_real_time_table(results_root, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from posebench.core import schema
    from posebench.store import run_store
    from test_app import APP
    from test_dashboard import fake_run

    run = fake_run(tmp_path, "20250104-000000-dddddd")
    row = {c: None for c in schema.REALTIME_COLUMNS}
    row.update(backend=run.configs[0].display, status="ok", camera_fps=30.0, drop_pct=12.5)
    row.update(keeps_up=False, latency_ms_p50=48.0, sustained_fps=26.0)
    run.extra["realtime"] = [row]
    run_store.save(run, results_root)
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at = goto(at, "results").run()
    at.multiselect(key="results-pick").set_value([run.run_id]).run()
    assert not at.exception
    said = " ".join(m.value for m in at.markdown)
    assert f"{row['backend']} does not keep up with a 30 fps camera on this machine: 12.5 %" in said


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.timeout(400)
def test_two_backends_side_by_side_and_a_recording_saved_as_the_chosen_clip(tmp_path):
    """Chromium's fake camera: MediaPipe lite and the tuned preset side by side, then Record ->
    Stop and save: the recording is saved like an upload and becomes the chosen clip."""
    second = "rtmpose-lightweight-tuned"
    with _live_page(tmp_path, POSEBENCH_UPLOADS=tmp_path / "uploads") as page:
        picker = page.locator("[data-testid='stMultiSelect']", has_text="Backends (one, or two side by side)")
        picker.get_by_role("button", name="Open").click()
        page.get_by_role("option", name=second, exact=True).click()
        page.keyboard.press("Escape")
        page.wait_for_selector("text=each gets about half of this machine")
        settled(page)  # the one-backend stream's component is gone
        frame = page.frame_locator("iframe[title*='streamlit_webrtc']")
        frame.get_by_role("button", name="START").click()
        metric = page.locator("[data-testid='stMetric']", has_text="Dropped (frames)")
        value = metric.locator("[data-testid='stMetricValue']")
        offered = "el => Number((el.textContent.split(' of ')[1] || '0')) >= arguments_n"
        page.wait_for_function(
            offered.replace("arguments_n", "1"), arg=value.element_handle(), timeout=180_000
        )
        # two 16:9 pictures side by side (one alone would be 1.8); the first frames may come
        # before the second backend has drawn, so wait for the wide picture, not for a time
        video = frame.locator("video").first.element_handle()
        video.owner_frame().wait_for_function(
            "v => v.videoWidth / Math.max(1, v.videoHeight) > 2.5", arg=video, timeout=120_000
        )

        page.get_by_role("button", name="Record", exact=True).click()
        page.wait_for_selector("text=Recording (at most")
        start = int(value.inner_text().split(" of ")[1])
        # a few more frames arrive while recording: wait for them, not for a guessed time
        page.wait_for_function(
            offered.replace("arguments_n", str(start + 10)), arg=value.element_handle(), timeout=120_000
        )
        page.get_by_role("button", name="Stop and save the recording").click()
        saved = page.locator("[data-testid='stAlertContentSuccess']", has_text="it is now the chosen clip")
        saved.wait_for(timeout=120_000)
        text = saved.inner_text()
        count = int(text.split("Saved ")[1].split(" frames")[0])
        assert count > 0, text
        label = text.split("as your clip (")[1].split("): it is now")[0]
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Run", exact=True).click()
        page.get_by_test_id("stSidebar").get_by_text(f"Clip: {label}").wait_for()  # the chosen clip
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "browser-live-two-and-record.png")
        print(f"live, side by side: recorded {count} frames, saved as the chosen clip")
        no_exceptions(page)
