"""The sentences a user reads about a file say what is really wrong with it."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest

from conftest import RUNNING
from posebench.core.errors import InputError
from posebench.io import uploads, video

pytestmark = pytest.mark.timeout(120)


def test_a_valid_av1_clip_is_not_called_damaged(tmp_path):
    path = tmp_path / "phone.mp4"
    # SVT-AV1, run as root, puts the encoding thread on SCHED_FIFO: put it back afterwards
    # (conftest.ordinary_scheduling fails a test that forgets)
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        _write_av1(path)
    finally:
        os.sched_setscheduler(0, policy, param)
    try:
        info = video.probe(path)
    except InputError as exc:  # OpenCV's FFmpeg here has no software AV1 decoder
        text = str(exc)
        assert "is not damaged, but its video is coded in AV1" in text and "cannot decode" in text
        assert "truncated" not in text
    else:  # a build that decodes AV1 simply reads it
        assert info.frames == 6


def _write_av1(path) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libsvtav1", rate=30)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.full((96, 128, 3), i * 30, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_an_undecodable_avi_is_called_an_avi_video(tmp_path):
    path = tmp_path / "old.avi"
    path.write_bytes(b"RIFF" + (4000).to_bytes(4, "little") + b"AVI LIST" + bytes(4000))
    with pytest.raises(InputError) as caught:
        video.probe(path)
    text = str(caught.value)
    assert "RIFF" not in text and "not a video" not in text and "AVI" in text


def test_a_fifo_is_not_called_empty(tmp_path):
    path = tmp_path / "pipe.mp4"
    os.mkfifo(path)
    with pytest.raises(InputError, match="not a regular file") as caught:
        video.probe(path)
    assert "empty" not in str(caught.value)


def test_a_frame_just_above_the_pixel_limit_gives_two_different_numbers():
    info = video.probe(RUNNING)
    limit = info.width * info.height - 1
    with pytest.raises(InputError) as caught:
        uploads.judge(info, "clip.mp4", pixel_limit=limit)
    text = str(caught.value)
    assert f"{info.width * info.height:,} pixels" in text and f"{limit:,} pixels" in text
