"""Probes: a run whose server was killed shows as interrupted after the restart.

A separate Python process plays the server: it starts a background benchmark (``RunJob``,
slow fake backends) and is killed with SIGKILL while the run works. The run's note stays;
the next server (this process) lists it for its owner, with a sentence, on the Results page;
another user does not see it; a run that ends normally leaves no note.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, RUNNING, goto
from posebench import backends
from posebench.dashboard import auth, background_jobs, job_registry
from posebench.engine import interrupted
from posebench.store import owners, run_record

pytestmark = [pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SERVER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from posebench import backends
from posebench.dashboard import background_jobs
from posebench.store import run_record
job = background_jobs.RunJob(sys.argv[3], [backends.parse("fakepose-a:act=slow")],
                  run_record.RunOptions(warmup=0), results_root=sys.argv[1], owner="alice").start()
while not any(p.done for p in job.progress()):
    time.sleep(0.05)
print(job.run_id, flush=True)
time.sleep(600)
"""


def test_a_run_of_a_killed_server_is_listed_as_interrupted(tmp_path, monkeypatch, fakepose, results_root):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ["PYTHONPATH"]])}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(results_root), str(ROOT / "tests"), str(RUNNING)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        run_id = server.stdout.readline().strip()  # the run is working
        assert run_id, "the stand-in server did not start its run"
        assert interrupted.interrupted(owners.Viewer("alice"), results_root) == []  # alive: running
        server.send_signal(signal.SIGKILL)
        server.wait(60)
    finally:
        server.kill()
    notes = interrupted.interrupted(owners.Viewer("alice"), results_root)
    assert [n["run_id"] for n in notes] == [run_id]
    assert notes[0]["clip"] == RUNNING.name and notes[0]["backends"] == ["fakepose-a:act=slow"]
    assert interrupted.interrupted(owners.Viewer("bob"), results_root) == []
    assert not (results_root / run_id).exists()  # nothing half-written

    # the restarted server's Results page says so, to Alice only, and she can dismiss it
    monkeypatch.setenv("POSEBENCH_MODE", "shared")
    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(tmp_path / "accounts.json"))
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    from posebench.access import accounts

    for name in ("alice", "bob"):
        accounts.add(name, f"{name}-password-1", tmp_path / "accounts.json")
    job_registry.registry.clear()
    pages = {}
    for name in ("alice", "bob"):
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state[auth.USER_KEY] = name
        at.run()
        pages[name] = goto(at, "results").run()
        assert not at.exception
    said = [w.value for w in pages["alice"].warning if "was interrupted" in w.value]
    assert len(said) == 1 and run_id in said[0] and "nothing of it was saved" in said[0]
    assert not [w for w in pages["bob"].warning if "was interrupted" in w.value]
    pages["alice"].button(key=f"interrupted-dismiss-{run_id}").click().run()
    assert not [w for w in pages["alice"].warning if "was interrupted" in w.value]
    assert interrupted.interrupted(owners.Viewer("alice"), results_root) == []


def test_a_run_that_ends_leaves_no_note(results_root, fakepose):
    job = background_jobs.RunJob(
        str(RUNNING),
        [backends.parse("fakepose-a")],
        run_record.RunOptions(max_frames=4, warmup=0),
        results_root=results_root,
        owner="alice",
    ).start()
    assert job.wait(240) and job.error is None
    assert not list((results_root / interrupted.FOLDER).glob("*.json"))
    assert interrupted.interrupted(owners.Viewer("alice", single=True), results_root) == []
