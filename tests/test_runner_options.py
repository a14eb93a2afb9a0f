"""Frame caps, stride and downscaling: what a run covers and where its coordinates land."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import BOXFLIP, LAB, RUNNING, FakeBackend
from posebench import backends
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))


def test_a_frame_cap_with_a_stride_counts_frames_of_the_clip(fake):
    """--frames 20 --stride 3 covers the clip's first 20 frames: 7 of them processed."""
    seen = []
    run = run_benchmark(
        str(BOXFLIP),
        ["mediapipe-lite"],
        RunOptions(max_frames=20, stride=3, warmup=0),
        progress=lambda label, done, total, elapsed: seen.append(total),
    )
    assert run.frames["frame"].tolist() == [0, 3, 6, 9, 12, 15, 18]
    assert set(seen) == {7}
    assert any("first 20 of 230 frames" in n and "1 frame in 3" in n for n in run.extra["notices"])


def test_downscaled_coordinates_map_back_to_the_original_pixels_on_both_axes(fake):
    """The lab clip is 1080x1920; at max_side=1000 the x and y factors differ (1.9217 / 1.92)."""
    run = run_benchmark(str(LAB), ["mediapipe-lite"], RunOptions(max_frames=1, warmup=0, max_side=1000))
    row = run.frames.iloc[0]
    # FakeBackend puts the nose at (0.3 w, 0.1 h) and the box at (0.3 w, 0.1 h, 0.7 w, 0.9 h).
    assert row["nose_x"] == pytest.approx(0.3 * 1080, abs=1e-6)
    assert row["nose_y"] == pytest.approx(0.1 * 1920, abs=1e-6)
    assert row["box_y2"] == pytest.approx(0.9 * 1920, abs=1e-6)
    native = run.native["mediapipe-lite"]["keypoints"][0]
    assert native[-1, 1] == pytest.approx(0.9 * 1920, abs=1e-6)


def test_skipped_frames_decoding_counts_toward_the_kept_frames():
    """With a stride, decode_ms holds the skipped frames' decoding too (else FPS is inflated)."""
    start = time.perf_counter()
    frames = list(video.iter_frames(LAB, max_frames=20, stride=4))
    wall_ms = (time.perf_counter() - start) * 1000
    decoded_ms = sum(f.decode_ms for f in frames)
    assert decoded_ms / wall_ms > 0.8  # before the fix about 1/4 of the time went missing


def test_a_run_covers_every_kept_frame_to_the_end_of_a_short_clip(fake):
    run = run_benchmark(str(RUNNING), ["mediapipe-lite"], RunOptions(stride=5, warmup=0))
    assert run.frames["frame"].tolist() == list(range(0, 47, 5))
    assert np.all(np.diff(run.frames["timestamp_ms"]) > 0)
