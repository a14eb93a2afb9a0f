"""The engine on the real models and the real clips (issue 2)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

import commands
from conftest import CMJ, LAB, RUNNING
from posebench import backends
from posebench.analysis import metrics
from posebench.core import schema
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.store import run_store
from posebench.store.run_record import RunOptions

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PAIR = ["mediapipe-lite", "rtmpose-lightweight"]


@pytest.fixture(scope="module")
def lab_run():
    """Both backends on the 60 fps lab clip, every frame (warm-up kept as rows)."""
    return run_benchmark(str(LAB), PAIR, RunOptions(max_frames=60, warmup=5))


@pytest.fixture(scope="module")
def cmj_run():
    """Both backends on the jump clip's still start, where the athlete stands in full view."""
    return run_benchmark(str(CMJ), PAIR, RunOptions(max_frames=40, warmup=5))


def test_decoded_frame_count_is_the_truth():
    info = video.probe(CMJ)
    assert info.frames == 330  # decoded frames, counted by decoding
    assert info.reported_frames == 355  # what the container's edit list claims
    assert info.edit_list_suspected
    assert sum(1 for _ in video.iter_frames(CMJ)) == 330


def test_portrait_clip_is_delivered_upright():
    info = video.probe(LAB)
    frame = next(video.iter_frames(LAB))
    assert (info.width, info.height) == (1080, 1920)
    assert frame.image.shape[:2] == (1920, 1080)


def test_downscale_and_stride():
    frames = list(video.iter_frames(LAB, max_frames=5, stride=3, max_side=480))
    assert [f.index for f in frames] == [0, 3, 6, 9, 12]
    assert max(frames[0].image.shape[:2]) == 480
    assert all(b.timestamp_ms > a.timestamp_ms for a, b in zip(frames, frames[1:]))


@pytest.mark.parametrize("run_name", ["lab_run", "cmj_run"])
def test_landmarks_fall_inside_the_person_box(run_name, request):
    """On single-person clips the 13 landmarks lie in the person's box on >= 90 % of frames.

    The box is each backend's own reported person box, grown by 10 % to allow
    for feet and nose at its edge.
    """
    run = request.getfixturevalue(run_name)
    for label in PAIR:
        mine = run.frames[(run.frames["backend"] == label) & run.frames["detected"]]
        assert len(mine) >= 0.9 * run.summary.set_index("backend").loc[label, "frames_processed"]
        _, lm = metrics.landmark_array(mine, label)
        box = mine[["box_x1", "box_y1", "box_x2", "box_y2"]].to_numpy()
        w, h = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
        x1, x2 = box[:, 0] - 0.1 * w, box[:, 2] + 0.1 * w
        y1, y2 = box[:, 1] - 0.1 * h, box[:, 3] + 0.1 * h
        x, y = lm[..., 0], lm[..., 1]
        inside = (x >= x1[:, None]) & (x <= x2[:, None]) & (y >= y1[:, None]) & (y <= y2[:, None])
        present = np.isfinite(x)
        per_frame = (inside | ~present).all(axis=1)
        assert per_frame.mean() >= 0.9, f"{label}: {per_frame.mean():.2f}"


@pytest.mark.parametrize("run_name", ["lab_run", "cmj_run"])
def test_backends_agree_on_the_hips(run_name, request):
    """MediaPipe's and RTMPose's hips agree within a tenth of the torso on most frames."""
    run = request.getfixturevalue(run_name)
    dist = metrics.normalised_distances(run.frames, *PAIR)
    hips = dist[["left_hip", "right_hip"]].dropna()
    assert len(hips) >= 30
    assert (hips <= 0.1).all(axis=1).mean() > 0.5


def test_summary_and_frames_tables(lab_run):
    s = lab_run.summary.set_index("backend")
    for col in ("frames", "fps", "latency_ms_p50", "latency_ms_p95", "init_ms", "detection_rate"):
        assert col in s.columns
    assert (s["status"] == "ok").all()
    assert (s["frames"] == 55).all() and (s["frames_processed"] == 60).all()
    assert (s["fps"] > 0).all() and (s["latency_ms_p95"] >= s["latency_ms_p50"]).all()
    # VIDEO-mode MediaPipe tracks; rtmlib's default runs YOLOX on every frame.
    assert s.loc["rtmpose-lightweight", "detector_rate"] == 1.0
    assert s.loc["mediapipe-lite", "detector_rate"] < 0.2
    f = lab_run.frames
    assert set(schema.landmark_columns()) <= set(f.columns)
    # RTMPose's stage times add up to about its model time.
    r = f[f["backend"] == "rtmpose-lightweight"]
    stages = r[["preprocess_ms", "detect_ms", "pose_ms", "postprocess_ms"]].sum(axis=1)
    assert ((stages <= r["model_ms"] + 0.5) & (stages >= 0.8 * r["model_ms"])).mean() > 0.9


def test_native_keypoints_kept(lab_run):
    mp = lab_run.native["mediapipe-lite"]["keypoints"]
    rtm = lab_run.native["rtmpose-lightweight"]["keypoints"]
    assert mp.shape == (60, 33, 2) and rtm.shape == (60, 26, 2)
    # The schema's foot_index is Halpe-26's big toe (index 20 = left).
    f = lab_run.frames[lab_run.frames["backend"] == "rtmpose-lightweight"].sort_values("frame")
    np.testing.assert_allclose(f["left_foot_index_x"].to_numpy(), rtm[:, 20, 0])


def test_model_cache_reuses_sessions():
    cache = backends.ModelCache()
    first = backends.create("rtmpose-lightweight", cache)
    second = backends.create("rtmpose-lightweight", cache)
    assert not first.init_cached and second.init_cached
    assert second.init_ms < first.cold_init_ms
    # Per-run state is not shared: the second backend starts with no carried box.
    frame = next(video.iter_frames(RUNNING, max_frames=1)).image
    first.process(frame, 0)
    assert second._carried is None


def test_save_and_load_round_trip(lab_run, tmp_path):
    path = run_store.save(lab_run, tmp_path)
    back = run_store.load(path)
    pd.testing.assert_frame_equal(back.summary[["backend", "frames"]], lab_run.summary[["backend", "frames"]])
    assert len(back.frames) == len(lab_run.frames)
    meta = json.loads((path / "run.json").read_text())
    assert meta["clip"]["frames"] == 100 and meta["environment"]["cores"]
    assert back.native["mediapipe-lite"]["keypoints"].shape == (60, 33, 2)


def _cli(*args, env=None):
    return commands.run([sys.executable, "-m", "posebench", *args], timeout=300, env=env)


def test_cli_run_contract(tmp_path):
    out = _cli(
        "run",
        str(RUNNING),
        "-b",
        "mediapipe-lite",
        "-b",
        "rtmpose-lightweight",
        "--frames",
        "12",
        "--warmup",
        "0",
        "--out",
        str(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "fps" in out.stdout
    (run_folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    frames = pd.read_csv(run_folder / "frames.csv")
    summary = pd.read_csv(run_folder / "summary.csv")
    assert len(frames) == 24  # every decoded frame is a row with --warmup 0
    for col in (
        "backend",
        "frame",
        "latency_ms",
        "detected",
        "left_heel_x",
        "left_heel_y",
        "left_heel_score",
        "right_foot_index_x",
    ):
        assert col in frames.columns
    assert {
        "backend",
        "frames",
        "fps",
        "latency_ms_p50",
        "latency_ms_p95",
        "init_ms",
        "detection_rate",
    } <= set(summary.columns)
    assert list(summary["frames"]) == [12, 12]


def test_cli_backends_lists_reasons():
    out = _cli("backends")
    assert out.returncode == 0
    assert "ok  mediapipe-lite" in out.stdout
    assert "pose_landmarker_heavy.task is not here" in out.stdout
