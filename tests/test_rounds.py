"""Repeated interleaved rounds, their spread, and the machine's state in every run (issue 10)."""

from __future__ import annotations

import multiprocessing
import os
import time

import numpy as np
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.engine import machine, worker
from posebench.engine.runner import run_benchmark
from posebench.engine.summary import SUMMARY_COLUMNS
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)


def test_rounds_rotate_the_order_and_the_summary_has_the_spread(monkeypatch):
    order = []

    class Logged(FakeBackend):
        def __init__(self, name):
            super().__init__(name)
            order.append(name)

    monkeypatch.setattr(backends, "create", lambda config, cache=None: Logged(config.display))
    run = run_benchmark(
        str(RUNNING),
        ["mediapipe-lite", "mediapipe-full", "rtmpose-lightweight"],
        RunOptions(max_frames=5, warmup=1, rounds=3),
    )
    a, b, c = "mediapipe-lite", "mediapipe-full", "rtmpose-lightweight"
    assert order == [a, b, c, b, c, a, c, a, b]  # each round starts one further along
    assert len(run.frames) == 15  # the per-frame table is one pass (the first round)
    assert len(run.timings) == 45 and sorted(run.timings["round"].unique()) == [1, 2, 3]
    summary = run.summary.set_index("backend")
    assert (summary["rounds"] == 3).all() and (summary["frames"] == 4).all()
    per_round = {(r["backend"], r["round"]): r["fps"] for r in run.extra["rounds"]}
    for label in (a, b, c):
        fps = [per_round[(label, r)] for r in (1, 2, 3)]
        assert summary.loc[label, "fps"] == pytest.approx(np.median(fps))
        assert summary.loc[label, "fps_min"] == pytest.approx(min(fps))
        assert summary.loc[label, "fps_max"] == pytest.approx(max(fps))
        # latency percentiles pool every round's timed frames
        timed = run.timings[(run.timings["backend"] == label) & ~run.timings["warmup"]]
        assert len(timed) == 12
        assert summary.loc[label, "latency_ms_p90"] == pytest.approx(np.percentile(timed["latency_ms"], 90))
    for column in ("rounds", "fps_min", "fps_max"):
        assert column in SUMMARY_COLUMNS and SUMMARY_COLUMNS[column].meaning


def test_a_budget_stops_the_rounds_after_a_whole_round(monkeypatch):
    """``more_rounds`` (the explorer's time budget) is asked after each round but the last."""
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    asked = []

    def more(done: int) -> bool:
        asked.append(done)
        return done < 2

    run = run_benchmark(
        str(RUNNING),
        ["mediapipe-lite", "rtmpose-lightweight"],
        RunOptions(max_frames=4, warmup=1, rounds=5),
        more_rounds=more,
    )
    assert asked == [1, 2]
    assert sorted(run.timings["round"].unique()) == [1, 2] and (run.summary["rounds"] == 2).all()
    assert run.status == "complete"


@pytest.mark.integration
def test_later_rounds_give_the_very_same_landmarks_on_the_real_models():
    """Accuracy uses the first round only, because every round gives identical keypoints."""
    run = run_benchmark(
        str(RUNNING),
        ["mediapipe-lite", "rtmpose-lightweight-tuned"],
        RunOptions(max_frames=8, warmup=2, rounds=2),
    )
    assert list(run.summary["status"]) == ["ok", "ok"]
    assert run.extra["identical_rounds"] == {"mediapipe-lite": True, "rtmpose-lightweight-tuned": True}
    assert not any("different keypoints" in n for n in run.extra["notices"])
    # the tuned preset's engine=auto was resolved by measurement and recorded
    choice = run.extra["engine_choice"]["rtmpose-lightweight-tuned"]
    settings = run.summary.set_index("backend").loc["rtmpose-lightweight-tuned", "settings"]
    assert f'"engine": "{choice["engine"]}"' in settings


def test_a_backend_whose_later_round_differs_is_flagged(monkeypatch):
    made = []

    class Drifting(FakeBackend):
        def __init__(self, name):
            super().__init__(name)
            made.append(self)
            self.calls = 100 * (len(made) - 1)  # a different skeleton each pass

    monkeypatch.setattr(backends, "create", lambda config, cache=None: Drifting(config.display))
    run = run_benchmark(str(RUNNING), ["mediapipe-lite"], RunOptions(max_frames=3, warmup=0, rounds=2))
    assert run.extra["identical_rounds"] == {"mediapipe-lite": False}
    assert any("different keypoints in a later round" in n for n in run.extra["notices"])


def test_the_run_records_the_machine_state(monkeypatch):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    run = run_benchmark(str(RUNNING), ["mediapipe-lite"], RunOptions(max_frames=2, warmup=0))
    state = run.extra["machine"]
    assert state["load_1min_start"] >= 0 and state["load_1min_end"] >= 0
    assert state["cores"] == os.cpu_count() and state["overlapping_runs"] == []
    assert run.environment["cpu"] and run.environment["cores"] == os.cpu_count()
    assert run.meta()["machine"] == state


def _hold_entry(run_id: str, seconds: float, crash: bool) -> None:
    with machine.RunEntry(run_id, "other-process"):
        time.sleep(seconds)
        if crash:
            os._exit(3)  # dies inside its run: no end written, the lock goes with the process


@pytest.mark.parametrize("crash", [False, True])
def test_runs_of_another_process_count_as_overlapping(run_registry, crash):
    ctx = multiprocessing.get_context("spawn")
    # named like PoseBench's workers, so the child does not re-run this worker's __main__ (after
    # a page test in the same process that is the page's script)
    other = ctx.Process(
        target=_hold_entry, args=("other-run", 1.5, crash), name=worker.PROCESS_PREFIX + "other"
    )
    other.start()
    deadline = time.time() + 60
    while not (run_registry / "other-run.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    with machine.RunEntry("this-run", "test") as entry:
        time.sleep(0.2)
    other.join(60)
    found = entry.state()["overlapping_runs"]
    assert [o["run_id"] for o in found] == ["other-run"]
    assert found[0]["pid"] == other.pid and not found[0]["same_process"]
    # A later run, after the other process ended (or died), does not overlap with it.
    with machine.RunEntry("later-run", "test") as later:
        pass
    assert later.state()["overlapping_runs"] == []
    assert other.exitcode == (3 if crash else 0)
