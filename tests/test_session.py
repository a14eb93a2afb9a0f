"""A session that survives: the per-user job registry, the address bar, other tabs' jobs."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, RUNNING
from posebench.dashboard import background_jobs, job_registry

pytestmark = pytest.mark.timeout(300)


def _job(result=None, block: threading.Event | None = None, what="the Explorer sweep"):
    def work(job):
        if block is not None:
            block.wait(30)
        return result

    return background_jobs.BackgroundJob(work, what=what, clip_path=str(RUNNING)).start()


def test_the_registry_keeps_each_users_jobs_apart_and_drops_old_finished_ones():
    reg = job_registry.Registry()
    gate = threading.Event()
    running = _job(block=gate)
    reg.add("anna", "explore_job", running)
    assert [e.job for e in reg.running("anna")] == [running]
    assert reg.jobs("ben") == []  # another user never sees it
    done = [_job(result=i) for i in range(job_registry.KEEP_PER_USER + 2)]
    for j in done:
        j.wait(5)
        reg.add("anna", "jump_job", j)
    kept = reg.jobs("anna")
    assert running in [e.job for e in kept]  # a running job is never dropped
    assert len(kept) == job_registry.KEEP_PER_USER and done[-1] in [e.job for e in kept]
    assert done[0] not in [e.job for e in kept]  # the oldest finished ones go
    gate.set()
    running.wait(5)


def test_an_upload_token_opens_only_that_users_latest_upload(tmp_path):
    class Clip:
        path = tmp_path / "up.mp4"

    Clip.path.write_bytes(b"x")
    reg = job_registry.Registry()
    clip = Clip()
    token = reg.keep_upload("anna", clip)
    assert reg.upload("anna", token) is clip
    assert reg.upload("ben", token) is None and reg.upload("anna", "guess") is None
    assert reg.keep_upload("anna", clip) == token  # the same upload keeps its token


@pytest.fixture
def app(results_root, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    job_registry.registry.clear()
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    return at


def test_the_address_names_the_clip_and_a_link_reopens_it(app):
    app.query_params["clip"] = RUNNING.name
    at = app.run()
    assert not at.exception
    assert at.session_state["clip_path"] == str(RUNNING)
    assert at.query_params["clip"] == [RUNNING.name] or at.query_params["clip"] == RUNNING.name


def test_a_link_to_a_clip_elsewhere_says_so_and_reads_nothing(app):
    app.query_params["clip"] = "../../etc/passwd"
    at = app.run()
    assert not at.exception
    assert any("not offered on this server" in w.value for w in at.warning)
    assert at.session_state["clip_path"] != "../../etc/passwd"


def test_another_tabs_finished_sweep_can_be_shown_here(app):
    table = pd.DataFrame({"config": ["a"], "fps": [1.0]})
    table.attrs = {"clip": RUNNING.name}
    finished = _job(result=table)
    finished.wait(5)
    job_registry.registry().add("local", "explore_job", finished)
    at = app.run()
    assert not at.exception
    button = [b for b in at.button if b.label.startswith("Show the result on")]
    assert button, [b.label for b in at.button]
    at = button[0].click().run()
    assert at.session_state["explore_job"] is finished
    deadline = time.monotonic() + 30
    while "explorer-result" not in at.session_state and time.monotonic() < deadline:
        at.run()
    assert at.session_state["explorer-result"]["table"] is table
