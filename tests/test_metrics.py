"""Agreement, stability (jitter, confidence) and temporal offset on real backends' output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import CMJ, LAB
from posebench.analysis import metrics, offset, stability
from posebench.core.keypoints import LANDMARKS
from posebench.engine.runner import run_benchmark
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

BASE, CAND = "mediapipe-lite", "rtmpose-lightweight-tuned"


@pytest.fixture(scope="module")
def lab_run():
    """Both backends on the whole LAB clip (100 frames, 60 fps): a moving athlete."""
    return run_benchmark(str(LAB), [BASE, CAND], RunOptions(warmup=0))


@pytest.fixture(scope="module")
def still_run():
    """The first 60 frames of the CMJ clip: the athlete stands still before the jump."""
    return run_benchmark(str(CMJ), [BASE, CAND], RunOptions(max_frames=60, warmup=0))


def synthetic_frames(
    n: int = 30, speed_px: float = 2.0, torso_px: float = 100.0, label: str = "synthetic"
) -> pd.DataFrame:
    """A hand-made per-frame table: a 100 px torso gliding right at ``speed_px`` per frame."""
    rows = []
    base = {name: (200.0 + 10 * i, 100.0 + 20 * i) for i, name in enumerate(LANDMARKS)}
    base.update(
        {
            "left_shoulder": (190.0, 100.0),
            "right_shoulder": (210.0, 100.0),
            "left_hip": (190.0, 100.0 + torso_px),
            "right_hip": (210.0, 100.0 + torso_px),
        }
    )
    for f in range(n):
        row = {"backend": label, "frame": f, "detected": True}
        for name, (x, y) in base.items():
            row[f"{name}_x"], row[f"{name}_y"], row[f"{name}_score"] = x + speed_px * f, y, 0.9
        rows.append(row)
    return pd.DataFrame(rows)


# -- agreement ----------------------------------------------------------------------------
@pytest.mark.integration
def test_agreement_of_the_real_backends_is_measured_per_landmark(lab_run):
    frames = lab_run.frames
    table = metrics.agreement_table(frames, BASE)
    assert list(table["candidate"].unique()) == [CAND]
    assert list(table["landmark"]) == [*LANDMARKS, "all"]
    within = table[["within_0.05", "within_0.1", "within_0.2"]].to_numpy()
    assert (np.diff(within, axis=1) >= 0).all(), "a wider band must hold at least as many frames"
    overall = table.set_index("landmark").loc["all"]
    # both backends track the same athlete: most landmarks within 0.2 torso (about 10 cm)
    assert overall["within_0.2"] > 0.8
    assert 0 < overall["median"] < 0.2
    assert overall["frames"] == table.set_index("landmark").loc[list(LANDMARKS), "frames"].sum()

    view = metrics.agreement_overview(frames, BASE).iloc[0]
    summary = lab_run.summary.set_index("backend")
    assert view["detection_rate"] == pytest.approx(summary.loc[CAND, "detection_rate"])
    assert view["detection_rate_baseline"] == pytest.approx(summary.loc[BASE, "detection_rate"])
    assert 0 <= view["frames_all_within_0.1"] <= view["within_0.1"] <= 1
    assert 0.5 < view["trajectory_r2"] <= 1
    rates = metrics.detection_rates(frames).set_index("backend")
    assert rates.loc[BASE, "frames"] == 100 and rates.loc[CAND, "frames"] == 100


@pytest.mark.integration
def test_a_backend_agrees_perfectly_with_itself(lab_run):
    frames = lab_run.frames
    twin = frames[frames["backend"] == BASE].assign(backend="twin")
    both = pd.concat([frames, twin], ignore_index=True)
    row = metrics.agreement_overview(both, BASE, ["twin"]).iloc[0]
    assert row["within_0.05"] == 1.0 and row["median"] == 0.0
    assert row["trajectory_r2"] == pytest.approx(1.0)


# -- offset ---------------------------------------------------------------------------------
def shift_backend(frames: pd.DataFrame, backend: str, k: int) -> pd.DataFrame:
    """A copy of the table where ``backend`` shows everything ``k`` frames later (k < 0: earlier):
    the landmark columns of frame t move to frame t + k."""
    out = frames.copy()
    mine = out["backend"] == backend
    shifted = out[mine].copy()
    shifted["frame"] = shifted["frame"] + k
    keep_frames = set(out.loc[mine, "frame"])
    shifted = shifted[shifted["frame"].isin(keep_frames)]
    return pd.concat([out[~mine], shifted], ignore_index=True)


@pytest.mark.integration
@pytest.mark.parametrize("shifted", [CAND, BASE])
def test_the_offset_finder_recovers_an_injected_shift_exactly(lab_run, shifted):
    frames = lab_run.frames
    fps = lab_run.clip.fps
    lag0 = offset.find_lag(frames, BASE, CAND, fps).lag_frames
    assert abs(lag0) <= 1, "the two backends see the same movement at about the same time"
    sign = 1 if shifted == CAND else -1
    for k in range(-3, 4):
        found = offset.find_lag(shift_backend(frames, shifted, k), BASE, CAND, fps)
        assert found.lag_frames == lag0 + sign * k, f"shift {k} of {shifted}"
        assert found.lag_ms == pytest.approx(found.lag_frames * 1000 / fps)


@pytest.mark.integration
def test_the_offset_finder_copes_with_missing_landmarks(lab_run):
    frames = lab_run.frames.copy()
    rng = np.random.default_rng(5)
    mine = frames.index[frames["backend"] == CAND]
    # a tenth of the frames lose their hips and ankles here and there, plus one long gap
    gone = [*rng.choice(mine, size=len(mine) // 10, replace=False), *mine[40:50]]
    for name in ("left_hip", "right_hip", "left_ankle", "right_ankle"):
        frames.loc[gone, f"{name}_y"] = np.nan
    lag0 = offset.find_lag(lab_run.frames, BASE, CAND, lab_run.clip.fps).lag_frames
    for k in (-2, 2):
        found = offset.find_lag(shift_backend(frames, CAND, k), BASE, CAND, lab_run.clip.fps)
        assert found.lag_frames == lag0 + k
        assert np.isfinite(found.correlation)
    bridged = offset.fill_short_gaps(np.array([1.0, np.nan, np.nan, 4.0, np.nan, *[np.nan] * 4, 9.0]))
    assert bridged[:4].tolist() == [1.0, 2.0, 3.0, 4.0] and np.isnan(bridged[4:9]).all()


def test_the_lag_is_explained_in_words_with_its_sign():
    assert offset.lag_sentence("MediaPipe", "RTMPose", 2, 66.7, 0.9).startswith(
        "RTMPose trails MediaPipe by 2 frames (67 ms)"
    )
    assert offset.lag_sentence("MediaPipe", "RTMPose", -1, -33.3, 0.9).startswith(
        "RTMPose leads MediaPipe by 1 frame (33 ms)"
    )
    assert "in step" in offset.lag_sentence("MediaPipe", "RTMPose", 0, 0.0, 0.9)
    assert "could be measured" in offset.lag_sentence("MediaPipe", "RTMPose", 0, 0.0, np.nan)


# -- stability ------------------------------------------------------------------------------
def test_jitter_units_are_torso_lengths_per_second():
    frames = synthetic_frames(speed_px=2.0, torso_px=100.0)
    table = stability.jitter_table(frames, fps=30.0).set_index(["landmark", "phase"])
    row = table.loc[("left_knee", "all")]
    # 2 px per frame / 100 px torso × 30 frames/s = 0.6 torso lengths per second, no acceleration
    assert row["velocity_median"] == pytest.approx(0.6)
    assert row["acceleration_median"] == pytest.approx(0.0, abs=1e-9)
    assert row["frames"] == 29
    doubled = stability.jitter_table(frames, fps=60.0).set_index(["landmark", "phase"])
    assert doubled.loc[("left_knee", "all"), "velocity_median"] == pytest.approx(1.2)
    # 0.6 torso/s is well above the still rule's 0.25: no still frames
    assert not stability.still_mask(frames, "synthetic", 30.0).any()


def test_a_gap_in_the_frames_leaves_a_gap_in_the_derivatives():
    frames = synthetic_frames(n=20)
    frames = frames[frames["frame"] != 10]
    grid, pos, step = stability.normalised_positions(frames, "synthetic")
    assert step == 1 and len(grid) == 20 and np.isnan(pos[10]).all()
    ders = stability.derivatives(pos, 30.0, step)
    assert np.isnan(ders["velocity"][10]).all() and np.isnan(ders["velocity"][11]).all()
    assert np.isfinite(ders["velocity"][12]).all()


@pytest.mark.integration
def test_jitter_on_still_phases_of_the_real_backends(still_run):
    frames, fps = still_run.frames, still_run.clip.fps
    still = stability.still_mask(frames, BASE, fps)
    assert still.sum() >= 40, "the athlete stands still for the first two seconds"
    table = stability.jitter_table(frames, fps, BASE)
    pooled = table[(table["landmark"] == "all") & (table["phase"] == "still")].set_index("backend")
    for label in (BASE, CAND):
        assert pooled.loc[label, "frames"] > 100
        # jitter exists but is small: under a torso length per second while standing still
        assert 0 < pooled.loc[label, "velocity_median"] < 1.0
        assert pooled.loc[label, "acceleration_median"] > pooled.loc[label, "velocity_median"]
    overview = stability.jitter_overview(frames, fps, BASE).set_index("backend")
    assert overview.loc[CAND, "velocity_median_still"] == pytest.approx(pooled.loc[CAND, "velocity_median"])
    assert overview["still_frames"].iloc[0] == still.sum()


@pytest.mark.integration
def test_confidence_distribution_per_backend(still_run):
    table = stability.confidence_table(still_run.frames)
    assert set(table["backend"]) == {BASE, CAND}
    pooled = table[table["landmark"] == "all"].set_index("backend")
    for label in (BASE, CAND):
        assert pooled.loc[label, "frames"] == 60 * len(LANDMARKS)
        assert 0 < pooled.loc[label, "p10"] <= pooled.loc[label, "median"]
        assert 0 <= pooled.loc[label, "below_0.5"] <= 1
    long = stability.confidence_long(still_run.frames)
    assert len(long) == pooled["frames"].sum()
