"""Real time as speed evidence in the verdict: keeps up with a 30 / 60 fps camera."""

from __future__ import annotations

import pandas as pd

from posebench.decision import headline_verdict
from posebench.decision.verdict_evidence import BackendEvidence, Evidence, Reference, realtime_by_backend

BASE, CAND = "mediapipe-lite", "rtmpose-lightweight-tuned"


def _table(load: float, overlapped: int = 0) -> pd.DataFrame:
    row = dict(status="ok", latency_ms_p50=20.0, sustained_fps=45.0, load_1min_start=load)
    row |= dict(load_1min_end=load, cores=2, overlapped_runs=overlapped)
    return pd.DataFrame(
        [
            {**row, "backend": BASE, "camera_fps": 29.95, "drop_pct": 0.0},
            {**row, "backend": CAND, "camera_fps": 29.95, "drop_pct": 0.0},
            {**row, "backend": CAND, "camera_fps": 60.0, "drop_pct": 12.5},
        ]
    )


def _decide(table: pd.DataFrame):
    measured = realtime_by_backend(table)
    ref = Reference(flight_time_s=0.6)
    base = BackendEvidence(BASE, "mediapipe", n_clips=1, fps=30.0, detection_rate=1.0, flight_abs_error_ms=5)
    cand = BackendEvidence(CAND, "rtmpose", n_clips=1, fps=60.0, detection_rate=1.0, flight_abs_error_ms=5)
    base.realtime, cand.realtime = measured.get(BASE, {}), measured.get(CAND, {})
    e = Evidence(
        BASE, {BASE: base, CAND: cand}, reference=ref, reference_text=ref.describe(), has_reference=True
    )
    return headline_verdict.decide(e, {"min_clips": 1})


def test_a_quiet_real_time_run_says_whether_the_candidate_keeps_up_without_deciding():
    v = _decide(_table(load=0.5))
    crit = {c.key: c for c in v.criteria}
    assert crit["camera_30"].status == "met" and not crit["camera_30"].must_meet
    assert crit["camera_60"].status == "unmet" and crit["camera_60"].measured == 12.5
    assert "does not keep up with a 60 fps camera" in crit["camera_60"].detail
    assert v.decision == "replace"  # speed evidence beside the rules, never a blocker


def test_a_busy_machine_makes_real_time_not_measured_reliably():
    for table in (_table(load=3.0), _table(load=0.5, overlapped=1)):
        crit = {c.key: c for c in _decide(table).criteria}
        assert crit["camera_30"].status == "not measured"
        assert "not measured reliably" in crit["camera_30"].detail


def test_without_a_real_time_run_the_verdict_has_no_camera_criteria():
    assert not {"camera_30", "camera_60"} & {c.key for c in _decide(pd.DataFrame()).criteria}
