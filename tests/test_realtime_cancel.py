"""Cancelling a real-time measurement: the worker processes end and nothing is saved.

The fake family's ``act=slow`` takes 50 ms a frame; 20 rounds of a 30-frame stream at 30 fps
take 20 s, so a cancel sent when the first stream starts always lands mid-measurement.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading

import psutil
import pytest

from conftest import CMJ, ROOT
from posebench.core.errors import RunCancelled
from posebench.store.run_record import RunOptions
from posebench.studies import realtime_run

SLOW = "fakepose-a:act=slow"


def test_cancel_mid_measurement_ends_the_stream_worker_and_returns_no_run(fakepose):
    cancel = threading.Event()
    seen: list[str] = []

    def progress(label: str, fraction: float, text: str) -> None:
        seen.append(text)
        cancel.set()  # the first stream has started: cancel now

    with pytest.raises(RunCancelled, match="nothing of it was saved"):
        realtime_run.measure(
            str(CMJ),
            [SLOW],
            [30.0],
            20,
            RunOptions(max_frames=30, warmup=0),
            progress=progress,
            cancel=cancel,
        )
    assert seen and "round 1" in seen[0]
    assert len(seen) <= 2  # the worker stopped within its first rounds, not after all 20
    alive = [p for p in multiprocessing.active_children() if p.name.startswith("posebench-realtime")]
    assert alive == []


def _streaming(out) -> subprocess.Popen:
    """``posebench realtime`` on a slow fake backend, long enough to be stopped mid-stream, in
    its own session (its own process group); its progress on stderr."""
    command = [sys.executable, "-m", "posebench", "realtime", str(CMJ), "-b", SLOW]
    command += ["--fps", "30", "--rounds", "20", "--frames", "30", "--out", str(out)]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=os.environ.copy(),
    )


def _workers_once_streaming(proc: subprocess.Popen) -> list[psutil.Process]:
    """The command's worker processes, once its first stream has started."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if "at 30 fps, round 1" in line:
            break
    else:
        pytest.fail(f"the stream never started (exit status {proc.wait(120)})")
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert workers, "the stream runs in a worker process"
    return workers


def test_ctrl_c_on_the_command_cancels_ends_the_workers_and_saves_nothing(fakepose, tmp_path):
    out = tmp_path / "results"
    proc = _streaming(out)  # its own process group, as a terminal's foreground job
    try:
        workers = _workers_once_streaming(proc)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole group gets it
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled" in err and "nothing of it was saved" in err
    _gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []
    assert not out.exists() or [p.name for p in out.iterdir()] == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_command_stopped_from_outside_leaves_no_worker_running(fakepose, tmp_path, stop):
    """Only the command gets the signal (not its group, as a service manager or ``kill PID``
    sends it): SIGTERM unwinds it and it ends its workers; after SIGKILL, which it cannot
    handle, the workers notice their parent has gone and end themselves."""
    proc = _streaming(tmp_path / "results")
    workers: list[psutil.Process] = []
    try:
        workers = _workers_once_streaming(proc)
        proc.send_signal(stop)
        proc.wait(120)
        _gone, alive = psutil.wait_procs(workers, timeout=60)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        for leftover in [proc, *workers]:
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                leftover.kill()
        proc.wait(30)
    err = proc.stderr.read()
    if stop == signal.SIGTERM:
        assert proc.returncode == 143, err
        assert "stopped (SIGTERM)" in err
    else:
        assert proc.returncode == -signal.SIGKILL


STAND_IN_PARENT = """
import sys, time
sys.path.insert(0, sys.argv[1])
import commands
from posebench.engine.worker import WorkerCall
call = WorkerCall(commands.wait_for_cancel, {}, name="posebench-silent").start()
print(call.pid, flush=True)
time.sleep(600)
"""


def test_a_silent_worker_ends_when_its_parent_is_killed(tmp_path):
    """A worker that is not reporting (one long step) cannot notice a dead parent by failing
    to report; it watches its parent and ends with it, so nothing it holds (the processor,
    its parent's output) outlives the parent."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen(
        [sys.executable, "-c", STAND_IN_PARENT, str(ROOT / "tests")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    worker = None
    try:
        assert parent.stdout is not None
        pid = parent.stdout.readline().strip()
        assert pid, f"the stand-in parent started no worker (exit status {parent.wait(120)})"
        worker = psutil.Process(int(pid))
        assert worker.is_running()
        parent.kill()
        parent.wait(60)
        _gone, alive = psutil.wait_procs([worker], timeout=60)
        assert alive == []
    finally:
        if worker is not None:
            with contextlib.suppress(psutil.Error):
                worker.kill()
        parent.kill()
        parent.wait(30)
