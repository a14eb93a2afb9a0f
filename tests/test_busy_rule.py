"""One rule for every speed figure (``decision.speed_evidence.unreliable_reasons``): other work while it was
timed, the load at its start, or overlapping runs make it *not measured reliably*; the load at its
end, which counts the measurement's own threads, never does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posebench.decision import decision_rules, headline_verdict, speed_evidence
from posebench.decision.verdict_evidence import BackendEvidence, Evidence, Reference, realtime_by_backend
from posebench.engine import foreign_cpu, simulated_camera
from posebench.io import video
from posebench.store import run_record
from posebench.studies import realtime_run
from test_realtime import TimedFake

QUIET_START, OWN_LOAD, CORES = 0.3, 2.1, 2  # a two-thread model run lifts the load to ~2 itself


def state(**changes) -> dict:
    base = {
        "load_1min_start": QUIET_START,
        "load_1min_end": OWN_LOAD,
        "usable_cores": CORES,
        "foreign_cpu_pct": 4.0,
        "overlapping_runs": [],
    }
    return base | changes


def test_a_high_end_load_alone_is_the_measurements_own_and_does_not_make_it_busy():
    assert OWN_LOAD / CORES >= decision_rules.BUSY_LOAD_PER_CORE  # what the end load alone would have said
    assert speed_evidence.unreliable_reasons(state()) == []
    assert "2.1 at the end (includes the measurement's own threads" in speed_evidence.end_load_words(state())


def test_other_work_above_the_bar_makes_it_busy():
    (note,) = speed_evidence.unreliable_reasons(
        state(foreign_cpu_pct=decision_rules.BUSY_FOREIGN_CPU_PCT + 15)
    )
    assert note.startswith("The machine was busy: other work") and "40 % of one core" in note
    assert note.endswith("re-measure on a quiet machine.") and note.count(". ") == 0  # one sentence


def test_a_high_load_at_the_start_makes_it_busy():
    start = decision_rules.BUSY_LOAD_PER_CORE * CORES  # at the bar counts
    (note,) = speed_evidence.unreliable_reasons(state(load_1min_start=start, load_1min_end=0.2))
    assert f"1-minute load average {start:.1f} on 2 cores when the measurement started" in note
    assert note.endswith("re-measure on a quiet machine.")
    assert speed_evidence.unreliable_reasons(state(load_1min_start=start - 0.1)) == []


@pytest.mark.parametrize(
    "overlap", [{"overlapping_runs": [{"run_id": "other"}]}, {"overlapped_runs": 1}], ids=["run.json", "row"]
)
def test_overlapping_runs_make_it_busy(overlap):
    (note,) = speed_evidence.unreliable_reasons(state(**overlap))
    assert note.startswith("1 other benchmark run overlapped this one")


def test_a_run_and_its_scorecard_follow_the_same_rule():
    run = run_record.BenchmarkRun(
        "r", None, run_record.RunOptions(), [], pd.DataFrame(), pd.DataFrame(), {}, {}, "", extra={}
    )
    run.extra["machine"] = state()
    assert speed_evidence.busy_reasons(run) == [] and speed_evidence.from_run(run).reliable
    run.extra["machine"] = state(load_1min_start=1.6)
    assert not speed_evidence.from_run(run).reliable


# -- real time: each stream bracketed by processor-time readings ------------------------------
def fake_cpu(clock, foreign_share: float):
    """Processor-time readings in the fake clock's time: the backend keeps two cores busy (its
    own threads) and other work takes ``foreign_share`` of one core."""

    def read() -> foreign_cpu.Reading:
        t = clock.now()
        own = 2.0 * t
        return foreign_cpu.Reading(wall_s=t, busy_s=own + foreign_share * t, steal_s=0.0, own_s=own)

    return read


def streamed(monkeypatch, foreign_share: float) -> pd.DataFrame:
    monkeypatch.setattr(simulated_camera.machine, "load_1min", lambda: OWN_LOAD)  # the streams' own load
    clock = simulated_camera.FakeClock()
    image = np.zeros((48, 64, 3), np.uint8)
    frames = [video.Frame(i, int(i * 1000 / 30), image, 0.0) for i in range(90)]
    streams = simulated_camera.run_streams(
        None,
        frames,
        [30.0],
        2,
        np.ones(2),
        clock=clock,
        make=lambda: TimedFake(clock, 0.020),
        cpu=fake_cpu(clock, foreign_share),
    )
    assert [s["foreign_cpu_pct"] for s in streams] == [pytest.approx(100 * foreign_share)] * 2
    assert all(s["load_1min_end"] == OWN_LOAD for s in streams)
    run = run_record.BenchmarkRun(
        "r", None, run_record.RunOptions(), [], pd.DataFrame(), pd.DataFrame(), {}, {}, "", extra={}
    )
    measured = {"fake": {"streams": streams, "machine": {"usable_cores": CORES}, "frames": len(frames)}}
    return realtime_run.table_from_streams(run, measured, [30.0], 2, {}, None, load_start=QUIET_START)


def _camera_30(table: pd.DataFrame):
    measured = realtime_by_backend(table)
    ref = Reference(flight_time_s=0.6)
    base = BackendEvidence(
        "base", "mediapipe", n_clips=1, fps=30.0, detection_rate=1.0, flight_abs_error_ms=5
    )
    cand = BackendEvidence("fake", "rtmpose", n_clips=1, fps=30.0, detection_rate=1.0, flight_abs_error_ms=5)
    cand.realtime = measured["fake"]
    e = Evidence("base", {"base": base, "fake": cand}, reference=ref, reference_text="r", has_reference=True)
    return {c.key: c for c in headline_verdict.decide(e, {"min_clips": 1}).criteria}["camera_30"]


def test_a_stream_with_no_other_work_is_not_called_busy_by_its_own_load(monkeypatch):
    row = streamed(monkeypatch, foreign_share=0.03).iloc[0]
    assert row["foreign_cpu_pct"] == pytest.approx(3.0)  # mean over the two rounds, % of one core
    assert row["load_1min_start"] == QUIET_START  # read once, before the whole measurement
    assert row["load_1min_end"] / row["cores"] >= decision_rules.BUSY_LOAD_PER_CORE  # the old rule: busy
    assert "busy" not in row["notes"] and bool(row["keeps_up"])
    crit = _camera_30(pd.DataFrame([row]))
    assert crit.status == "met" and "not measured reliably" not in crit.detail


def test_a_stream_beside_other_work_is_not_measured_reliably(monkeypatch):
    row = streamed(monkeypatch, foreign_share=0.6).iloc[0]
    assert row["foreign_cpu_pct"] == pytest.approx(60.0)
    assert row["notes"].startswith("busy machine (other work used 60 % of one core while it streamed)")
    assert "re-measure on a quiet machine" in row["notes"]
    crit = _camera_30(pd.DataFrame([row]))
    assert crit.status == "not measured" and "other work (the web server" in crit.detail
    assert "not measured reliably" in crit.detail
