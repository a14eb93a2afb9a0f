"""The video reader: decoded counts, orientation, frame rate, streaming, clean refusals."""

from __future__ import annotations

import numpy as np
import pytest

import clipgen
from conftest import CMJ, LAB, RUNNING
from posebench.core.errors import InputError
from posebench.io import video

pytestmark = pytest.mark.timeout(120)


def test_probe_counts_decoded_frames_and_flags_the_edit_list():
    info = video.probe(CMJ)
    assert (info.width, info.height, info.frames) == (1080, 1920, 330)
    assert info.reported_frames == 355 and info.edit_list_suspected
    assert any("edit list" in n and "330" in n for n in video.clip_notices(info))


@pytest.mark.parametrize("clip", [CMJ, LAB, RUNNING])
def test_real_clips_have_a_regular_frame_rate(clip):
    info = video.probe(clip)
    assert not info.variable_rate
    assert info.interval_ms_min == pytest.approx(1000 / info.fps, rel=0.02)


def test_container_facts_count_frames_without_decoding():
    """The index less the edit-list discards matches the decoded count."""
    for clip, decoded in ((CMJ, 330), (LAB, 100), (RUNNING, 47)):
        assert video.container_facts(clip).indexed_frames == decoded


@pytest.mark.parametrize("rotation", [90, -90])
def test_rotated_clip_is_delivered_upright(tmp_path, rotation):
    path = clipgen.rotated_clip(tmp_path / "phone.mp4", rotation=rotation)
    info = video.probe(path)
    assert (info.width, info.height) == (240, 320)  # stored 320x240, displayed portrait
    assert info.rotation == (-rotation) % 360
    frame = next(video.iter_frames(path)).image
    assert frame.shape[:2] == (320, 240)
    red = np.argwhere((frame[:, :, 2] > 200) & (frame[:, :, 0] < 60)).mean(axis=0)
    # The red square sits top-left in the stored frame; turning the picture
    # 90° counter-clockwise moves it bottom-left, clockwise top-right.
    expected = (300, 20) if rotation == 90 else (20, 220)
    assert np.allclose(red, expected, atol=25), red
    assert any("rotation metadata" in n for n in video.clip_notices(info))


def test_variable_frame_rate_is_detected_and_timestamps_still_increase(tmp_path):
    path = clipgen.vfr_clip(tmp_path / "vfr.mp4")
    info = video.probe(path)
    assert info.variable_rate
    assert info.interval_ms_min == pytest.approx(10, abs=1)
    assert info.interval_ms_max == pytest.approx(160, abs=1)
    assert any("variable frame rate" in n for n in video.clip_notices(info))
    stamps = [f.timestamp_ms for f in video.iter_frames(path, fps=info.fps)]
    assert len(stamps) == 20 and all(b > a for a, b in zip(stamps, stamps[1:]))


def test_iter_frames_stride_downscale_and_cap():
    frames = list(video.iter_frames(LAB, max_frames=5, stride=3, max_side=640))
    assert [f.index for f in frames] == [0, 3, 6, 9, 12]
    assert all(f.image.shape[:2] == (640, 360) for f in frames)
    assert video.scaled_size(1080, 1920, 640) == (360, 640)
    with pytest.raises(InputError):
        next(video.iter_frames(RUNNING, stride=0))


def test_background_frames_match_and_stop_early():
    direct = [f.image for f in video.iter_frames(RUNNING, max_frames=12)]
    source = video.BackgroundFrames(video.iter_frames(RUNNING, max_frames=12), depth=2)
    threaded = [f.image for f in source]
    source.close()
    assert len(threaded) == 12 and all(np.array_equal(a, b) for a, b in zip(direct, threaded))
    early = video.BackgroundFrames(video.iter_frames(RUNNING), depth=2)
    next(iter(early))
    early.close()
    assert not early._thread.is_alive()


def test_read_frame_is_exact_and_past_the_end_is_refused():
    assert np.array_equal(
        video.read_frame(RUNNING, 5), list(video.iter_frames(RUNNING, max_frames=6))[5].image
    )
    with pytest.raises(InputError, match="past the end"):
        video.read_frame(RUNNING, 47)


def _bad(tmp_path, kind):
    """Each bad input and the words its one sentence must contain."""
    makers = {
        "missing": (lambda p: p, "no such file"),
        "folder": (lambda p: (p.mkdir(), p)[1], "folder"),
        "empty": (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        "text": (clipgen.text_renamed, "text file"),
        "png": (clipgen.png_renamed, "PNG image"),
        "audio": (clipgen.audio_only_clip, "audio only"),
        "zero_frames": (clipgen.zero_frame_clip, "no video frames"),
        "truncated": (lambda p: clipgen.truncated_copy(RUNNING, p), "cut short"),
        "header_only": (lambda p: clipgen.truncated_copy(RUNNING, p, keep=0.02), "cut short"),
        "zeros": (lambda p: (p.write_bytes(bytes(5000)), p)[1], "not a video"),
    }
    make, words = makers[kind]
    return make(tmp_path / f"{kind}.mp4"), words


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "folder",
        "empty",
        "text",
        "png",
        "audio",
        "zero_frames",
        "truncated",
        "header_only",
        "zeros",
    ],
)
def test_bad_files_are_refused_in_one_sentence(tmp_path, kind):
    path, words = _bad(tmp_path, kind)
    with pytest.raises(InputError) as err:
        video.probe(path)
    sentence = str(err.value)
    assert words in sentence and "\n" not in sentence
    if kind in ("missing", "folder", "empty", "text", "audio", "zeros"):
        with pytest.raises(InputError):  # the reader alone refuses what FFmpeg cannot open
            list(video.iter_frames(path))


def test_one_frame_clip_probes_as_one_frame(tmp_path):
    assert video.probe(clipgen.single_frame_clip(tmp_path / "one.mp4")).frames == 1


def test_uhd_clip_reports_its_size(tmp_path):
    info = video.probe(clipgen.sized_clip(tmp_path / "uhd.mp4", 3840, 2160, frames=2))
    assert (info.width, info.height, info.frames) == (3840, 2160, 2)
    frame = next(video.iter_frames(info.path, max_side=1920)).image
    assert frame.shape[:2] == (1080, 1920)


def test_probe_cache_remember_and_forget(tmp_path):
    path = clipgen.blank_wall_clip(tmp_path / "wall.mp4", frames=3)
    info = video.probe(path)
    from dataclasses import replace

    video.remember(replace(info, name="label.mp4"))
    assert video.probe(path).name == "label.mp4"
    video.forget(path)
    assert video.probe(path).name == "wall.mp4"
