"""Dashboard benchmarks run in their own worker process (issue 10): progress, cancel, crashes."""

from __future__ import annotations

import os
import time

import psutil
import pytest

import conftest
from conftest import RUNNING
from posebench import backends
from posebench.dashboard import background_jobs
from posebench.engine import worker
from posebench.store import run_record, run_store

pytestmark = pytest.mark.timeout(600)
# FakePose presets (tests/fake_family.py, the ``fakepose`` fixture): the worker process makes
# them through the family registry, as it makes the real ones.
CONFIGS = ["fakepose-a", "fakepose-b"]


def start(results_root, act="ok", options=None):
    """Two FakePose backends in the worker; the second acts as ``act`` asks (both when slow or
    hanging)."""
    first = f"fakepose-a:act={act}" if act in ("slow", "hang") else "fakepose-a"
    second = "fakepose-b" if act == "ok" else f"fakepose-b:act={act}"
    return background_jobs.RunJob(
        str(RUNNING),
        [backends.parse(c) for c in (first, second)],
        options or run_record.RunOptions(max_frames=8, warmup=2),
        results_root=results_root,
    ).start()


def wait_for_frames(job, timeout=240):
    deadline = time.monotonic() + timeout
    while not any(p.done for p in job.progress()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(p.done for p in job.progress()), "no progress from the worker"


def assert_nothing_half_written(results_root):
    if results_root.exists():
        assert [p.name for p in results_root.iterdir() if p.name.startswith(".tmp-")] == []


def test_the_run_is_timed_in_another_process_and_saved(fakepose, results_root):
    job = start(results_root)
    assert job.wait(240), "the worker did not finish"
    assert job.error is None and job.save_error is None, job.error
    assert job.worker_pid not in (None, os.getpid())
    assert not psutil.pid_exists(job.worker_pid) or psutil.Process(job.worker_pid).status() == "zombie"
    assert [p.state for p in job.progress()] == ["finished", "finished"]
    assert job.saved_to == results_root / job.run_id and (job.saved_to / "run.json").exists()
    saved = run_store.load(job.saved_to)
    assert len(saved.frames) == len(job.run.frames) == 16
    assert job.run.extra["machine"]["overlapping_runs"] == []


def test_a_page_as_the_servers_main_script_is_not_rerun_in_the_worker(
    fakepose, monkeypatch, results_root, tmp_path
):
    """Streamlit makes the page being shown the process's ``__main__``; "spawn" would re-run
    it in the worker. A page that cannot run outside its session must not fail the run."""
    import sys
    import types

    page = tmp_path / "page_needing_its_session.py"
    page.write_text("raise SystemExit('a page was re-run in the worker')\n", encoding="utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", main)
    job = start(results_root)
    assert job.wait(240), "the worker did not finish"
    assert job.error is None, job.error
    assert len(job.run.frames) == 16


@pytest.mark.parametrize("act, ended_by", [("crash", "exited with code 7"), ("segfault", "signal SIGSEGV")])
def test_a_backend_that_kills_the_worker_fails_the_run_with_a_sentence(fakepose, results_root, act, ended_by):
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    job = start(results_root, act)
    assert job.wait(240)
    assert job.run is None
    assert "worker process stopped unexpectedly" in job.error and ended_by in job.error
    assert f"while fakepose-b:act={act} was running" in job.error  # where it died
    assert "\n" not in job.error
    assert_nothing_half_written(results_root)
    assert not results_root.exists() or not any(results_root.iterdir())
    # the server (this process) is back at its own priority, although the worker died while it
    # had lowered it (where the system lets it raise a priority again: root here); and it can
    # run the next benchmark, which is timed as the first was
    if may_raise_priority(nice):
        assert os.getpriority(os.PRIO_PROCESS, 0) == nice
    again = start(results_root)
    assert again.wait(240) and again.error is None and again.saved_to.exists()
    if may_raise_priority(nice):
        assert again.run.extra["machine"]["priority"]["server_nice_before"] == nice


def may_raise_priority(nice: int) -> bool:
    """Whether this process may set its nice value back to ``nice`` (root, or ``RLIMIT_NICE``)."""
    import resource

    return os.geteuid() == 0 or 20 - resource.getrlimit(resource.RLIMIT_NICE)[0] <= nice


def test_cancel_stops_the_worker_which_saves_what_it_measured(fakepose, results_root):
    job = start(results_root, "slow", run_record.RunOptions(warmup=0))
    wait_for_frames(job)
    job.cancel()
    assert job.wait(240)
    assert job.error is None, job.error
    assert job.run.status == "cancelled"
    done = job.progress()
    assert done[0].state == "stopped" and 0 < done[0].done < 47
    assert done[1].state == "stopped" and done[1].done == 0
    saved = run_store.load(job.saved_to)
    assert saved.status == "cancelled" and len(saved.frames) == len(job.run.frames)
    assert_nothing_half_written(results_root)
    assert not psutil.pid_exists(job.worker_pid) or psutil.Process(job.worker_pid).status() == "zombie"


def test_cancel_ends_a_worker_that_does_not_stop(fakepose, monkeypatch, results_root):
    monkeypatch.setattr(worker, "CANCEL_GRACE_S", 1.0)
    job = start(results_root, "hang", run_record.RunOptions(warmup=0))
    wait_for_frames(job)
    time.sleep(0.3)  # now inside the frame that never returns
    job.cancel()
    assert job.wait(240)
    assert job.run is None and "did not stop within 1 s" in job.error
    assert not psutil.pid_exists(job.worker_pid) or psutil.Process(job.worker_pid).status() == "zombie"
    assert not results_root.exists() or not any(results_root.iterdir())  # nothing half-written


def test_the_explorer_kind_of_job_runs_in_a_worker_process_and_can_be_cancelled():
    job = background_jobs.ProcessJob(conftest.pid_job, {"n": 3}, what="the Explorer sweep").start()
    assert job.wait(240) and job.error is None, job.error
    pid, n = job.result
    assert n == 3 and pid != os.getpid()
    assert job.overall() == (0.5, "half way")
    endless = background_jobs.ProcessJob(
        conftest.pid_job, {"n": "forever"}, what="the Explorer sweep"
    ).start()
    deadline = time.monotonic() + 240
    while endless.overall()[1] != "half way" and time.monotonic() < deadline:
        time.sleep(0.05)
    endless.cancel()
    assert endless.wait(240) and endless.error is None and endless.result[1] == "forever"


def test_a_worker_killed_from_outside_is_not_blamed_on_a_backend(fakepose, results_root):
    """SIGKILL (the kernel's out-of-memory killer, or a person) is said as such."""
    import signal

    job = start(results_root, "slow", run_record.RunOptions(warmup=0))
    wait_for_frames(job)
    os.kill(job.worker_pid, signal.SIGKILL)
    assert job.wait(240) and job.run is None
    assert "signal SIGKILL" in job.error and "killed from outside" in job.error, job.error
    assert "a backend most likely crashed" not in job.error
    assert not results_root.exists() or not any(results_root.iterdir())
