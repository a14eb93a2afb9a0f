"""Faults: a failing backend fails alone, a cancelled or aborted run loses nothing and leaves nothing."""

from __future__ import annotations

import json
import threading

import psutil
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.core.errors import BackendUnavailable
from posebench.engine.runner import run_benchmark
from posebench.store import run_store
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def made(monkeypatch):
    """Replace backend creation; ``made.plan[label]`` says how each backend behaves."""

    class Made:
        plan: dict = {}
        created: list = []

    def create(config, cache=None):
        how = Made.plan.get(config.display, {})
        if how.get("unavailable"):
            raise BackendUnavailable(f"{config.display} cannot run here: {how['unavailable']}")
        backend = FakeBackend(config.display, fail_at=how.get("fail_at"))
        backend.closed = False
        backend.close = lambda b=backend: setattr(b, "closed", True)
        Made.created.append(backend)
        return backend

    monkeypatch.setattr(backends, "create", create)
    Made.plan, Made.created = {}, []
    return Made


def _decode_threads():
    return [t for t in threading.enumerate() if t.name == "posebench-decode" and t.is_alive()]


def test_a_backend_that_raises_mid_run_fails_alone(made, results_root):
    made.plan = {"mediapipe-lite": {"fail_at": 5}}
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight"], RunOptions(max_frames=12, warmup=2)
    )
    failed, ok = run.summary.iloc[0], run.summary.iloc[1]
    assert failed["status"] == "failed" and "failed at frame 5" in failed["error"]
    assert "RuntimeError: fake failure" in failed["error"]
    assert failed["frames_processed"] == 5  # what it measured before failing is kept
    assert ok["status"] == "ok" and ok["frames_processed"] == 12
    assert run.status == "complete"
    assert all(b.closed for b in made.created)
    saved = run_store.load(run_store.save(run))
    assert list(saved.summary["status"]) == ["failed", "ok"]


def test_a_backend_that_cannot_load_fails_alone(made):
    made.plan = {"mediapipe-lite": {"unavailable": "no model"}}
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight"], RunOptions(max_frames=4, warmup=0)
    )
    assert list(run.summary["status"]) == ["failed", "ok"]
    assert "no model" in run.summary["error"][0]


def test_every_backend_failing_marks_the_run_failed(made):
    made.plan = {"mediapipe-lite": {"fail_at": 0}, "rtmpose-lightweight": {"unavailable": "x"}}
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight"], RunOptions(max_frames=4, warmup=0)
    )
    assert run.status == "failed"


@pytest.mark.parametrize("background", [False, True])
def test_cancel_keeps_what_was_measured_and_saves_a_whole_folder(made, results_root, background):
    cancel = threading.Event()

    def progress(label, done, total, elapsed):
        if done == 5:
            cancel.set()

    run = run_benchmark(
        str(RUNNING),
        ["mediapipe-lite", "rtmpose-lightweight"],
        RunOptions(warmup=0, background_decode=background),
        progress=progress,
        cancel=cancel,
    )
    assert run.status == "cancelled"
    assert list(run.summary["status"]) == ["cancelled", "cancelled"]
    assert list(run.summary["frames_processed"]) == [5, 0]
    assert "not run" in run.summary["error"][1]
    path = run_store.save(run)
    assert sorted(p.name for p in path.iterdir()) == sorted(run_store.FILES)
    assert [p.name for p in results_root.iterdir()] == [run.run_id]  # no temporary folder left
    assert run_store.load(path).status == "cancelled"
    assert _decode_threads() == []


@pytest.mark.parametrize("background", [False, True])
def test_an_aborted_run_cleans_up_after_itself(made, background, run_registry):
    """Anything thrown through the runner (a closed session, Ctrl-C) leaves no thread or count."""

    class SessionClosed(BaseException):
        pass

    def progress(label, done, total, elapsed):
        if done == 3:
            raise SessionClosed()

    with pytest.raises(SessionClosed):
        run_benchmark(
            str(RUNNING),
            ["mediapipe-lite"],
            RunOptions(warmup=0, background_decode=background),
            progress=progress,
        )
    assert all(b.closed for b in made.created)
    entries = [json.loads(p.read_text()) for p in run_registry.glob("*.json")]
    assert len(entries) == 1 and entries[0]["ended"]  # its entry in the registry of runs is closed
    import gc

    gc.collect()  # the frame generator closes its decode thread when dropped
    for t in _decode_threads():
        t.join(timeout=5)
    assert _decode_threads() == []


def test_runs_leave_no_child_process(made, tmp_path):
    # Processes already there (multiprocessing's resource tracker, started by an earlier test's
    # dashboard worker) are not this run's.
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    run_benchmark(
        str(RUNNING), ["mediapipe-lite"], RunOptions(max_frames=3, warmup=0, background_decode=True)
    )
    assert [p for p in psutil.Process().children(recursive=True) if p.pid not in before] == []
