"""The Live page's engine: the webcam through streamlit-webrtc, skeletons on the live picture.

The browser sends its camera to this server over WebRTC with **no STUN or TURN server**
(``RTC_CONFIGURATION``): only host candidates, so it works on a machine with no internet,
browser and server on one machine or one local network. streamlit-webrtc hands the processor
every frame that arrived since its last call (``recv_queued``); the processor takes the newest
and the others are dropped, as a live app does, and ``LiveMeter`` counts them.

Nothing of the stream is kept unless the user presses record: then the raw frames (no
skeleton) are kept in memory, at most ``MAX_RECORD_S`` seconds, and saving them goes through
the same check and storage as an upload (``clip_input.save_upload``).
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from posebench import backends
from posebench.backends import BackendConfig
from posebench.report import overlay

RTC_CONFIGURATION: dict = {"iceServers": []}  # host candidates only: no public STUN/TURN
MAX_BACKENDS = 2
MAX_RECORD_S = 30.0
WINDOW_S = 3.0  # processed FPS over this many recent seconds
NO_CAMERA_HINT = (  # said before START: nothing has gone wrong yet
    "If no picture appears: allow camera access for this site (the camera icon in the address "
    "bar), check that a camera is connected and not in use by another program, then press START "
    "again."
)
NO_CAMERA = (
    "No camera picture: the browser gave this page no camera. Allow camera access for this "
    "site (the camera icon in the address bar), check that a camera is connected and not in "
    "use by another program, then press START again."
)


class LiveMeter:
    """Frames offered, processed and dropped, processed FPS and latency, for one stream.

    Latency is from a frame's capture time (its timestamp from the browser) to its landmarks,
    measured against the quickest frame: the browser's and server's clocks are not the same
    clock, so the fastest frame is taken as zero delay in transit.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.offered = 0
        self.processed = 0
        self._done_at: deque[float] = deque(maxlen=600)
        self._latency: deque[float] = deque(maxlen=300)
        self._service: deque[float] = deque(maxlen=300)
        self._offset: float | None = None  # min(server time - capture time) seen

    def arrived(self, count: int, capture_s: float | None, now: float) -> None:
        with self._lock:
            self.offered += int(count)
            if capture_s is not None:
                gap = now - capture_s
                self._offset = gap if self._offset is None else min(self._offset, gap)

    def done(self, capture_s: float | None, started: float, ended: float) -> None:
        with self._lock:
            self.processed += 1
            self._done_at.append(ended)
            self._service.append((ended - started) * 1000.0)
            if capture_s is not None and self._offset is not None:
                self._latency.append(max(0.0, (ended - capture_s - self._offset) * 1000.0))

    def snapshot(self, now: float | None = None) -> dict[str, float]:
        now = time.perf_counter() if now is None else now
        with self._lock:
            recent = [t for t in self._done_at if now - t <= WINDOW_S]
            span = (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
            dropped = self.offered - self.processed
            return {
                "offered": self.offered,
                "processed": self.processed,
                "dropped": dropped,
                "drop_pct": 100.0 * dropped / self.offered if self.offered else float("nan"),
                "fps": (len(recent) - 1) / span if span > 0 else float("nan"),
                "latency_ms_p50": float(np.median(self._latency)) if self._latency else float("nan"),
                "service_ms_mean": float(np.mean(self._service)) if self._service else float("nan"),
            }


class Recorder:
    """The raw frames while recording is on, at most ``MAX_RECORD_S`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.on = False
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []

    def start(self) -> None:
        with self._lock:
            self.on, self.frames, self.times = True, [], []

    def stop(self) -> tuple[list[np.ndarray], list[float]]:
        with self._lock:
            self.on = False
            frames, times = self.frames, self.times
            self.frames, self.times = [], []
            return frames, times

    def add(self, image: np.ndarray, at: float) -> None:
        with self._lock:
            if not self.on:
                return
            if self.times and at - self.times[0] > MAX_RECORD_S:
                self.on = False
                return
            self.frames.append(image.copy())
            self.times.append(at)


def encode(frames: Sequence[np.ndarray], times: Sequence[float]) -> bytes:
    """An MP4 of the recorded frames, at their mean rate (even sides)."""
    if not frames:
        return b""
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    fps = (len(frames) - 1) / span if span > 0 else 30.0
    h, w = frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2
    with tempfile.TemporaryDirectory(prefix="posebench-live-") as tmp:
        path = Path(tmp) / "live.mp4"
        with overlay.H264Writer(path, max(1.0, min(fps, 120.0))) as writer:
            for image in frames:
                writer.write(np.ascontiguousarray(image[:h, :w]))
        return path.read_bytes()


def as_upload(data: bytes, name: str = "live-recording.mp4") -> io.BytesIO:
    """The recording in the shape of an uploaded file (name, size, read)."""
    stream = io.BytesIO(data)
    stream.name = name  # type: ignore[attr-defined]
    stream.size = len(data)  # type: ignore[attr-defined]
    return stream


class LiveEngine:
    """One or two backends on the newest frame; their skeletons side by side."""

    def __init__(self, configs: Sequence[BackendConfig | str], create=None) -> None:
        parsed = backends.as_configs(configs)[:MAX_BACKENDS]
        make = create or backends.create
        self.labels = [c.display for c in parsed]
        self.backends = [make(c) for c in parsed]
        self.meter = LiveMeter()
        self.recorder = Recorder()
        self._pool = ThreadPoolExecutor(max_workers=len(self.backends)) if len(self.backends) > 1 else None
        self._last_ts = -1

    def _timestamp(self, capture_s: float | None) -> int:
        ts = int(round((capture_s or time.perf_counter()) * 1000.0))
        ts = max(ts, self._last_ts + 1)  # strictly increasing (MediaPipe VIDEO mode)
        self._last_ts = ts
        return ts

    def process(self, image: np.ndarray, capture_s: float | None, waiting: int = 1) -> np.ndarray:
        """The newest frame (``waiting`` frames arrived since the last call): its picture with
        each backend's skeleton."""
        now = time.perf_counter()
        self.meter.arrived(waiting, capture_s, now)
        self.recorder.add(image, now)
        ts = self._timestamp(capture_s)
        if self._pool is not None:
            found = list(self._pool.map(lambda b: b.process(image, ts), self.backends))
        else:
            found = [b.process(image, ts) for b in self.backends]
        self.meter.done(capture_s, now, time.perf_counter())
        panels = [
            overlay.panel(image, r.landmarks() if r.detected else None, label, i, 1.0)
            for i, (label, r) in enumerate(zip(self.labels, found))
        ]
        return panels[0] if len(panels) == 1 else overlay.stack(panels, max_width=2 * image.shape[1])

    def close(self) -> None:
        for backend in self.backends:
            backend.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False)


def processor_factory(configs: Sequence[BackendConfig | str], holder: dict):
    """A streamlit-webrtc video processor class running ``LiveEngine``; the engine it makes
    is put in ``holder["engine"]`` so the page can read its meter and recorder."""
    import av
    from streamlit_webrtc import VideoProcessorBase

    class LiveProcessor(VideoProcessorBase):
        def __init__(self) -> None:
            self.engine = LiveEngine(configs)
            holder["engine"] = self.engine

        async def recv_queued(self, frames):
            newest = frames[-1]
            image = newest.to_ndarray(format="bgr24")
            capture = float(newest.time) if newest.time is not None else None
            out = self.engine.process(image, capture, waiting=len(frames))
            frame = av.VideoFrame.from_ndarray(out, format="bgr24")
            frame.pts, frame.time_base = newest.pts, newest.time_base
            return [frame]

        def on_ended(self) -> None:
            self.engine.close()

    return LiveProcessor


__all__ = [
    "RTC_CONFIGURATION",
    "NO_CAMERA",
    "NO_CAMERA_HINT",
    "LiveMeter",
    "LiveEngine",
    "Recorder",
    "encode",
    "as_upload",
    "processor_factory",
]
