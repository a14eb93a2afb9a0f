"""Skeleton drawing and the H.264 overlay video (real clip, fake and real backends)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from conftest import RUNNING
from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARKS
from posebench.io import video
from posebench.report import overlay
from posebench.store import run_record
from test_dashboard import fake_run

pytestmark = [pytest.mark.timeout(180)]


def colour_near(image: np.ndarray, xy, colour, radius: int = 3, tolerance: float = 60.0) -> bool:
    x, y = int(round(xy[0])), int(round(xy[1]))
    patch = image[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1]
    distance = np.linalg.norm(patch.astype(float) - np.array(colour, float), axis=-1)
    return bool((distance < tolerance).any())


def test_draw_skeleton_draws_present_landmarks_and_skips_missing_ones():
    image = np.zeros((200, 200, 3), np.uint8)
    lm = np.full((len(LANDMARKS), 3), np.nan)
    overlay.draw_skeleton(image, lm, (0, 0, 255))
    assert not image.any()  # nothing to draw: nothing drawn
    hip, knee = LANDMARKS.index("left_hip"), LANDMARKS.index("left_knee")
    lm[hip] = (50, 50, 0.9)
    lm[knee] = (50, 150, 0.9)
    overlay.draw_skeleton(image, lm, (0, 0, 255))
    assert tuple(image[100, 50]) == (0, 0, 255)  # the thigh between hip and knee
    assert not image[100, 150].any()  # nowhere else


def test_the_overlay_video_is_h264_yuv420p_faststart_with_every_processed_frame(tmp_path):
    run = fake_run(frames=12, warmup=2)
    labels = list(run.summary["backend"])
    out = overlay.write_overlay_video(str(RUNNING), run.frames, labels, tmp_path / "o.mp4", fps=run.clip.fps)
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # playable while it downloads
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == 12
    h, w = frames[0].shape[:2]
    assert (w, h) == (2 * 480, 352)  # two panels side by side, original size
    assert not list(tmp_path.glob("*.part.mp4"))


def test_each_panel_of_the_overlay_shows_its_backends_skeleton(tmp_path):
    run = fake_run(frames=3, warmup=0)
    labels = list(run.summary["backend"])
    out = overlay.write_overlay_video(str(RUNNING), run.frames, labels, tmp_path / "o.mp4")
    with av.open(str(out)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="bgr24")
    raw = video.read_frame(RUNNING, 0)
    table = {label: overlay.landmark_table(run.frames, label)[0] for label in labels}
    knee = LANDMARKS.index("left_knee")
    for i, label in enumerate(labels):
        x, y = table[label][knee, :2]
        panel_xy = (x + i * raw.shape[1], y)
        assert colour_near(first, panel_xy, overlay.colour_bgr(i)), label
        assert not colour_near(raw, (x, y), overlay.colour_bgr(i)), "the raw frame has no skeleton"


def test_long_clips_are_drawn_downscaled(tmp_path):
    scale, size = overlay.panel_scale(1080, 1920)
    assert size == (405, 720) and scale == pytest.approx(405 / 1080)
    wide = overlay.stack([np.zeros((720, 1280, 3), np.uint8)] * 3)
    assert wide.shape[1] == overlay.CANVAS_WIDTH and wide.shape[0] % 2 == 0


def test_no_frames_or_no_clip_is_one_sentence(tmp_path):
    run = fake_run(frames=3, warmup=0)
    with pytest.raises(BenchError, match="no processed frames"):
        overlay.write_overlay_video(str(RUNNING), run.frames.iloc[0:0], ["x"], tmp_path / "o.mp4")
    with pytest.raises(BenchError, match="not on this machine"):
        overlay.write_overlay_video(str(tmp_path / "gone.mp4"), run.frames, ["x"], tmp_path / "o.mp4")
    assert not list(tmp_path.glob("*.mp4"))


@pytest.mark.integration
def test_a_real_run_draws_real_skeletons(tmp_path):
    from posebench.engine import runner

    run = runner.run_benchmark(
        str(RUNNING), ["mediapipe-lite"], run_record.RunOptions(max_frames=5, warmup=0)
    )
    out = overlay.write_overlay_video(str(RUNNING), run.frames, ["mediapipe-lite"], tmp_path / "o.mp4")
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(frames) == 5
    lm = overlay.landmark_table(run.frames, "mediapipe-lite")[4]
    assert np.isfinite(lm[:, :2]).all()
    hits = sum(colour_near(frames[4], lm[i, :2], overlay.colour_bgr(0)) for i in range(len(LANDMARKS)))
    assert hits >= 10
