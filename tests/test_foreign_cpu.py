"""Timing with the page open (issue 21): the run records the processor time other work used
while it timed (``foreign_cpu_pct``), says so when it was too much, and its worker lowers the
server's priority meanwhile."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import RUNNING, page_test
from posebench import backends
from posebench.core import schema
from posebench.dashboard import background_jobs
from posebench.decision import decision_rules, headline_verdict
from posebench.decision.verdict_evidence import Evidence, machine_notes
from posebench.engine import foreign_cpu, priority
from posebench.store import run_record, run_store

pytestmark = pytest.mark.timeout(300)
CONFIGS = ["mediapipe-lite", "rtmpose-lightweight"]


def reading(wall, busy, own, steal=0.0):
    return foreign_cpu.Reading(wall_s=wall, busy_s=busy, steal_s=steal, own_s=own)


# -- the arithmetic ------------------------------------------------------------------------
def test_foreign_time_is_the_machines_busy_time_less_the_runs_own():
    window = foreign_cpu.between(reading(10.0, 100.0, 5.0), reading(12.0, 103.0, 7.0, steal=0.2))
    assert window["foreign_cpu_s"] == pytest.approx(1.0)  # 3 s busy, 2 s of them the run's
    assert window["foreign_cpu_pct"] == pytest.approx(50.0)  # of one core, over 2 s
    assert window["steal_cpu_pct"] == pytest.approx(10.0)
    own_only = foreign_cpu.between(reading(0.0, 0.0, 0.0), reading(1.0, 1.0, 1.02))  # tick rounding
    assert own_only["foreign_cpu_pct"] == 0.0
    short = foreign_cpu.between(reading(0.0, 0.0, 0.0), reading(0.1, 0.1, 0.0))
    assert math.isnan(short["foreign_cpu_pct"])  # a few ticks say nothing


def test_rounds_pool_time_weighted_with_their_spread():
    windows = [
        {"wall_s": 1.0, "foreign_cpu_s": 0.1, "foreign_cpu_pct": 10.0, "steal_cpu_pct": 0.0},
        {"wall_s": 3.0, "foreign_cpu_s": 1.5, "foreign_cpu_pct": 50.0, "steal_cpu_pct": 0.0},
        {"wall_s": 0.1, "foreign_cpu_s": 0.1, "foreign_cpu_pct": math.nan, "steal_cpu_pct": math.nan},
    ]
    assert foreign_cpu.pooled(windows) == {
        "foreign_cpu_pct": 40.0,
        "foreign_cpu_pct_min": 10.0,
        "foreign_cpu_pct_max": 50.0,
    }
    state = foreign_cpu.run_state(windows)
    assert state["foreign_cpu_passes"][2]["foreign_cpu_pct"] is None  # standard JSON: null
    json.dumps(state, allow_nan=False)


@pytest.mark.parametrize(
    "share, named", [(decision_rules.BUSY_FOREIGN_CPU_PCT + 1, True), (3.0, False), (None, False)]
)
def test_other_work_above_the_bar_makes_the_machine_busy(share, named):
    run = run_record.BenchmarkRun(
        "r", None, run_record.RunOptions(), [], pd.DataFrame(), pd.DataFrame(), {}, {}, "", extra={}
    )
    run.extra["machine"] = {"foreign_cpu_pct": share, "foreign_cpu_pct_min": 2.0, "foreign_cpu_pct_max": 90.0}
    notes = machine_notes(run)
    assert any("beside other work are doubtful" in n for n in notes) == named
    if named:
        assert (
            f"other work (the web server, a browser or another program) used {share:.0f} % of one core"
            in notes[-1]
        )
        assert notes[-1].startswith("The machine was busy") and "2-90 % from pass to pass" in notes[-1]


# -- through the dashboard's worker, with a busy sibling ---------------------------------------
@pytest.fixture
def cpu_burner():
    """A process beside the test's worker that spins one core at full speed."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield burner
    finally:
        burner.kill()
        burner.wait(10)


def test_a_busy_sibling_is_recorded_and_named_on_the_scorecard(fakepose, results_root, cpu_burner):
    slow = ["fakepose-a:act=slow", "fakepose-b:act=slow"]  # 50 ms a frame, mostly asleep
    nice_before = os.getpriority(os.PRIO_PROCESS, 0)
    job = background_jobs.RunJob(
        str(RUNNING),
        [backends.parse(c) for c in slow],
        run_record.RunOptions(max_frames=16, warmup=2),  # 0.8 s a pass: long enough to tell
        results_root=results_root,
    ).start()
    assert job.wait(240), "the worker did not finish"
    assert job.error is None and job.save_error is None, job.error

    meta = json.loads((job.saved_to / "run.json").read_text(encoding="utf-8"))
    machine = meta["machine"]
    # The burner alone takes one core (100 %); the worker, asleep most of the time, is not counted.
    assert machine["foreign_cpu_pct"] >= 50, machine
    assert [(p["backend"], p["round"]) for p in machine["foreign_cpu_passes"]] == [(c, 1) for c in slow]
    summary = pd.read_csv(job.saved_to / "summary.csv")
    assert (summary["foreign_cpu_pct"] >= 50).all()  # each backend's rounds
    assert schema.SUMMARY_COLUMNS["foreign_cpu_pct"].unit == "% of one core"

    # The Scorecard's verdict says the speed was measured beside other work.
    run = run_store.load(job.saved_to)
    decided = headline_verdict.decide(Evidence.from_run(run))
    assert any("beside other work are doubtful" in n for n in decided.notes), decided.notes
    page = page_test("scorecard", default_timeout=120)
    page.session_state["current_run"] = run
    page.run()
    assert not page.exception
    warnings = " ".join(w.value for w in page.warning)
    assert warnings.count("The machine was busy: ") == 1, warnings  # every reason in one sentence
    assert "other work (the web server" in warnings and "re-measure on a quiet machine" in warnings

    # The worker lowered this process (its parent, the server in the dashboard) while it timed.
    lowered = machine["priority"]
    assert lowered["server_pid"] == os.getpid() and lowered["server_nice_before"] == nice_before
    if nice_before < priority.SERVER_NICE:
        assert lowered["server_nice_during"] == priority.SERVER_NICE
    if lowered["server_restored"]:
        assert os.getpriority(os.PRIO_PROCESS, 0) == nice_before


@pytest.mark.integration
def test_a_dashboard_run_of_real_models_carries_the_foreign_share(results_root):
    job = background_jobs.RunJob(
        str(RUNNING),
        [backends.parse(c) for c in CONFIGS],
        run_record.RunOptions(warmup=2),  # the whole tiny clip: 47 frames
        results_root=results_root,
    ).start()
    assert job.wait(280), "the worker did not finish"
    assert job.error is None and job.save_error is None, job.error
    machine = json.loads((job.saved_to / "run.json").read_text(encoding="utf-8"))["machine"]
    timed = [p for p in machine["foreign_cpu_passes"] if p["wall_s"] >= foreign_cpu.MIN_WINDOW_S]
    assert timed, "no pass was long enough to tell"  # rtmlib's default takes ≥ 20 ms a frame
    assert 0 <= machine["foreign_cpu_pct"] <= 100 * (os.cpu_count() or 1)
    assert machine["foreign_cpu_pct_min"] <= machine["foreign_cpu_pct_max"]
    assert set(job.run.summary.columns) >= {"foreign_cpu_pct", "foreign_cpu_pct_min", "foreign_cpu_pct_max"}


def test_an_orphaned_worker_lowers_nobody(monkeypatch):
    """A worker whose starter has gone belongs to the system's first process (or a reaper):
    lowering that would slow the whole machine, and nobody would put it back."""
    first = os.getpriority(os.PRIO_PROCESS, 1)
    monkeypatch.setattr(priority.os, "getppid", lambda: 1)
    monkeypatch.setattr(priority.multiprocessing, "parent_process", lambda: None)
    lowered = priority.ParentLowered()
    assert lowered.pid is None
    with lowered as record:
        assert record["server_pid"] is None and record["server_lowering_refused"]
    assert os.getpriority(os.PRIO_PROCESS, 1) == first  # the first process is left alone
