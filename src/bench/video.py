"""Video input: probe a clip, then stream its frames.

The decoded frame count is the truth: phone clips with an edit list make
``CAP_PROP_FRAME_COUNT`` report more frames than decode, so ``probe`` counts
by decoding. OpenCV's FFmpeg backend applies the rotation metadata of phone
clips (``CAP_PROP_ORIENTATION_AUTO``), and sizes are reported as displayed.
Frames are streamed, never all held, unless ``preload`` is asked for.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


@dataclass(frozen=True)
class ClipInfo:
    path: str
    name: str
    width: int            # as displayed, after rotation
    height: int
    fps: float            # average frame rate from the container
    frames: int           # decoded frames (the truth)
    reported_frames: int  # what the container claims (CAP_PROP_FRAME_COUNT)
    duration_s: float     # frames / fps
    rotation: int         # degrees of rotation metadata (0, 90, 180, 270)
    codec: str
    bytes: int

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def edit_list_suspected(self) -> bool:
        return self.reported_frames > self.frames


@dataclass
class Frame:
    index: int            # 0-based index among decoded frames
    timestamp_ms: int     # strictly increasing, from index and fps
    image: np.ndarray     # BGR, displayed orientation, after optional downscale
    decode_ms: float      # time spent decoding (and scaling) this frame


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a video file")
    if p.stat().st_size == 0:
        raise InputError(f"{p.name} is empty (0 bytes)")
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{p.name} is not a video OpenCV can read "
                         "(not a video, an unsupported codec, or a damaged file)")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else "unknown"


_PROBE_CACHE: dict[tuple[str, int, float], ClipInfo] = {}
_PROBE_LOCK = threading.Lock()


def probe(path: str | os.PathLike, max_frames: int | None = None) -> ClipInfo:
    """Open a clip, decode it once to count its frames, and describe it.

    ``max_frames`` stops the count early (for a quick look at long clips); the
    reported ``frames`` is then at most that many. Raises ``InputError`` with
    one sentence when the file is not a usable video.
    """
    p = Path(path)
    key = (str(p.resolve()) if p.exists() else str(p),
           p.stat().st_size if p.exists() else -1,
           p.stat().st_mtime if p.exists() else -1.0)
    with _PROBE_LOCK:
        cached = _PROBE_CACHE.get(key)
    if cached is not None and max_frames is None:
        return cached
    cap = _open(p)
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        reported = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        codec = _fourcc(cap)
        ok, first = cap.read()
        if not ok or first is None or first.size == 0:
            raise InputError(f"{p.name} has no video frame that can be decoded "
                             "(audio only, truncated or damaged)")
        height, width = first.shape[:2]
        count = 1
        while max_frames is None or count < max_frames:
            if not cap.grab():
                break
            count += 1
    finally:
        cap.release()
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = 30.0  # containers without a rate: assume 30 fps and say so via codec info
    info = ClipInfo(
        path=str(p), name=p.name, width=int(width), height=int(height), fps=fps,
        frames=count, reported_frames=reported, duration_s=count / fps,
        rotation=rotation, codec=codec, bytes=p.stat().st_size,
    )
    if max_frames is None:
        with _PROBE_LOCK:
            _PROBE_CACHE[key] = info
    return info


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Size after downscaling so the longer side is at most ``max_side``."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    ratio = max_side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def iter_frames(path: str | os.PathLike, *, max_frames: int | None = None, stride: int = 1,
                max_side: int | None = None, fps: float | None = None) -> Iterator[Frame]:
    """Decode frames one at a time (``stride`` keeps every n-th frame).

    ``max_side`` downscales so the longer side is at most that many pixels.
    Timestamps are derived from the decoded index and ``fps`` so they are
    strictly increasing, as MediaPipe's VIDEO mode needs.
    """
    if stride < 1:
        raise InputError("frame stride must be 1 or more")
    cap = _open(path)
    try:
        rate = fps or float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        index = -1
        yielded = 0
        last_ts = -1
        while max_frames is None or yielded < max_frames:
            start = time.perf_counter()
            index += 1
            if index % stride:
                if not cap.grab():
                    break
                continue
            ok, image = cap.read()
            if not ok or image is None:
                break
            h, w = image.shape[:2]
            size = scaled_size(w, h, max_side)
            if size != (w, h):
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            decode_ms = (time.perf_counter() - start) * 1000.0
            ts = max(int(round(index * 1000.0 / rate)), last_ts + 1)
            last_ts = ts
            yielded += 1
            yield Frame(index=index, timestamp_ms=ts, image=image, decode_ms=decode_ms)
    finally:
        cap.release()


class BackgroundFrames:
    """Decode in a background thread so decoding overlaps inference.

    A bounded queue (``depth`` frames) keeps memory bounded: at most
    ``depth + 2`` decoded frames exist at once. Use as an iterator; ``close``
    stops the thread early.
    """

    _END = object()

    def __init__(self, frames: Iterator[Frame], depth: int = 4):
        self._frames = frames
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="posebench-decode", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            for frame in self._frames:
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, not lost
            self._error = exc
        finally:
            close = getattr(self._frames, "close", None)
            if close:
                close()
            while not self._stop.is_set():
                try:
                    self._queue.put(self._END, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def __iter__(self) -> Iterator[Frame]:
        while True:
            wait = time.perf_counter()
            item = self._queue.get()
            if item is self._END:
                if self._error is not None:
                    raise self._error
                return
            # What the consumer waited for is what decoding cost it.
            item.decode_ms = (time.perf_counter() - wait) * 1000.0
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def read_frame(path: str | os.PathLike, index: int, max_side: int | None = None) -> np.ndarray:
    """Decode one frame by its decoded index (seeks by decoding, so it is exact)."""
    for frame in iter_frames(path, max_frames=index + 1, max_side=max_side):
        if frame.index == index:
            return frame.image
    raise InputError(f"frame {index} is past the end of the clip")
