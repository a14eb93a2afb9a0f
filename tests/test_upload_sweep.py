"""Probes: uploads left by closed sessions are removed; kept clips never are.

Five uploads are taken by this "server"; live sessions (and a running job) hold some of them.
The sweep removes exactly the others once they are older than the grace time; a user's latest
upload waits for a reload until its own time is up; another process's upload and a study's
kept clip (``<sha256>.mp4``) are never touched; with no Streamlit server (nothing known about
sessions) nothing is removed. The Streamlit part (which sessions are live, reaping closed
ones) is checked against a stand-in of its session manager.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import RUNNING
from posebench.dashboard import clip_input, job_registry
from test_capacity import Upload

pytestmark = pytest.mark.timeout(120)


class RunningJob:
    """What the sweep reads of a dashboard job: a ``cancel_event`` and the clip it ``keep``s."""

    def __init__(self, keep):
        self.keep = keep
        self.cancel_event = object()


@pytest.fixture
def five(monkeypatch, tmp_path):
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    monkeypatch.setenv("POSEBENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("POSEBENCH_UPLOAD_GRACE_S", "0")
    job_registry.registry.clear()
    clips = [clip_input.save_upload(Upload(RUNNING), owner="alice", isolate=False) for _ in range(5)]
    assert len({c.path for c in clips}) == 5 and all(Path(c.path).exists() for c in clips)
    yield clips
    job_registry.registry.clear()


def test_uploads_no_live_session_holds_are_removed(five, tmp_path, monkeypatch):
    folder = clip_input.upload_dir()
    foreign = folder / "upload-another-process.mp4"  # taken by another server: its own day
    shutil.copyfile(RUNNING, foreign)
    kept = tmp_path / "results" / "users" / "alice" / "studies" / "s" / "clips" / f"{'a' * 64}.mp4"
    kept.parent.mkdir(parents=True)
    shutil.copyfile(RUNNING, kept)  # a clip kept in a study (content-addressed): never swept

    # no Streamlit server here: nothing is known about sessions, nothing is removed
    assert clip_input.sweep_uploads(force=True) == []
    assert all(Path(c.path).exists() for c in five)

    live = [
        {"clip_upload": five[0], "other": [1, "x"]},  # a tab that is open
        {"study_job": RunningJob(five[1])},  # a run still reading its upload
        {"retired": [five[2]]},  # let go but kept while a run reads it
    ]
    removed = clip_input.sweep_uploads(states=live, force=True)
    assert sorted(removed) == sorted([Path(five[3].path), Path(five[4].path)])  # the closed tabs'
    assert all(Path(c.path).exists() for c in five[:3])
    assert not any(Path(c.path).exists() for c in five[3:])
    assert foreign.exists() and kept.exists()

    # the tabs close; Alice's latest upload waits for a reload (POSEBENCH_UPLOAD_TTL_S) ...
    job_registry.registry().keep_upload("alice", five[0])
    removed = clip_input.sweep_uploads(states=[], force=True)
    assert sorted(removed) == sorted([Path(five[1].path), Path(five[2].path)])
    assert Path(five[0].path).exists()
    monkeypatch.setenv("POSEBENCH_UPLOAD_TTL_S", "0")  # ... until its time is up
    assert clip_input.sweep_uploads(states=[], force=True) == [Path(five[0].path)]
    assert job_registry.registry().latest_upload("alice") is None
    assert foreign.exists() and kept.exists()
    assert sorted(p.name for p in folder.iterdir()) == [foreign.name]


def test_a_new_upload_is_within_its_grace_and_an_unreadable_session_stops_the_sweep(five, monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOAD_GRACE_S", "3600")
    assert clip_input.sweep_uploads(states=[], force=True) == []  # just taken: on its way to a session
    monkeypatch.setenv("POSEBENCH_UPLOAD_GRACE_S", "0")

    class Unreadable:
        @property
        def filtered_state(self):
            raise RuntimeError("dictionary changed size during iteration")

    assert clip_input.sweep_uploads(states=[{}, Unreadable()], force=True) == []
    assert all(Path(c.path).exists() for c in five)
    # at most once a minute unless forced
    assert len(clip_input.sweep_uploads(states=[], force=True)) == 5
    assert clip_input.sweep_uploads(states=[]) == []


def test_live_sessions_are_read_from_the_streamlit_runtime_and_closed_ones_reaped(monkeypatch, five):
    from streamlit import runtime

    reaped = []

    class State:
        def __init__(self, values):
            self.filtered_state = values

    class Info:
        def __init__(self, values):
            self.session = type("Session", (), {"session_state": State(values)})()

    class Cache:
        def expire(self):
            reaped.append(True)

    class Manager:
        _session_storage = type("Storage", (), {"_cache": Cache()})()

        def list_sessions(self):
            return [Info({"clip_upload": five[0]})]

    class FakeRuntime:
        _session_mgr = Manager()

        @classmethod
        def exists(cls):
            return True

        @classmethod
        def instance(cls):
            return cls()

    monkeypatch.setattr(runtime, "Runtime", FakeRuntime)
    removed = clip_input.sweep_uploads(force=True)
    assert reaped == [True]  # sessions past Streamlit's reconnect time are dropped first
    assert len(removed) == 4 and Path(five[0].path).exists()
