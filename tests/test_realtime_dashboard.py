"""The camera-rate measurement from the dashboard: ``background_jobs.RealtimeJob`` (a worker process
through the server's queue) and the Live page's "Can it keep up with a camera?" section."""

from __future__ import annotations

import multiprocessing
import re
import threading

import pandas as pd

from conftest import CLIPS, goto
from posebench import backends
from posebench.access import queue
from posebench.core import schema
from posebench.dashboard import background_jobs
from posebench.store.run_record import RunOptions

SIDE = CLIPS / "jumps" / "cmj_side_dhruvrahuja_6.mp4"


def _folders(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


def _no_workers_left() -> bool:
    return not [p for p in multiprocessing.active_children() if p.name.startswith("posebench-")]


def test_the_job_measures_in_a_worker_and_saves_the_run_with_its_realtime_table(fakepose, tmp_path):
    root = tmp_path / "results"
    config = backends.parse("fakepose-a")
    job = background_jobs.RealtimeJob(
        str(SIDE), [config], [30.0, 60.0], RunOptions(max_frames=20, warmup=0), results_root=root
    )
    assert job.start().wait(180), "the measurement did not finish"
    assert job.error is None, job.error
    assert job.saved_to is not None and _folders(root) == [job.saved_to.name]
    table = pd.read_csv(job.saved_to / "realtime.csv")
    assert list(table.columns) == list(schema.REALTIME_COLUMNS)
    assert table["camera_fps"].tolist() == [30.0, 60.0]
    assert (table["frames_offered"] == 20).all() and (table["status"] == "ok").all()
    assert job.run is not None and len(job.run.extra["realtime"]) == 2
    assert _no_workers_left()


class _Watched(background_jobs.RealtimeJob):
    """A RealtimeJob that tells the test when the simulated camera has started."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.streaming = threading.Event()

    def report(self, fraction: float, text: str) -> None:
        super().report(fraction, text)
        if "simulated camera" in text:
            self.streaming.set()


def test_cancel_while_the_camera_runs_ends_the_workers_and_saves_nothing(fakepose, tmp_path):
    root = tmp_path / "results"
    config = backends.parse("fakepose-a:act=slow")  # 50 ms a frame; 20 rounds of 1 s
    job = _Watched(
        str(SIDE), [config], [30.0], RunOptions(max_frames=30, warmup=0), rounds=20, results_root=root
    )
    job.start()
    assert job.streaming.wait(180), "the camera never started"
    job.cancel()
    assert job.wait(60), "the cancelled measurement did not end"
    assert job.error is not None and "cancelled" in job.error and "nothing of it was saved" in job.error
    assert job.run is None and _folders(root) == []
    assert _no_workers_left()


def test_a_measurement_waits_in_the_servers_queue_like_a_run(fakepose, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_QUEUE_SLOTS", "1")
    queue.reset()
    try:
        job = background_jobs.RealtimeJob(
            str(SIDE), [backends.parse("fakepose-a")], [30.0], RunOptions(max_frames=5), results_root=tmp_path
        )
        with queue.server_queue().slot("another run"):
            job.start()
            job.cancel()  # it is waiting behind "another run": it never starts a worker
            assert job.wait(30)
        assert job.error is not None and "waited for the server" in job.error
        assert job._worker is None
    finally:
        queue.reset()


SECTION = """
from posebench.dashboard import realtime_view, state

state.collect_finished_job()
realtime_view.section(["fakepose-a"], ["fakepose-a"])
"""


def test_the_section_measures_the_chosen_clip_and_answers_per_backend(fakepose, results_root):
    # the Live page draws it under the camera (while the camera is off); streamlit-webrtc's
    # component needs a real server, so the section is tested on its own here
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(SECTION, default_timeout=60)
    at.session_state["clip_path"] = str(SIDE)
    at.run()
    assert not at.exception
    at.multiselect(key="rt-rates").set_value([30.0])
    at.number_input(key="rt-frames").set_value(20)
    at.button(key="rt-go").click().run()
    job = at.session_state["realtime_job"]
    assert job.wait(180), "the measurement did not finish"
    at.run()
    assert not at.exception
    said = " ".join(m.value for m in at.markdown)
    assert re.search(r"fakepose-a (keeps|does not keep) up with a 30 fps camera on this machine: ", said), (
        said
    )
    assert at.session_state["current_run"] is job.run  # the Results page shows it too
    assert (job.saved_to / "realtime.csv").is_file()


def test_in_shared_mode_the_live_page_asks_for_sign_in_first(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from posebench.dashboard import auth
    from test_app import APP

    monkeypatch.setenv("POSEBENCH_MODE", "shared")
    monkeypatch.setenv("POSEBENCH_RESULTS", str(tmp_path / "results"))
    from posebench.access import accounts

    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(tmp_path / "accounts.json"))
    accounts.add("alice", "alice-password-1", tmp_path / "accounts.json")  # a real account: a
    # session of one that does not exist ends at once
    at = goto(AppTest.from_file(APP, default_timeout=60).run(), "live").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["PoseBench"]  # the sign-in page, not the Live page
    assert at.text_input(key="auth-name") is not None
    at.session_state[auth.USER_KEY] = "alice"
    at = goto(at, "live").run()
    assert "Live" in [t.value for t in at.title]  # signed in: the Live page
