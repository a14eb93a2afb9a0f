"""The fair runner: every backend on the same frames, one tidy table out.

Backends run one after another (never at once, so they do not share the CPU),
each on the same decoded frames. The first ``warmup`` frames of each backend
are processed and kept for accuracy, but left out of the speed figures
(flag ``warmup`` in the per-frame table).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psutil

from posebench import backends
from posebench.backends import BackendConfig, ModelCache, PoseResult
from posebench.core import environment, schema
from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARKS, NATIVE_COUNT
from posebench.engine.summary import summarise
from posebench.io import video

PRELOAD_LIMIT_BYTES = 2 * 1024**3  # model-only mode refuses to hold more decoded frames
ROW_CHUNK = 500  # per-frame rows are packed into a table every this many


@dataclass
class RunOptions:
    max_frames: int | None = None  # frames of the clip to process (from the start)
    max_seconds: float | None = None  # or: seconds of the clip to process
    warmup: int = 10  # first frames left out of the speed figures
    stride: int = 1  # keep every n-th decoded frame
    max_side: int | None = None  # downscale so the longer side is at most this
    preload: bool = False  # model-only: decode all frames before timing
    background_decode: bool = False  # decode in a thread, overlapping inference

    def frame_cap(self, fps: float) -> int | None:
        caps = [
            c
            for c in (self.max_frames, max(1, round(self.max_seconds * fps)) if self.max_seconds else None)
            if c
        ]
        return min(caps) if caps else None

    def frames_to_process(self, clip: video.ClipInfo) -> int:
        """Frames each backend processes: every ``stride``-th of the capped start of the clip."""
        cap = self.frame_cap(clip.fps)
        prefix = min(cap, clip.frames) if cap else clip.frames
        return -(-prefix // max(1, self.stride))

    def check(self) -> None:
        """Refuse settings that make no sense, in one sentence."""
        rules = (
            (self.max_frames is not None and self.max_frames < 1, "frames must be 1 or more"),
            (self.max_seconds is not None and not self.max_seconds > 0, "seconds must be more than 0"),
            (self.warmup < 0, "warm-up frames cannot be negative"),
            (self.stride < 1, "frame stride must be 1 or more"),
            (
                self.max_side is not None and self.max_side < 32,
                "the downscale side must be at least 32 pixels",
            ),
        )
        for broken, sentence in rules:
            if broken:
                raise BenchError(sentence)


@dataclass
class BenchmarkRun:
    run_id: str
    clip: video.ClipInfo
    options: RunOptions
    configs: list[BackendConfig]
    frames: pd.DataFrame
    summary: pd.DataFrame
    native: dict[str, dict[str, np.ndarray]]  # backend -> {"keypoints", "scores"}
    environment: dict
    started: str
    finished: str = ""
    status: str = "complete"  # complete | cancelled | failed
    extra: dict = field(default_factory=dict)  # e.g. scorecard thresholds saved with the run

    @property
    def overlapped(self) -> int:
        """Other benchmark runs in this process at the same time (the summary's one place for it,
        ``overlapped_runs``); 0 when the summary has none."""
        if not len(self.summary) or "overlapped_runs" not in self.summary.columns:
            return 0
        values = pd.to_numeric(self.summary["overlapped_runs"], errors="coerce").dropna()
        return int(values.max()) if len(values) else 0

    @overlapped.setter
    def overlapped(self, value: int) -> None:
        if len(self.summary):
            self.summary["overlapped_runs"] = int(value)

    def meta(self) -> dict:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "clip": self.clip.as_dict(),
            "options": asdict(self.options),
            "backends": [
                {
                    "label": c.display,
                    "spec": c.spec(),
                    "preset": c.preset,
                    "family": c.family,
                    "settings": c.settings(),
                }
                for c in self.configs
            ],
            "environment": self.environment,
            **self.extra,
        }


def new_run_id() -> str:
    """Sortable by time; 40 random bits make two ids alike in one second all but impossible."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:10]


# -- overlapping runs ----------------------------------------------------------
_ACTIVE = 0
_ACTIVE_LOCK = threading.Lock()
_PEAK: dict[str, int] = {}


class _ActiveRun:
    """Counts runs in this process; records the most that ran alongside this one."""

    def __init__(self, run_id: str):
        self.run_id = run_id

    def __enter__(self):
        global _ACTIVE
        with _ACTIVE_LOCK:
            _ACTIVE += 1
            for key in _PEAK:
                _PEAK[key] = max(_PEAK[key], _ACTIVE - 1)
            _PEAK[self.run_id] = _ACTIVE - 1
        return self

    def overlapped(self) -> int:
        with _ACTIVE_LOCK:
            return _PEAK.get(self.run_id, 0)

    def __exit__(self, *exc):
        global _ACTIVE
        with _ACTIVE_LOCK:
            _ACTIVE -= 1
            _PEAK.pop(self.run_id, None)


# -- per-frame rows ---------------------------------------------------------------
class _Rows:
    """Per-frame rows, packed into a table every ``ROW_CHUNK`` rows.

    A row as a dict costs about 6 KB, packed about 0.5 KB, so a long clip's
    table grows by about 0.5 KB per frame and backend instead of 6 KB.
    """

    def __init__(self) -> None:
        self._open: list[dict] = []
        self._packed: list[pd.DataFrame] = []

    def append(self, row: dict) -> None:
        self._open.append(row)
        if len(self._open) >= ROW_CHUNK:
            self._packed.append(pd.DataFrame(self._open))
            self._open = []

    def table(self) -> pd.DataFrame:
        parts = self._packed + ([pd.DataFrame(self._open)] if self._open else [])
        if not parts:
            return pd.DataFrame()
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


# -- notices ----------------------------------------------------------------------
def _cap_note(clip: video.ClipInfo, options: RunOptions) -> str:
    """How much of the clip a run covers, or "" when it covers all of it."""
    cap = options.frame_cap(clip.fps)
    parts = []
    if cap is not None and cap < clip.frames:
        given = ", ".join(
            f"{k}={v}"
            for k, v in (("max_frames", options.max_frames), ("max_seconds", options.max_seconds))
            if v
        )
        parts.append(
            f"capped to the first {cap} of {clip.frames} frames "
            f"({cap / clip.fps:.1f} of {clip.duration_s:.1f} s; {given})"
        )
    if options.stride > 1:
        parts.append(f"1 frame in {options.stride} kept")
    return "; ".join(parts)


def _run_notices(
    clip: video.ClipInfo, options: RunOptions, outcomes: list[dict], overlapped: int
) -> list[str]:
    """Sentences a reviewer must read with the numbers (saved in run.json)."""
    notices = list(video.clip_notices(clip))
    cap = _cap_note(clip, options)
    if cap:
        notices.append(f"Only part of the clip was processed: {cap}.")
    w, h = video.scaled_size(clip.width, clip.height, options.max_side)
    if (w, h) != (clip.width, clip.height):
        notices.append(
            f"Frames were downscaled from {clip.width}x{clip.height} to {w}x{h} for "
            f"the models; keypoints are given in the original pixels."
        )
    for outcome in outcomes:
        if outcome.get("no_person"):
            notices.append(
                f"{outcome['label']} found no person in any of the "
                f"{outcome['frames_done']} frames (detection rate 0): check that the "
                f"clip shows a person."
            )
    if overlapped:
        notices.append(
            f"{overlapped} other benchmark run{'s' if overlapped > 1 else ''} ran in "
            f"this process at the same time, so these timings are not comparable "
            f"with runs made alone."
        )
    return notices


# -- frames ----------------------------------------------------------------------
def _frame_source(
    clip: video.ClipInfo, options: RunOptions, preloaded: list[video.Frame] | None
) -> Iterable[video.Frame]:
    if preloaded is not None:
        for f in preloaded:
            yield video.Frame(f.index, f.timestamp_ms, f.image, 0.0)
        return
    frames = video.iter_frames(
        clip.path,
        max_frames=options.frames_to_process(clip),
        stride=options.stride,
        max_side=options.max_side,
        fps=clip.fps,
    )
    if options.background_decode:
        source = video.BackgroundFrames(frames)
        try:
            yield from source
        finally:
            source.close()
    else:
        yield from frames


def preload_frames(clip: video.ClipInfo, options: RunOptions) -> list[video.Frame]:
    """Decode the frames a run will process, for model-only timing (memory-capped)."""
    count = options.frames_to_process(clip)
    w, h = video.scaled_size(clip.width, clip.height, options.max_side)
    need = count * w * h * 3
    if need > PRELOAD_LIMIT_BYTES:
        raise BenchError(
            f"model-only mode would hold {need / 1024**3:.1f} GB of frames; "
            f"cap the frames, downscale, or turn model-only mode off"
        )
    return list(
        video.iter_frames(
            clip.path, max_frames=count, stride=options.stride, max_side=options.max_side, fps=clip.fps
        )
    )


def _record(
    backend_label: str,
    preset: str,
    frame: video.Frame,
    result: PoseResult | None,
    model_ms: float,
    warmup: bool,
    scale: np.ndarray,
) -> dict:
    """One per-frame row; ``scale`` (x, y) maps the frame the model saw to the original."""
    row = {  # the frames table: columns as in schema.FRAME_COLUMNS
        "backend": backend_label,
        "preset": preset,
        "frame": frame.index,
        "timestamp_ms": frame.timestamp_ms,
        "warmup": warmup,
        "detected": bool(result is not None and result.detected),
        "detector_ran": bool(result.detector_ran) if result is not None else False,
        "people": result.people if result is not None else 0,
        "latency_ms": frame.decode_ms + model_ms,
        "model_ms": model_ms,
        "decode_ms": frame.decode_ms,
    }
    stages = result.stage_ms if result is not None else {}
    for name in schema.BACKEND_STAGES:
        row[schema.stage_column(name)] = stages.get(name, np.nan)
    runs = result.model_runs if result is not None else {}
    row["detector_runs"] = runs.get("detector", 0)
    row["pose_runs"] = runs.get("pose", 0)
    box = result.box if result is not None and result.box is not None else [np.nan] * 4
    for name, value, factor in zip(schema.BOX_COLUMNS, box, (*scale, *scale)):
        row[name] = float(value) * factor
    lm = result.landmarks() if result is not None else np.full((len(LANDMARKS), 3), np.nan)
    for i, name in enumerate(LANDMARKS):
        row[schema.landmark_column(name, "x")] = lm[i, 0] * scale[0]
        row[schema.landmark_column(name, "y")] = lm[i, 1] * scale[1]
        row[schema.landmark_column(name, "score")] = lm[i, 2]
    return row


ProgressFn = Callable[[str, int, int, float], None]


def run_benchmark(
    clip_path: str,
    configs: Sequence[BackendConfig | str],
    options: RunOptions | None = None,
    *,
    cache: ModelCache | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    run_id: str | None = None,
    preloaded: list[video.Frame] | None = None,
) -> BenchmarkRun:
    """Run every configuration on the clip; return the tidy tables.

    ``progress(label, done, total, elapsed_s)`` is called after each frame.
    Setting ``cancel`` stops after the current frame; what was measured is
    kept and the run is marked cancelled. A backend that fails (cannot load,
    or raises mid-run) is marked failed and the others still run.
    """
    options = options or RunOptions()
    options.check()
    parsed = backends.as_configs(configs)
    if not parsed:
        raise BenchError("choose at least one backend")
    labels = [c.display for c in parsed]
    if len(set(labels)) != len(labels):
        raise BenchError("two backends have the same label; give them different labels")
    clip = video.probe(clip_path)
    total = options.frames_to_process(clip)
    scaled_w, scaled_h = video.scaled_size(clip.width, clip.height, options.max_side)
    scale = np.array([clip.width / scaled_w, clip.height / scaled_h])  # back to original pixels
    run_id = run_id or new_run_id()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if options.preload and preloaded is None:  # callers repeating runs pass the frames once
        preloaded = preload_frames(clip, options)
    rows = _Rows()
    native: dict[str, dict[str, np.ndarray]] = {}
    outcomes: list[dict] = []
    status = "complete"
    process = psutil.Process()
    with _ActiveRun(run_id) as active:
        for config in parsed:
            if cancel is not None and cancel.is_set():
                status = "cancelled"
                outcomes.append(
                    {
                        "label": config.display,
                        "status": "cancelled",
                        "error": "not run: the run was cancelled",
                    }
                )
                continue
            outcome: dict[str, Any] = {"label": config.display, "status": "ok", "error": ""}
            outcomes.append(outcome)
            try:
                backend = backends.create(config, cache)
            except BenchError as exc:
                outcome.update(status="failed", error=str(exc))
                continue
            outcome.update(
                init_ms=backend.init_ms,
                init_cached=backend.init_cached,
                cold_init_ms=backend.cold_init_ms,
                model_files=backend.model_files,
            )
            kpts: list[np.ndarray] = []
            scores: list[np.ndarray] = []
            native_count = NATIVE_COUNT[backend.keypoint_set]
            peak_rss = process.memory_info().rss
            t_start = time.perf_counter()
            done = 0
            try:
                for frame in _frame_source(clip, options, preloaded):
                    if cancel is not None and cancel.is_set():
                        status = outcome["status"] = "cancelled"
                        outcome["error"] = f"cancelled after {done} frames"
                        break
                    t0 = time.perf_counter()
                    result = backend.process(frame.image, frame.timestamp_ms)
                    model_ms = (time.perf_counter() - t0) * 1000.0
                    rows.append(
                        _record(
                            config.display,
                            config.preset,
                            frame,
                            result,
                            model_ms,
                            done < options.warmup,
                            scale,
                        )
                    )
                    if result.detected and result.keypoints is not None:
                        kpts.append(result.keypoints[:, :2] * scale)
                        found = result.scores
                        scores.append(
                            found if found is not None else np.full((len(result.keypoints),), np.nan)
                        )
                    else:
                        kpts.append(np.full((native_count, 2), np.nan))
                        scores.append(np.full((native_count,), np.nan))
                    done += 1
                    if done % 10 == 0:
                        peak_rss = max(peak_rss, process.memory_info().rss)
                    if progress is not None:
                        progress(config.display, done, total, time.perf_counter() - t_start)
            except BenchError as exc:
                outcome.update(status="failed", error=str(exc))
            except Exception as exc:  # a backend that raises mid-run fails alone
                outcome.update(status="failed", error=f"failed at frame {done}: {type(exc).__name__}: {exc}")
            finally:
                backend.close()
            outcome["peak_rss_mb"] = max(peak_rss, process.memory_info().rss) / 1024**2
            outcome["frames_done"] = done
            outcome["no_person"] = done > 0 and not any(np.isfinite(k).any() for k in kpts)
            outcome["notes"] = "; ".join(
                n
                for n in (
                    _cap_note(clip, options),
                    f"no person found in any of {done} frames" if outcome["no_person"] else "",
                )
                if n
            )
            if kpts:
                native[config.display] = {
                    "keypoints": np.stack(kpts),
                    "scores": np.stack(scores),
                    "keypoint_set": np.array(backend.keypoint_set),
                }
        overlapped = active.overlapped()
    frames = rows.table()
    summary = summarise(frames, parsed, outcomes, clip, options, overlapped)
    if all(o["status"] == "failed" for o in outcomes):
        status = "failed"
    return BenchmarkRun(
        run_id=run_id,
        clip=clip,
        options=options,
        configs=parsed,
        frames=frames,
        summary=summary,
        native=native,
        environment=environment.describe(),
        started=started,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        status=status,
        extra={"notices": _run_notices(clip, options, outcomes, overlapped)},
    )


__all__ = ["RunOptions", "BenchmarkRun", "run_benchmark", "new_run_id"]
