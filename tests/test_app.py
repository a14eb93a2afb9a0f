"""Page flows of the dashboard with Streamlit's AppTest, on real clips and real models."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import backends
from bench import results
from conftest import CLIPS, LAB, RUNNING, FakeBackend

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def app(results_root, monkeypatch):
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def choose_upload(at: AppTest, clip: Path) -> AppTest:
    at.switch_page("pages/1_Clip.py").run()
    at.radio(key="clip-source").set_value("Upload a video").run()
    at.file_uploader(key="clip-upload").upload(clip.name, clip.read_bytes(), "video/mp4")
    return at.run()


def start_run(at: AppTest, frames: int, warmup: int, extra: str = "") -> AppTest:
    at.switch_page("pages/2_Run.py").run()
    at.number_input(key="run-frames").set_value(frames)
    at.number_input(key="run-warmup").set_value(warmup)
    if extra:
        at.text_area(key="run-extra-specs").set_value(extra)
    at.run()
    assert not at.button(key="run-start").disabled, texts(at.error) + texts(at.warning)
    return at.button(key="run-start").click().run()


def wait_for_run(at: AppTest, timeout: float = 240) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = at.session_state["run_job"]
        if job.finished:
            at.run()
            if "current_run" in at.session_state and at.session_state["current_run"] is job.run:
                return at
        time.sleep(0.5)
        at.run()
    raise AssertionError("the run did not finish in time")


@pytest.mark.integration
def test_upload_run_compare_chart_and_manage_results(app, results_root):
    at = choose_upload(app, RUNNING)
    assert not at.exception and not at.error
    info = at.session_state["clip_info"]
    assert info.frames == 47 and (info.width, info.height) == (480, 352)
    assert info.name == RUNNING.name  # the upload keeps a readable name
    table = " ".join(texts(at.markdown))
    assert "47 frames" in table and "480 × 352 px" in table and "29.97 frames/s" in table

    at = wait_for_run(start_run(at, frames=15, warmup=3))
    assert not at.exception
    assert texts(at.error) == []
    run = at.session_state["current_run"]
    summary = run.summary.set_index("backend")
    assert list(summary.index) == ["mediapipe-lite", "rtmpose-lightweight"]
    assert (summary["status"] == "ok").all()
    assert (summary["frames"] == 12).all() and (summary["frames_processed"] == 15).all()
    assert (summary["fps"] > 0).all()
    assert len(run.frames) == 30
    saved = results_root / run.run_id
    assert (saved / "frames.csv").exists() and (saved / "run.json").exists()
    assert any("Saved to" in c for c in texts(at.caption))

    at.switch_page("pages/3_Compare.py").run()
    assert not at.exception and texts(at.error) == []
    assert len(at.get("image")) == 2              # one frame per backend with its skeleton
    assert len(at.get("video")) == 1             # the overlay video
    assert any("mediapipe-lite" in c and "landmarks" in c for c in texts(at.caption))

    at.switch_page("pages/4_Charts.py").run()
    assert not at.exception and texts(at.error) == []
    assert len(at.get("vega_lite_chart")) == 4
    captions = [c for c in texts(at.caption) if c.startswith(("Frames per second", "End-to-end",
                                                               "How the", "Mean time"))]
    assert len(captions) == 4
    for caption in captions:
        assert "15 frames per backend" in caption and "first 3" in caption
        assert RUNNING.name in caption and "machine" in caption

    at.switch_page("pages/7_Results.py").run()
    assert not at.exception
    assert at.multiselect(key="results-pick").value == [run.run_id]
    at.button(key="results-delete").click().run()
    assert any("cannot be undone" in w for w in texts(at.warning))
    assert saved.exists()                        # nothing deleted before confirming
    at.button(key="results-delete-yes").click().run()
    assert not saved.exists()
    assert any("Deleted" in s for s in texts(at.success))


@pytest.mark.integration
def test_a_backend_failing_mid_run_is_reported_and_the_other_kept(app, monkeypatch):
    real_create = backends.create

    def create(config, cache=None):
        if config.family == "rtmpose":
            return FakeBackend(fail_at=4)
        return real_create(config, cache)

    monkeypatch.setattr(backends, "create", create)
    app.session_state["clip_path"] = str(RUNNING)
    at = wait_for_run(start_run(app, frames=12, warmup=2))
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and errors[0].startswith("rtmpose-lightweight failed:")
    assert "fake failure" in errors[0]
    summary = at.session_state["current_run"].summary.set_index("backend")
    assert summary.loc["mediapipe-lite", "status"] == "ok"
    assert summary.loc["mediapipe-lite", "frames"] == 10
    assert summary.loc["rtmpose-lightweight", "status"] == "failed"


@pytest.mark.integration
def test_cancel_keeps_what_was_measured(app):
    app.session_state["clip_path"] = str(LAB)
    at = start_run(app, frames=100, warmup=2)
    job = at.session_state["run_job"]
    deadline = time.monotonic() + 120
    while not any(p.done for p in job.progress()) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    at.button(key="run-cancel").click().run()
    at = wait_for_run(at)
    run = at.session_state["current_run"]
    assert run.status == "cancelled"
    assert 0 < len(run.frames) < 200
    assert any("cancelled" in w for w in texts(at.warning))


def test_a_file_that_is_not_a_video_gets_one_sentence(app):
    from dashboard import clip_input

    at = app.switch_page("pages/1_Clip.py").run()
    before = at.session_state["clip_path"]          # the first sample, chosen by default
    at.radio(key="clip-source").set_value("Upload a video").run()
    at.file_uploader(key="clip-upload").upload("notes.mp4", b"this is text, not a video\n" * 50,
                                               "video/mp4")
    at.run()
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and "notes.mp4" in errors[0] and "\n" not in errors[0]
    assert at.session_state["clip_path"] == before  # the earlier choice is kept
    assert not list(clip_input.upload_dir().glob("upload-*/notes.mp4"))  # the bad file is removed


def test_without_models_every_backend_is_disabled_with_its_reason(app, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(tmp_path / "no-models"))
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "no-cache"))
    app.session_state["clip_path"] = str(RUNNING)
    at = app.switch_page("pages/2_Run.py").run()
    assert not at.exception
    boxes = [b for b in at.checkbox if b.key and b.key.startswith("use-")]
    assert len(boxes) == len(backends.PRESETS)
    assert all(b.disabled and "not available" in b.label for b in boxes)
    reasons = " ".join(texts(at.markdown))
    assert "pose_landmarker_lite" in reasons and "is not here" in reasons
    assert at.button(key="run-start").disabled


def test_pages_without_a_run_point_to_where_to_get_one(app):
    for page in ("pages/3_Compare.py", "pages/4_Charts.py"):
        at = app.switch_page(page).run()
        assert not at.exception
        assert any("No run yet" in i for i in texts(at.info))


def test_results_page_opens_and_compares_saved_runs(app, results_root, tmp_path):
    from test_dashboard import fake_run

    first = fake_run(tmp_path, "20250101-000000-aaaaaa")
    second = fake_run(tmp_path, "20250102-000000-bbbbbb")
    results.save(first, results_root)
    results.save(second, results_root)
    at = app.switch_page("pages/7_Results.py").run()
    assert not at.exception
    at.multiselect(key="results-pick").set_value([first.run_id]).run()
    at.button(key="results-open").click().run()
    assert at.session_state["current_run"].run_id == first.run_id
    at.multiselect(key="results-pick").set_value([first.run_id, second.run_id]).run()
    assert not at.exception
    compared = at.dataframe[-1].value  # the side-by-side table comes last
    assert sorted(compared["run"].unique()) == sorted([first.run_id, second.run_id])


def test_run_settings_survive_a_visit_to_another_page(app):
    app.session_state["clip_path"] = str(LAB)
    at = app.switch_page("pages/2_Run.py").run()
    at.number_input(key="run-frames").set_value(90)
    at.checkbox(key="use-mediapipe-full").check()
    at.run()
    at.switch_page("pages/1_Clip.py").run()
    at.switch_page("pages/2_Run.py").run()
    assert not at.exception
    assert at.number_input(key="run-frames").value == 90
    assert at.checkbox(key="use-mediapipe-full").value
    # a shorter clip caps the kept frame count instead of failing
    at.session_state["clip_path"] = str(RUNNING)
    at.run()
    assert not at.exception
    assert at.number_input(key="run-frames").value == 47


def test_a_run_made_elsewhere_is_imported_from_a_zip(app, results_root, tmp_path):
    from dashboard import run_import
    from test_dashboard import fake_run

    elsewhere = results.save(fake_run(tmp_path, "20250103-000000-cccccc"), tmp_path / "other")
    at = app.switch_page("pages/7_Results.py").run()
    assert any("No saved runs yet" in i for i in texts(at.info))
    at.file_uploader(key="results-import-files").upload(
        "run.zip", run_import.zip_run(elsewhere), "application/zip")
    at.run()
    at.button(key="results-import").click().run()
    assert not at.exception and texts(at.error) == []
    assert (results_root / "20250103-000000-cccccc" / "frames.csv").exists()
    assert any("Imported 20250103-000000-cccccc" in s for s in texts(at.success))
    # importing it again is refused in one sentence and overwrites nothing
    at.button(key="results-import").click().run()
    assert any("never overwritten" in e for e in texts(at.error))
