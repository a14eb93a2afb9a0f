"""Synthetic test clips written with PyAV (no ffmpeg binary needed), for bad-input tests.

Every helper writes into a folder the test gives (``tmp_path``) and returns
the path. Frames are BGR ``numpy`` arrays; H.264 through PyAV's bundled x264.
"""

from __future__ import annotations

import fractions
from collections.abc import Iterable
from pathlib import Path

import av
import cv2
import numpy as np

FAST = {"preset": "ultrafast", "tune": "zerolatency"}  # no B-frames: packets can be looped


def write_clip(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int = 30,
    *,
    rotation: int | None = None,
    pts_ms: list[int] | None = None,
    options: dict | None = None,
) -> Path:
    """Encode ``frames`` as H.264 mp4; ``pts_ms`` gives irregular timestamps (VFR)."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = dict(options or FAST)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if pts_ms is not None:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], fractions.Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def wall(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A blank, slightly textured wall: no person anywhere."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width, 3), (170, 180, 190), np.uint8)
    noise = rng.integers(-6, 7, (height, width, 1))
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def marked(width: int = 320, height: int = 240) -> np.ndarray:
    """Grey frame with a red square in the top-left corner, to check orientation."""
    image = np.full((height, width, 3), 128, np.uint8)
    image[: height // 6, : width // 6] = (0, 0, 255)
    return image


def blank_wall_clip(path: Path, frames: int = 20) -> Path:
    return write_clip(path, [wall(seed=i) for i in range(frames)])


def single_frame_clip(path: Path) -> Path:
    return write_clip(path, [marked()])


def zero_frame_clip(path: Path) -> Path:
    """An mp4 with a video track that holds no frame."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        container.start_encoding()
    return path


def rotated_clip(path: Path, rotation: int = 90, frames: int = 10) -> Path:
    """Stored 320x240 landscape with display-matrix rotation (a phone held upright)."""
    return write_clip(path, [marked()] * frames, rotation=rotation)


def vfr_clip(path: Path) -> Path:
    """20 frames at irregular timestamps (10 to 160 ms apart)."""
    pts = [0, 33, 66, 150, 170, 300, 310, 320, 400, 500, 520, 540, 700, 710, 720, 800, 900, 910, 1000, 1100]
    return write_clip(path, [marked()] * len(pts), pts_ms=pts)


def sized_clip(path: Path, width: int, height: int, frames: int = 3) -> Path:
    """A smooth gradient clip of any size (small file even at 4K/8K)."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    image = np.dstack(
        [
            np.broadcast_to(x, (height, width)),
            np.broadcast_to(y, (height, width)),
            np.full((height, width), 90, np.float32),
        ]
    ).astype(np.uint8)
    return write_clip(path, [image] * frames)


def audio_only_clip(path: Path, seconds: float = 0.5) -> Path:
    """An m4a-style file (AAC in mp4) with no video track."""
    rate = 44100
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        for i in range(int(seconds * rate / 1024)):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def png_renamed(path: Path) -> Path:
    _ok, data = cv2.imencode(".png", marked())
    path.write_bytes(data.tobytes())
    return path


def text_renamed(path: Path) -> Path:
    path.write_text("This is a note, not a video.\n" * 20, encoding="utf-8")
    return path


def truncated_copy(source: Path, path: Path, keep: float = 0.5) -> Path:
    data = Path(source).read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def long_clip(path: Path, seconds: float, fps: int = 30, size: tuple[int, int] = (1920, 1080)) -> Path:
    """A long clip made fast: one encoded second, its packets looped with shifted times.

    The content is a gradient with a moving bar, so frames really decode.
    """
    width, height = size
    base = []
    for i in range(fps):
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)
        x = int(i / fps * (width - 100))
        image[height // 3 : 2 * height // 3, x : x + 100] = (40, 200, 240)
        base.append(image)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {**FAST, "g": str(fps), "crf": "35"}
        packets = []
        for image in base:
            packets += stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24"))
        packets += stream.encode()
        step = len(packets) * (packets[1].pts - packets[0].pts)  # one second of packets
        for loop in range(int(np.ceil(seconds))):
            for packet in packets:
                copy = av.Packet(bytes(packet))
                copy.stream = stream
                copy.pts = packet.pts + loop * step
                copy.dts = packet.dts + loop * step
                copy.duration = packet.duration
                copy.time_base = packet.time_base
                if packet.is_keyframe:
                    copy.is_keyframe = True
                container.mux(copy)
    return path


def with_empty_tail(source: Path, path: Path, blank_frames: int, fps: int = 30) -> Path:
    """``source``'s frames, then ``blank_frames`` frames of an empty wall of the same size: the
    athlete walks out of the picture and nobody is left in view."""
    capture = cv2.VideoCapture(str(source))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    h, w = frames[0].shape[:2]
    frames += [wall(w, h, seed=i) for i in range(blank_frames)]
    return write_clip(path, frames, fps)
