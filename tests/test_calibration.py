"""Per-backend event calibration: explicit, labelled, estimated from references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posebench.analysis import calibration
from posebench.core.errors import InputError

FPS = 30.0


def _study() -> pd.DataFrame:
    # RTMPose lands 1 frame late and takes off on time on two clips, 2 frames late on a third
    return pd.DataFrame(
        {
            "backend": ["mp", "rtm", "mp", "rtm", "mp", "rtm"],
            "status": ["ok"] * 6,
            "takeoff_frame": [99.0, 100.0, 49.0, 50.0, 200.0, 201.0],
            "landing_frame": [117.0, 118.0, 66.0, 67.0, 219.0, 221.0],
            "ref_takeoff_frame": [100.0, 100.0, 50.0, 50.0, 201.0, 201.0],
            "ref_landing_frame": [117.0, 117.0, 66.0, 66.0, 219.0, 219.0],
            "fps": [FPS] * 6,
        }
    )


def test_estimate_takes_the_median_of_reference_minus_measured_per_backend():
    cals = calibration.estimate(_study(), source="three clips")
    assert cals["mp"].takeoff_frames == 1.0 and cals["mp"].landing_frames == 0.0
    assert cals["rtm"].takeoff_frames == 0.0 and cals["rtm"].landing_frames == -1.0  # median of -1, -1, -2
    assert cals["rtm"].n_clips == 3 and cals["rtm"].fps == FPS
    assert "landing -1 frames" in cals["rtm"].describe() and "3 clips" in cals["rtm"].describe()


def test_failed_rows_are_left_out_and_missing_columns_refused():
    study = _study()
    study.loc[5, "status"] = "failed"
    assert calibration.estimate(study)["rtm"].n_clips == 2
    with pytest.raises(InputError, match="ref_landing_frame"):
        calibration.estimate(study.drop(columns="ref_landing_frame"))


def test_apply_moves_only_the_calibrated_backend_and_labels_every_row():
    table = pd.DataFrame(
        {
            "backend": ["mp", "rtm", "broken"],
            "status": ["ok", "ok", "failed"],
            "takeoff_frame": [259.0, 260.0, np.nan],
            "landing_frame": [277.0, 278.0, np.nan],
            "flight_time_s": [18 / FPS, 18 / FPS, np.nan],
            "jump_height_m": [0.4, 0.4, np.nan],
        }
    )
    cal = calibration.EventCalibration("rtm", takeoff_frames=1.0, landing_frames=-1.0, n_clips=3)
    out = calibration.apply(table, {"rtm": cal, "broken": cal}, FPS).set_index("backend")
    assert out.loc["rtm", "takeoff_frame"] == 261.0 and out.loc["rtm", "landing_frame"] == 277.0
    assert out.loc["rtm", "flight_time_s"] == pytest.approx(16 / FPS)
    assert out.loc["rtm", "jump_height_m"] == pytest.approx(9.81 * (16 / FPS) ** 2 / 8)
    assert out.loc["rtm", "takeoff_frame_uncalibrated"] == 260.0
    assert bool(out.loc["rtm", "calibration_applied"]) and "take-off +1" in out.loc["rtm", "calibration"]
    assert not out.loc["mp", "calibration_applied"] and out.loc["mp", "landing_frame"] == 277.0
    assert not out.loc["broken", "calibration_applied"]  # a failed row is never touched
    assert table.loc[1, "takeoff_frame"] == 260.0, "the input table is left as it was"
    assert not calibration.not_applied(table)["calibration_applied"].any()


def test_from_bias_is_the_opposite_shift_and_files_round_trip(tmp_path):
    cal = calibration.from_bias("rtm", takeoff_bias_frames=-1.2, landing_bias_frames=0.6, n_clips=12, fps=FPS)
    assert (cal.takeoff_frames, cal.landing_frames) == (1.0, -1.0)
    path = calibration.save({"rtm": cal}, tmp_path / "cal.json")
    assert calibration.load(path) == {"rtm": cal}
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError, match="not a calibration file"):
        calibration.load(tmp_path / "bad.json")
