"""The headline verdict: one decision from the strongest evidence there is."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends, cli
from posebench.decision import headline_verdict, speed_evidence
from posebench.decision.speed_evidence import SpeedSource
from posebench.decision.verdict_evidence import BackendEvidence, Evidence, Reference
from posebench.engine.runner import run_benchmark
from posebench.store import run_store, sidecars
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

BASE, CAND = "mediapipe-lite", "rtmpose-lightweight-tuned"


def backend(label, family, **values) -> BackendEvidence:
    defaults = dict(n_clips=1, fps=30.0, detection_rate=1.0)
    return BackendEvidence(label, family, words=f"{label} in words", **{**defaults, **values})


def evidence(base: BackendEvidence, cand: BackendEvidence, reference: Reference | None = None, **more):
    return Evidence(
        BASE,
        {base.label: base, cand.label: cand},
        reference=reference,
        reference_text=reference.describe() if reference else "",
        has_reference=reference is not None,
        **more,
    )


def test_a_faster_candidate_further_from_the_reference_is_kept():
    ref = Reference(flight_time_s=0.789, source="validated app")
    base = backend(BASE, "mediapipe", flight_abs_error_ms=12, flight_diff_ms=0)
    cand = backend(CAND, "rtmpose", flight_abs_error_ms=46, fps=60.0, flight_diff_ms=34)
    v = headline_verdict.decide(evidence(base, cand, ref), {"min_clips": 1})
    assert v.decision == "keep"
    assert v.reason == (
        "Keep mediapipe-lite: against the 789 ms reference (validated app), "
        "rtmpose-lightweight-tuned's flight time is 46 ms off and mediapipe-lite's 12 ms "
        "(allowed: at most 10 ms more than mediapipe-lite)."
    )
    crit = {c.key: c for c in v.criteria}
    assert crit["accuracy"].status == "unmet" and crit["accuracy"].threshold == 22
    assert crit["speed"].status == "met" and crit["speed"].measured == 2.0
    assert "agreement" not in crit  # a reference exists: agreement does not decide


def test_the_margin_is_editable_and_within_it_the_candidate_may_replace():
    ref = Reference(flight_time_s=0.789)
    base = backend(BASE, "mediapipe", flight_abs_error_ms=12)
    cand = backend(CAND, "rtmpose", flight_abs_error_ms=46, fps=60.0)
    assert headline_verdict.decide(
        evidence(base, cand, ref), {"min_clips": 1, "accuracy_margin_ms": 40}
    ).decision == ("replace")


def test_an_unmeasured_must_meet_input_never_gives_replace():
    ref = Reference(flight_time_s=0.789)
    base = backend(BASE, "mediapipe", flight_abs_error_ms=12)
    for missing in ("flight_abs_error_ms", "detection_rate", "fps"):
        cand = backend(CAND, "rtmpose", **{"flight_abs_error_ms": 5, "fps": 60.0, missing: math.nan})
        v = headline_verdict.decide(evidence(base, cand, ref), {"min_clips": 1})
        assert v.decision in ("undecided", "keep"), missing
        assert v.unmeasured, missing
        assert v.reason.startswith("Not enough evidence:")


def test_without_a_reference_agreement_decides_and_the_sentence_says_what_would_settle_it():
    base = backend(BASE, "mediapipe", flight_diff_ms=0)
    cand = backend(CAND, "rtmpose", flight_diff_ms=8, fps=45.0)
    v = headline_verdict.decide(evidence(base, cand), {"min_clips": 1})
    assert v.decision == "replace" and v.evidence["kind"] == "agreement"
    assert "only agreement with mediapipe-lite was judged; agreement is not accuracy" in v.reason
    assert "a known flight time" in v.reason
    far = backend(CAND, "rtmpose", flight_diff_ms=40, fps=45.0)
    assert headline_verdict.decide(evidence(base, far), {"min_clips": 1}).decision == "keep"


def test_one_clip_is_not_enough_to_replace_and_says_how_many_more():
    ref = Reference(takeoff_frame=260, landing_frame=277, fps=30.0, source="by eye")
    base = backend(BASE, "mediapipe", flight_abs_error_ms=20, takeoff_error_frames=1, landing_error_frames=0)
    cand = backend(CAND, "rtmpose", flight_abs_error_ms=10, takeoff_error_frames=0, landing_error_frames=1)
    v = headline_verdict.decide(evidence(base, cand, ref))
    assert v.decision == "undecided"
    assert "rests on 1 clip; a replace needs at least 10 (9 more)" in v.reason
    assert "the reference take-off and landing frames 260 and 277 (567 ms of flight, by eye)" in v.reason
    assert {c.key for c in v.criteria} >= {"accuracy", "timing", "clips"}
    late = backend(CAND, "rtmpose", flight_abs_error_ms=10, takeoff_error_frames=3, landing_error_frames=1)
    v = headline_verdict.decide(evidence(base, late, ref))
    assert v.decision == "keep" and "3.0 frames off the reference take-off" in v.reason


def test_speed_must_hold_across_the_spread_of_rounds():
    ref = Reference(flight_time_s=0.5)
    base = backend(BASE, "mediapipe", flight_abs_error_ms=10, fps=30, fps_min=25, fps_max=40, rounds=5)
    cand = backend(CAND, "rtmpose", flight_abs_error_ms=10, fps=30, fps_min=28, fps_max=32, rounds=5)
    v = headline_verdict.decide(evidence(base, cand, ref), {"min_clips": 1})
    speed = {c.key: c for c in v.criteria}["speed"]
    assert speed.status == "unmet" and "spread crosses the 80% bar" in speed.detail
    assert speed.spread == "70% to 128% of mediapipe-lite's speed over 5 rounds"
    assert v.decision == "keep" and not any("single timed pass" in n for n in v.notes)
    steady = backend(CAND, "rtmpose", flight_abs_error_ms=10, fps=45, fps_min=44, fps_max=46, rounds=5)
    assert headline_verdict.decide(evidence(base, steady, ref), {"min_clips": 1}).decision == "replace"
    single = backend(CAND, "rtmpose", flight_abs_error_ms=10, fps=45)
    v = headline_verdict.decide(evidence(backend(BASE, "mediapipe", flight_abs_error_ms=10), single, ref))
    assert any("single timed pass" in n for n in v.notes)


def test_the_best_candidate_is_the_headline_and_the_others_are_kept():
    ref = Reference(flight_time_s=0.789)
    base = backend(BASE, "mediapipe", flight_abs_error_ms=12)
    default = backend("rtmpose-lightweight", "rtmpose", flight_abs_error_ms=60, fps=20.0)
    tuned = backend(CAND, "rtmpose", flight_abs_error_ms=14, fps=50.0)
    e = Evidence(BASE, {BASE: base, default.label: default, CAND: tuned}, ref, ref.describe(), True)
    v = headline_verdict.decide(e, {"min_clips": 1})
    assert v.candidate == CAND and v.decision == "replace"
    assert len(v.others) == 1
    other = v.others[0]
    assert (other["candidate"], other["decision"]) == ("rtmpose-lightweight", "keep")
    assert other["reason"].startswith("Keep mediapipe-lite: ")
    # every candidate carries the same evidence blocks as the headline (verdict.json's others)
    assert {"paired", "clusters", "speed_source", "targets", "headline"} <= set(other)
    assert headline_verdict.decide(e, {"min_clips": 1}, candidate="rtmpose-lightweight").decision == "keep"


POOLED = pd.DataFrame(
    {
        "backend": [BASE, CAND],
        "n_clips": [12, 12],
        "flight_time_bias_ms": [-4.0, 38.0],
        "flight_time_bias_ci_low_ms": [-10.0, 30.0],
        "flight_time_bias_ci_high_ms": [2.0, 46.0],
        "flight_time_mae_ms": [11.0, 40.0],
        "loa_low_ms": [-25.0, 10.0],
        "loa_high_ms": [17.0, 66.0],
        "icc": [0.95, 0.80],
        "takeoff_bias_frames": [0.1, 2.0],
        "landing_bias_frames": [0.0, 0.2],
        "fps": [30.0, 55.0],
        "detection_rate": [1.0, 1.0],
    }
)


QUIET = SpeedSource(
    kind="run",
    source="run quiet-1",
    host="quiet-box",
    cpu="a CPU",
    cores=8,
    fps={
        BASE: {"fps": 30.0, "fps_min": 29.0, "fps_max": 31.0, "rounds": 5},
        CAND: {"fps": 55.0, "fps_min": 54.0, "fps_max": 56.0, "rounds": 5},
    },
)


def test_a_study_is_judged_by_the_same_function_and_says_how_many_clips():
    e = Evidence.from_study(POOLED, n_clips=12)
    assert e.baseline == BASE and e.kind == "study" and e.has_reference
    v = headline_verdict.decide(e)
    assert v.decision == "keep" and v.candidate == CAND
    assert v.reason.startswith(
        "Keep mediapipe-lite: over 12 clips against the clips' reference flight times, "
        "rtmpose-lightweight-tuned's flight time is off by 40 ms on average (bias +38 ms)"
    )
    acc = {c.key: c for c in v.criteria}["accuracy"]
    assert (
        acc.spread
        == "bias +38 ms (95 % CI +30 to +46 ms); 95 % limits of agreement +10 to +66 ms; over 12 clips"
    )
    assert {c.key: c for c in v.criteria}["timing"].status == "unmet"

    good = POOLED.assign(
        flight_time_mae_ms=[11.0, 12.0], flight_time_bias_ms=[-4.0, 3.0], takeoff_bias_frames=[0.1, 0.3]
    )
    # a study's own timings never decide: a replace needs a dedicated speed measurement
    v = headline_verdict.decide(Evidence.from_study(good, 12))
    assert v.decision == "undecided" and "speed was not measured on any machine" in v.reason
    assert {c.key: c for c in v.criteria}["speed"].status == "not measured"
    assert headline_verdict.decide_for_targets(Evidence.from_study(good, 12), [QUIET]).decision == "replace"
    few = good.assign(n_clips=[4, 4])
    v = headline_verdict.decide_for_targets(Evidence.from_study(few, 4), [QUIET])
    assert v.decision == "undecided" and "rests on 4 clips; a replace needs at least 10 (6 more)" in v.reason


@pytest.fixture
def fake_run(monkeypatch, results_root):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    run = run_benchmark(str(RUNNING), [BASE, CAND], RunOptions(max_frames=8, warmup=2))
    return run, run_store.save(run)


def test_a_run_gives_evidence_and_the_verdict_is_written_as_json(fake_run, tmp_path):
    run, folder = fake_run
    jump = pd.DataFrame(
        {
            "backend": [BASE, CAND],
            "status": ["ok", "ok"],
            "takeoff_frame": [260.4, 261.0],
            "landing_frame": [277.6, 279.0],
            "flight_time_s": [0.575, 0.601],
        }
    )
    sidecars.save_reference(run, {"flight_time_s": 0.57, "source": "contact mat"})
    e = Evidence.from_run(run, sidecars.load_reference(run_store.load(folder)), jump)
    assert e.baseline == BASE and e.evidence_kind == "flight_time" and e.n_clips == 1
    assert e.backends[CAND].flight_abs_error_ms == pytest.approx(31)
    assert e.backends[CAND].flight_diff_ms == pytest.approx(26)
    assert e.backends[CAND].words.startswith("RTMPose, tuned: detector only when the athlete is lost")
    v = headline_verdict.decide(e)
    assert v.decision == "keep" and "31 ms off and mediapipe-lite's 5 ms" in v.reason
    path = headline_verdict.write_json(v, tmp_path / "verdict.json")
    data = json.loads(path.read_text())
    assert data["decision"] == "keep" and data["reason"] == v.reason
    assert data["baseline"] == BASE and data["candidate"] == CAND
    assert data["evidence"]["reference"]["flight_time_s"] == 0.57
    assert {c["status"] for c in data["criteria"]} <= {"met", "unmet", "not measured"}
    assert all({"measured", "spread", "threshold", "status"} <= set(c) for c in data["criteria"])

    nothing = headline_verdict.decide(
        Evidence.from_run(run, None, None), {"min_clips": 1, "fps_ratio_min": 0}
    )
    assert nothing.decision == "undecided" and nothing.evidence["kind"] == "agreement"
    assert "could not be compared" in nothing.reason


def test_a_run_verdict_names_the_machine_it_speaks_for_as_a_study_verdict_does(fake_run, capsys):
    run, folder = fake_run
    host = run.environment["host"]
    assert host  # a run records the machine it was timed on
    v = headline_verdict.decide(Evidence.from_run(run), {"min_clips": 1})
    # one wording for a run and a study: the decision, then the machine its speed speaks for
    assert v.headline == headline_verdict.headline_for(v.decision, BASE, CAND, speed_evidence.from_run(run))
    assert v.headline.endswith(f" on {host}") and v.reason.startswith(f"{v.headline}: ")
    study = headline_verdict.decide_for_targets(
        Evidence.from_study(POOLED, n_clips=12), [speed_evidence.from_run(run)]
    )
    assert study.headline == headline_verdict.headline_for(
        study.decision, BASE, CAND, speed_evidence.from_run(run)
    )
    assert study.headline.endswith(f" on {host}")
    # the command line leads with the same headline (the Scorecard shows the same reason)
    assert cli.main(["verdict", str(folder)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    saved = json.loads((folder / "verdict.json").read_text())
    assert first == saved["reason"] and saved["headline"].endswith(f" on {host}")
    assert first.startswith(f"{saved['headline']}: ")
    # no speed evidence at all: no machine to name
    bare = headline_verdict.decide(
        evidence(backend(BASE, "mediapipe"), backend(CAND, "rtmpose")), {"min_clips": 1}
    )
    assert " on " not in bare.headline


def test_an_overlapping_run_or_a_busy_machine_is_named(fake_run):
    run, _folder = fake_run
    run.overlapped = 1
    run.extra["machine"] = {"load_1min_start": 3.1, "load_1min_end": 2.5, "usable_cores": 2}
    notes = Evidence.from_run(run).machine_notes
    assert any("1 other benchmark run overlapped" in n for n in notes)
    assert any(
        "busy: 1-minute load average 3.1 on 2 cores when the measurement started" in n
        and n.endswith("re-measure on a quiet machine.")
        for n in notes
    )
    run.overlapped = 0
    run.extra["machine"] = {"load_1min_start": 0.2, "load_1min_end": 0.3, "usable_cores": 2}
    run.extra["machine"]["overlapping_runs"] = [{"run_id": "other", "source": "cli"}] * 2
    assert Evidence.from_run(run).machine_notes == [
        "2 other benchmark runs overlapped this one: its speed figures are not comparable."
    ]


def test_the_verdict_says_when_a_jump_table_carries_an_event_calibration():
    ref = Reference(takeoff_frame=261, landing_frame=277, fps=30.0, source="by eye")
    base = backend(BASE, "mediapipe", flight_abs_error_ms=60, takeoff_error_frames=2, landing_error_frames=0)
    cand = backend(
        CAND,
        "rtmpose",
        flight_abs_error_ms=0,
        takeoff_error_frames=0,
        landing_error_frames=0,
        calibration_applied=True,
        calibration="take-off +1 frames, landing -1 frames, estimated from 12 clips",
    )
    v = headline_verdict.decide(evidence(base, cand, ref), {"min_clips": 1})
    assert v.to_json()["evidence"]["calibration_applied"] == {BASE: False, CAND: True}
    assert any("include an event calibration (take-off +1 frames" in n for n in v.notes)
    plain = headline_verdict.decide(
        evidence(base, backend(CAND, "rtmpose", flight_abs_error_ms=0), ref), {"min_clips": 1}
    )
    assert not any("event calibration" in n for n in plain.notes)
    assert plain.to_json()["evidence"]["calibration_applied"] == {BASE: False, CAND: False}
