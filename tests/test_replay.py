"""Jump metrics of a run from the landmarks it recorded: no second pose pass."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.analysis import jump_metrics
from posebench.core.keypoints import LANDMARKS, visibility
from posebench.engine.runner import run_benchmark
from posebench.store import run_store, sidecars
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)


def _fake_run(monkeypatch, options=None):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    return run_benchmark(str(RUNNING), ["mediapipe-lite"], options or RunOptions(warmup=0))


def test_the_replay_hands_kinemotion_exactly_the_recorded_landmarks(monkeypatch, tmp_path):
    run = _fake_run(monkeypatch)
    saved = run_store.load(run_store.save(run, tmp_path))

    def no_backend(*args, **kwargs):
        raise AssertionError("the jump metrics of a run must not start a backend")

    monkeypatch.setattr(backends, "create", no_backend)
    seen = []
    real = jump_metrics.ReplayTracker.process_frame

    def spy(self, frame, timestamp_ms=0):
        out = real(self, frame, timestamp_ms)
        seen.append(out)
        return out

    monkeypatch.setattr(jump_metrics.ReplayTracker, "process_frame", spy)
    table = jump_metrics.from_run(saved)
    assert table["frames_read"].iloc[0] == run.clip.frames == 47
    assert len(seen) == 47
    frames = pd.read_csv(tmp_path / run.run_id / "frames.csv")  # the saved table, read back raw
    w, h = run.clip.width, run.clip.height
    for i, given in enumerate(seen):
        row = frames[frames["frame"] == i].iloc[0]
        for name in LANDMARKS:
            x, y, vis = given[name]
            assert x == row[f"{name}_x"] / w and y == row[f"{name}_y"] / h
            # the score on MediaPipe's visibility scale (the fake backend is Halpe-26, RTMPose's set)
            assert vis == pytest.approx(float(visibility(row[f"{name}_score"], "halpe26")))
    assert seen[0]["nose"][2] == pytest.approx(1.0), "a 0.9 SimCC score is a MediaPipe 1.0"
    raw = jump_metrics.from_run(saved, score_scale="raw")
    assert raw["score_scale"].iloc[0] == "raw" and table["score_scale"].iloc[0] == "calibrated"
    assert not table["calibration_applied"].any() and not raw["calibration_applied"].any()


def test_a_replay_that_does_not_fit_the_clip_fails_loudly():
    landmarks = np.full((3, len(LANDMARKS), 3), 0.5)
    tracker = jump_metrics.ReplayTracker(landmarks, (100, 200), list(LANDMARKS), label="x")
    with pytest.raises(jump_metrics.ReplayMismatch, match="200x100 frame"):
        tracker.process_frame(np.zeros((100, 200, 3), np.uint8))
    frame = np.zeros((200, 100, 3), np.uint8)
    assert tracker.process_frame(frame)["nose"] == (0.005, 0.0025, 0.5)
    with pytest.raises(jump_metrics.ReplayMismatch, match="read 1 frames where x recorded 3"):
        tracker.finish()
    tracker.process_frame(frame)
    tracker.process_frame(frame)
    tracker.finish()
    with pytest.raises(jump_metrics.ReplayMismatch, match="more frames than the 3"):
        tracker.process_frame(frame)


def test_a_capped_run_gives_a_failed_jump_row_with_the_reason(monkeypatch):
    run = _fake_run(monkeypatch, RunOptions(max_frames=20, warmup=0))
    table = jump_metrics.from_run(run)
    assert table["status"].iloc[0] == "failed"
    assert "recorded 20 of the clip's 47 frames" in table["error"].iloc[0]


def test_frames_of_nobody_reach_kinemotion_as_no_pose(monkeypatch):
    run = _fake_run(monkeypatch)
    run.frames.loc[run.frames["frame"] < 5, "detected"] = False
    tracker = jump_metrics.replay_for(run, "mediapipe-lite")
    frame = np.zeros((run.clip.height, run.clip.width, 3), np.uint8)
    assert [tracker.process_frame(frame) is None for _ in range(6)] == [True] * 5 + [False]


@pytest.mark.integration
def test_a_saved_cli_run_carries_its_jump_metrics(tmp_path, capsys):
    from posebench import cli

    args = ["run", str(RUNNING), "-b", "mediapipe-lite", "--warmup", "0", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "jump (mediapipe-lite):" in out
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    run = run_store.load(folder)
    assert "jump" not in run.extra and "jump" not in json.loads((folder / "run.json").read_text())
    kept = sidecars.load_jump_table(run, tmp_path)  # jump.csv: the one place it is kept
    assert list(kept["backend"]) == ["mediapipe-lite"] and kept["frames_read"].iloc[0] == 47
    again = jump_metrics.from_run(run)  # the same frames table gives the same numbers
    for col in ("status", "takeoff_frame", "landing_frame", "flight_time_s", "detection_rate"):
        a, b = kept[col].iloc[0], again[col].iloc[0]
        assert a == b or (pd.isna(a) and pd.isna(b)), col
