"""A simulated camera: can a backend keep up with frames arriving at a camera's rate?

A producer releases the clip's frames at their capture times (frame ``k`` at ``k / fps``
seconds after the start); the backend, whenever it is free, takes the **newest** frame
released so far and every older frame still waiting is dropped, as a live app does. Per
processed frame we keep when it was released, when the backend started and when its
landmarks were ready.

The producer needs no thread of its own: with one waiting slot and "newest wins", which
frame the backend gets is decided by the clock alone (the newest frame released by the time
it asks), so ``simulate`` reads a clock it is given. ``RealClock`` is the wall clock (the
measurement); ``FakeClock`` lets tests (and ``sustained_fps``) run the very same loop in
simulated time, deterministically.

``stream_job`` runs one backend's streams in a worker process (``engine.worker.WorkerCall``):
the frames are decoded first (a camera delivers decoded frames), the models are warmed up on
a throwaway instance, and each (camera rate, round) gets a fresh backend, alone on the
machine. Each stream is bracketed by two readings of processor time (``engine.foreign_cpu``):
the share other work took while it ran (``foreign_cpu_pct``, % of one core) is recorded with it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from posebench import backends
from posebench.backends import BackendConfig, ModelCache
from posebench.core.errors import BenchError
from posebench.engine import foreign_cpu, machine
from posebench.io import video

WARMUP_FRAMES = 5  # frames a throwaway instance processes before the camera starts
DROP_BAR_PCT = 1.0  # "keeps up": fewer than this share of the offered frames dropped
SUSTAINED_MIN_FRAMES = 300  # offered frames when the sustained rate is derived by replay
MAX_CAMERA_FPS = 1000.0


class Clock(Protocol):
    """Seconds, from any origin."""

    def now(self) -> float: ...

    def sleep_until(self, t: float) -> None: ...


class RealClock:
    """The wall clock (``time.perf_counter``)."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, t: float) -> None:
        delay = t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


class FakeClock:
    """Simulated time: ``sleep_until`` jumps, ``advance`` is work that takes time."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def sleep_until(self, t: float) -> None:
        self.t = max(self.t, float(t))

    def advance(self, seconds: float) -> None:
        self.t += float(seconds)


@dataclass
class Served:
    """One frame the backend processed."""

    frame: int  # index of the frame in the clip
    release_s: float  # when the camera released it (from the stream's start)
    start_s: float  # when the backend took it
    end_s: float  # when its landmarks were ready
    result: Any = None  # what the backend returned

    @property
    def latency_ms(self) -> float:
        """Release to landmarks: how old the skeleton is when it appears."""
        return (self.end_s - self.release_s) * 1000.0

    @property
    def service_ms(self) -> float:
        """The backend's own time on the frame."""
        return (self.end_s - self.start_s) * 1000.0


@dataclass
class Stream:
    """One backend on one camera stream."""

    fps: float
    offered: int
    served: list[Served] = field(default_factory=list)
    cancelled: bool = False

    @property
    def processed_frames(self) -> list[int]:
        return [s.frame for s in self.served]

    @property
    def dropped_frames(self) -> list[int]:
        done = set(self.processed_frames)
        last = self.served[-1].frame if self.served else -1
        return [k for k in range(last + 1) if k not in done]


def simulate(
    count: int,
    fps: float,
    process: Callable[[int], Any],
    clock: Clock,
    cancel: threading.Event | None = None,
) -> Stream:
    """Release ``count`` frames at ``fps``; ``process(k)`` handles frame ``k`` whenever the
    backend is free, always the newest one released (older waiting ones are dropped)."""
    if not fps > 0 or not math.isfinite(fps):
        raise BenchError("the camera rate must be a positive number of frames per second")
    period = 1.0 / fps
    stream = Stream(fps=float(fps), offered=int(count))
    t0 = clock.now()
    last = -1
    while last < count - 1:
        if cancel is not None and cancel.is_set():
            stream.cancelled = True
            break
        now = clock.now() - t0
        newest = min(count - 1, int(math.floor(now * fps + 1e-9)))
        if newest <= last:  # nothing new yet: wait for the next release
            clock.sleep_until(t0 + (last + 1) * period)
            continue
        start = clock.now() - t0
        result = process(newest)
        end = clock.now() - t0
        stream.served.append(Served(newest, newest * period, start, end, result))
        last = newest
    return stream


def longest_run(dropped: Sequence[int]) -> int:
    """The longest run of consecutive frame indices in ``dropped``."""
    best = run = 0
    previous = None
    for k in sorted(dropped):
        run = run + 1 if previous is not None and k == previous + 1 else 1
        best = max(best, run)
        previous = k
    return best


def sustained_fps(service_ms: Sequence[float], offered: int = 0, drop_bar_pct: float = DROP_BAR_PCT) -> float:
    """The highest camera rate at which these per-frame service times drop fewer than
    ``drop_bar_pct`` % of the frames: the same loop replayed in simulated time, frame ``j`` the
    backend takes costing the ``j``-th service time (cycling), over at least
    ``SUSTAINED_MIN_FRAMES`` offered frames. NaN without service times."""
    times = [float(t) for t in service_ms if np.isfinite(t) and t > 0]
    if not times:
        return float("nan")
    count = max(int(offered), SUSTAINED_MIN_FRAMES)

    def drop_pct(fps: float) -> float:
        clock = FakeClock()
        taken = [0]

        def work(_k: int) -> None:
            clock.advance(times[taken[0] % len(times)] / 1000.0)
            taken[0] += 1

        stream = simulate(count, fps, work, clock)
        return 100.0 * (count - len(stream.served)) / count

    lo = 1000.0 / max(times)  # every frame done before the next one: no drop
    hi = min(MAX_CAMERA_FPS, 1000.0 / min(times) * 1.01)
    if drop_pct(hi) < drop_bar_pct:
        return hi
    for _ in range(40):
        mid = (lo + hi) / 2
        if drop_pct(mid) < drop_bar_pct:
            lo = mid
        else:
            hi = mid
        if hi - lo < 0.01:
            break
    return lo


def stream_stats(streams: Sequence[Stream]) -> dict[str, float]:
    """The realtime table's measured columns of one backend at one rate, rounds pooled
    (``schema.REALTIME_COLUMNS``)."""
    offered = sum(s.offered for s in streams)
    processed = sum(len(s.served) for s in streams)
    latency = np.array([x.latency_ms for s in streams for x in s.served], dtype=float)
    service = [x.service_ms for s in streams for x in s.served]
    seconds = sum(s.offered / s.fps for s in streams)

    def pct(q: float) -> float:
        return float(np.percentile(latency, q)) if len(latency) else float("nan")

    return {
        "frames_offered": offered,
        "frames_processed": processed,
        "frames_dropped": offered - processed,
        "drop_pct": 100.0 * (offered - processed) / offered if offered else float("nan"),
        "longest_drop_run": max((longest_run(s.dropped_frames) for s in streams), default=0),
        "latency_ms_p50": pct(50),
        "latency_ms_p95": pct(95),
        "latency_ms_p99": pct(99),
        "service_ms_mean": float(np.mean(service)) if service else float("nan"),
        "processed_fps": processed / seconds if seconds else float("nan"),
        "sustained_fps": sustained_fps(service, max((s.offered for s in streams), default=0)),
    }


# -- one backend's streams, in a worker process -----------------------------------------
def _frame_row(config, frame: video.Frame, result, service_ms: float, scale) -> dict:
    from posebench.engine.runner import _record

    label, preset = getattr(config, "display", "backend"), getattr(config, "preset", "")
    return _record(label, preset, frame, result, service_ms, False, scale)


def run_streams(
    config: BackendConfig | None,
    frames: Sequence[video.Frame],
    rates: Sequence[float],
    rounds: int,
    scale,
    *,
    clock: Clock | None = None,
    cache: ModelCache | None = None,
    make: Callable[[], Any] | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: threading.Event | None = None,
    cpu: Callable[[], foreign_cpu.Reading] | None = None,
) -> list[dict]:
    """One backend on every camera rate, ``rounds`` times each: per (rate, round) the stream's
    timings, the machine's load around it, the processor time other work took while it was
    streamed (``foreign_cpu_pct``, % of one core, and ``steal_cpu_pct``; ``cpu`` reads the
    processor times, ``engine.foreign_cpu.read`` of this process by default) and (round 1) the
    processed frames' rows."""
    clock = clock or RealClock()
    cpu = cpu or foreign_cpu.read
    cache = cache if cache is not None else ModelCache()
    if make is None and config is None:
        raise BenchError("a stream needs a backend configuration")
    build = make or (lambda: backends.create(config, cache))  # type: ignore[arg-type]
    label = getattr(config, "display", "backend")
    warm = build()
    try:
        for frame in frames[:WARMUP_FRAMES]:
            warm.process(frame.image, frame.timestamp_ms)
    finally:
        warm.close()
    out: list[dict] = []
    steps = max(1, len(rates) * rounds)
    for r_index, fps in enumerate(rates):
        for rnd in range(1, rounds + 1):
            if cancel is not None and cancel.is_set():
                return out
            if progress is not None:
                progress((r_index * rounds + rnd - 1) / steps, f"{label} at {fps:g} fps, round {rnd}")
            backend = build()
            load_start = machine.load_1min()
            try:

                def work(k: int, backend=backend, fps=fps) -> Any:
                    return backend.process(frames[k].image, int(round(k * 1000.0 / fps)))

                mark = cpu()
                stream = simulate(len(frames), fps, work, clock, cancel)
                window = foreign_cpu.between(mark, cpu())  # outside the timed frames
            finally:
                backend.close()
            rows = []
            if rnd == 1:
                for served in stream.served:
                    frame = frames[served.frame]
                    at = video.Frame(frame.index, int(round(served.frame * 1000.0 / fps)), frame.image, 0.0)
                    rows.append(_frame_row(config, at, served.result, served.service_ms, scale))
            for served in stream.served:
                served.result = None  # results are not sent back; their rows are
            out.append(
                {
                    "fps": float(fps),
                    "round": rnd,
                    "stream": stream,
                    "rows": rows,
                    "load_1min_start": load_start,
                    "load_1min_end": machine.load_1min(),
                    "foreign_cpu_pct": window["foreign_cpu_pct"],
                    "steal_cpu_pct": window["steal_cpu_pct"],
                    "cpu_window": window,
                }
            )
    return out


def stream_job(
    clip_path: str,
    config: BackendConfig,
    rates: list[float],
    rounds: int,
    max_frames: int | None,
    max_side: int | None,
    run_id: str,
    progress=None,
    cancel=None,
) -> dict:
    """``WorkerCall`` target: decode the frames, then ``run_streams`` in this process."""
    clip = video.probe(clip_path)
    count = min(max_frames, clip.frames) if max_frames else clip.frames
    frames = list(video.iter_frames(clip.path, max_frames=count, max_side=max_side, fps=clip.fps))
    if not frames:
        raise BenchError(f"no frames could be read from {clip.name}")
    w, h = frames[0].image.shape[1], frames[0].image.shape[0]
    scale = np.array([clip.width / w, clip.height / h])
    with machine.RunEntry(run_id, "realtime") as entry:
        streams = run_streams(config, frames, rates, rounds, scale, progress=progress, cancel=cancel)
    state = entry.state()
    return {"streams": streams, "machine": state, "frames": len(frames)}


__all__ = [
    "Clock",
    "RealClock",
    "FakeClock",
    "Served",
    "Stream",
    "simulate",
    "longest_run",
    "sustained_fps",
    "stream_stats",
    "run_streams",
    "stream_job",
    "DROP_BAR_PCT",
]
