"""Long clips are streamed: memory stays flat however long the clip, and caps are stated."""

from __future__ import annotations

import threading

import psutil
import pytest

import clipgen
from conftest import FakeBackend
from posebench import backends
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(180)

SECONDS = 60  # 1800 frames of 1080p: 11 GB if they were all held
FRAME_BYTES = 1920 * 1080 * 3
ALLOWED_GROWTH = 150 * 1024**2  # far below even 25 held frames plus the per-frame rows


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return clipgen.long_clip(tmp_path_factory.mktemp("long") / "long_1080p.mp4", SECONDS)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))


@pytest.mark.parametrize("background", [False, True])
def test_memory_stays_flat_on_a_long_1080p_clip(long_clip, fake, background):
    info = video.probe(long_clip)
    assert (info.width, info.height, info.frames) == (1920, 1080, SECONDS * 30)
    process = psutil.Process()
    samples = {}
    runaway = threading.Event()  # a leak stops the run instead of filling the machine

    def progress(label, done, total, elapsed):
        if done % 50 == 0:
            samples[done] = process.memory_info().rss
            if done > 100 and samples[done] - samples[100] > ALLOWED_GROWTH:
                runaway.set()

    run = run_benchmark(
        str(long_clip),
        ["mediapipe-lite"],
        RunOptions(warmup=0, background_decode=background),
        progress=progress,
        cancel=runaway,
    )
    assert not runaway.is_set(), f"memory grew past {ALLOWED_GROWTH / 1024**2:.0f} MB"
    assert run.summary["frames_processed"][0] == info.frames
    baseline = samples[100]  # decoder and buffers are warm by now
    growth = max(samples.values()) - baseline
    held = info.frames * FRAME_BYTES
    print(
        f"RSS growth over {info.frames} frames: {growth / 1024**2:.1f} MB "
        f"(holding every frame would take {held / 1024**3:.1f} GiB)"
    )
    assert growth < ALLOWED_GROWTH


def test_a_long_clip_can_be_capped_by_seconds(long_clip, fake):
    run = run_benchmark(str(long_clip), ["mediapipe-lite"], RunOptions(max_seconds=4, warmup=0))
    assert run.summary["frames_processed"][0] == 120
    assert "first 120 of 1800 frames" in run.summary["notes"][0]
    assert any("Only part of the clip" in n for n in run.extra["notices"])
