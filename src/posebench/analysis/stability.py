"""Stability: frame-to-frame jitter and confidence, from the per-frame table.

Jitter is the motion a backend reports that the athlete did not make. Each
landmark's velocity, acceleration and jerk are finite differences of its
position, divided by the backend's median torso length on the clip (so
numbers are in torso lengths per second, per s², per s³ and compare across
camera distances) and scaled by the frame rate. On still phases the true
motion is about zero, so what is measured there is jitter; that is the
number to compare. Still phases are found once, from the baseline's hip
mid-point, so every backend is judged on the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from posebench.analysis.metrics import backends_in, landmark_array
from posebench.core.keypoints import LANDMARKS, torso_length
from posebench.engine import selection

# The three derivatives, their order and unit.
DERIVATIVES: tuple[tuple[str, int, str], ...] = (
    ("velocity", 1, "torso lengths/s"),
    ("acceleration", 2, "torso lengths/s²"),
    ("jerk", 3, "torso lengths/s³"),
)


@dataclass(frozen=True)
class StillRule:
    """A frame is still when the hip mid-point moved less than ``max_speed`` torso lengths
    per second, measured over a ``window_s`` window, within a still stretch of at least
    ``min_duration_s``."""

    max_speed: float = 0.25  # torso lengths per second
    window_s: float = 0.5  # seconds the hip displacement is measured over
    min_duration_s: float = 0.5  # shortest still stretch kept

    def describe(self) -> str:
        return (
            f"hip mid-point speed below {self.max_speed:g} torso lengths/s over "
            f"{self.window_s:g} s windows, in stretches of at least {self.min_duration_s:g} s"
        )


JITTER_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The backend."),
    "landmark": ("", "One of the 13 jump landmarks, or 'all' pooled."),
    "phase": (
        "",
        "'still': frames where the athlete stands still (true motion about zero); 'all': every frame.",
    ),
    "frames": ("frames", "Frames the derivative could be computed on."),
    **{
        f"{name}_median": (unit, f"Median size of the landmark's {name}.")
        for name, _order, unit in DERIVATIVES
    },
    **{
        f"{name}_p95": (unit, f"95th percentile size of the landmark's {name}.")
        for name, _order, unit in DERIVATIVES
    },
}


def step_and_grid(frame_index: np.ndarray) -> tuple[int, np.ndarray]:
    """The frame step (stride) and the full grid of frame numbers from first to last."""
    if len(frame_index) < 2:
        return 1, frame_index
    step = int(np.min(np.diff(np.sort(frame_index)))) or 1
    return step, np.arange(frame_index.min(), frame_index.max() + 1, step)


def normalised_positions(frames: pd.DataFrame, backend: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(frame grid, (T, 13, 2) positions in torso lengths, frame step); gaps are NaN.

    Positions are divided by the backend's median torso length on the clip,
    not frame by frame, so torso jitter does not leak into every landmark.
    """
    index, arr = landmark_array(frames, backend)
    step, grid = step_and_grid(index)
    full = np.full((len(grid), len(LANDMARKS), 2), np.nan)
    full[np.searchsorted(grid, index)] = arr[..., :2]
    torso = torso_length(full)
    scale = np.nanmedian(torso) if np.isfinite(torso).any() else np.nan
    if not np.isfinite(scale) or scale <= 1e-6:
        scale = np.nan
    return grid, full / scale, step


def derivatives(positions: np.ndarray, fps: float, step: int = 1) -> dict[str, np.ndarray]:
    """Velocity, acceleration, jerk magnitudes (T', 13) from (T, 13, 2) positions.

    Finite differences over consecutive frames; a difference touching a
    missing frame is NaN. Row i of the n-th derivative belongs to frame i + n.
    """
    dt = step / fps
    out = {}
    diff = positions
    for name, order, _unit in DERIVATIVES:
        diff = np.diff(diff, axis=0) / dt
        mag = np.linalg.norm(diff, axis=-1)
        out[name] = np.concatenate([np.full((order, mag.shape[1]), np.nan), mag])
    return out


def still_mask(frames: pd.DataFrame, reference: str, fps: float, rule: StillRule = StillRule()) -> pd.Series:
    """Per frame of the reference backend: True where the athlete stands still."""
    grid, pos, step = normalised_positions(frames, reference)
    idx = {name: i for i, name in enumerate(LANDMARKS)}
    hip = (pos[:, idx["left_hip"]] + pos[:, idx["right_hip"]]) / 2
    half = max(1, int(round(rule.window_s * fps / step / 2)))
    speed = np.full(len(grid), np.nan)
    for i in range(len(grid)):
        lo, hi = max(0, i - half), min(len(grid) - 1, i + half)
        if hi > lo and np.isfinite(hip[lo]).all() and np.isfinite(hip[hi]).all():
            speed[i] = np.linalg.norm(hip[hi] - hip[lo]) / ((hi - lo) * step / fps)
    still = np.nan_to_num(speed, nan=np.inf) < rule.max_speed
    min_len = max(1, int(round(rule.min_duration_s * fps / step)))
    still = _drop_short_runs(still, min_len)
    return pd.Series(still, index=pd.Index(grid, name="frame"), name="still")


def _drop_short_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    out = mask.copy()
    start = None
    for i, value in enumerate([*mask, False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            if i - start < min_len:
                out[start:i] = False
            start = None
    return out


def _stats(values: np.ndarray) -> tuple[float, float, int]:
    values = values[np.isfinite(values)]
    if not len(values):
        return np.nan, np.nan, 0
    return float(np.median(values)), float(np.percentile(values, 95)), int(len(values))


def _reference_still(
    frames: pd.DataFrame, fps: float, labels: list[str], reference: str | None, rule: StillRule
) -> pd.Series:
    """The still mask of ``reference``, or of the first backend when it is not in the table."""
    return still_mask(frames, selection.baseline_or_first(reference, labels), fps, rule)


def jitter_table(
    frames: pd.DataFrame, fps: float, reference: str | None = None, rule: StillRule = StillRule()
) -> pd.DataFrame:
    """Tidy jitter: one row per backend, landmark (13 and 'all') and phase ('still', 'all')."""
    labels = backends_in(frames)
    if not labels:
        return pd.DataFrame(columns=list(JITTER_COLUMNS))
    return _jitter_rows(frames, fps, labels, _reference_still(frames, fps, labels, reference, rule))


def _jitter_rows(frames: pd.DataFrame, fps: float, labels: list[str], still: pd.Series) -> pd.DataFrame:
    rows = []
    for label in labels:
        grid, pos, step = normalised_positions(frames, label)
        ders = derivatives(pos, fps, step)
        is_still = still.reindex(grid, fill_value=False).to_numpy()
        for phase, mask in (("still", is_still), ("all", np.ones(len(grid), bool))):
            for li, name in enumerate([*LANDMARKS, "all"]):
                row: dict[str, Any] = {"backend": label, "landmark": name, "phase": phase}
                for dname, _order, _unit in DERIVATIVES:
                    data = ders[dname][mask]
                    values = data.ravel() if name == "all" else data[:, li]
                    med, p95, n = _stats(values)
                    row[f"{dname}_median"], row[f"{dname}_p95"] = med, p95
                    row["frames"] = n if dname == "velocity" else row["frames"]
                rows.append(row)
    return pd.DataFrame(rows, columns=list(JITTER_COLUMNS))


def jitter_overview(
    frames: pd.DataFrame, fps: float, reference: str | None = None, rule: StillRule = StillRule()
) -> pd.DataFrame:
    """Per backend: still frames and the pooled jitter there (and on all frames)."""
    labels = backends_in(frames)
    if not labels:
        return pd.DataFrame()
    still = _reference_still(frames, fps, labels, reference, rule)
    table = _jitter_rows(frames, fps, labels, still)
    pooled = table[table["landmark"] == "all"]
    rows = []
    for label in labels:
        mine = pooled[pooled["backend"] == label].set_index("phase")
        row: dict[str, Any] = {"backend": label}
        for phase in ("still", "all"):
            for name, _o, _u in DERIVATIVES:
                row[f"{name}_median_{phase}"] = (
                    mine.loc[phase, f"{name}_median"] if phase in mine.index else np.nan
                )
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(1, "still_frames", int(still.sum()))
    return out


CONFIDENCE_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The backend."),
    "landmark": ("", "One of the 13 jump landmarks, or 'all' pooled."),
    "frames": ("frames", "Frames where the backend reported the landmark."),
    "mean": (
        "score",
        "Mean confidence score (MediaPipe: visibility; RTMPose: keypoint score). "
        "The two scales are not calibrated against each other.",
    ),
    "p10": ("score", "10th percentile: 1 in 10 frames scored lower."),
    "median": ("score", "Median confidence score."),
    "below_0.5": ("share", "Share of frames with a score under 0.5."),
}


def confidence_table(frames: pd.DataFrame) -> pd.DataFrame:
    """Confidence-score distribution per backend and landmark (and 'all')."""
    rows = []
    for label in backends_in(frames):
        _index, arr = landmark_array(frames, label)
        scores = arr[..., 2]
        for li, name in enumerate([*LANDMARKS, "all"]):
            values = scores.ravel() if name == "all" else scores[:, li]
            values = values[np.isfinite(values)]
            rows.append(
                {
                    "backend": label,
                    "landmark": name,
                    "frames": int(len(values)),
                    "mean": float(values.mean()) if len(values) else np.nan,
                    "p10": float(np.percentile(values, 10)) if len(values) else np.nan,
                    "median": float(np.median(values)) if len(values) else np.nan,
                    "below_0.5": float(np.mean(values < 0.5)) if len(values) else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(CONFIDENCE_COLUMNS))


def confidence_long(frames: pd.DataFrame) -> pd.DataFrame:
    """Every (backend, landmark, score) as rows, for a histogram."""
    parts = []
    for label in backends_in(frames):
        index, arr = landmark_array(frames, label)
        df = pd.DataFrame(arr[..., 2], columns=list(LANDMARKS))
        df["frame"] = index
        long = df.melt(id_vars="frame", var_name="landmark", value_name="score").dropna()
        long.insert(0, "backend", label)
        parts.append(long)
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["backend", "frame", "landmark", "score"])
    )


def confidence_histogram(frames: pd.DataFrame, step: float = 0.05) -> pd.DataFrame:
    """Per backend: share of landmark positions per confidence bin (bins of ``step``).

    Columns: backend, bin_start, bin_end, positions, share (0-1 of that backend's positions).
    """
    long = confidence_long(frames)
    rows = []
    if not len(long):
        return pd.DataFrame(columns=["backend", "bin_start", "bin_end", "positions", "share"])
    top = max(1.0, float(np.ceil(long["score"].max() / step) * step))
    edges = np.round(np.arange(0.0, top + step / 2, step), 6)
    for label, group in long.groupby("backend", sort=False):
        counts, _ = np.histogram(group["score"].clip(lower=0), bins=edges)
        for lo, hi, n in zip(edges[:-1], edges[1:], counts):
            rows.append(
                {
                    "backend": label,
                    "bin_start": lo,
                    "bin_end": hi,
                    "positions": int(n),
                    "share": n / len(group),
                }
            )
    return pd.DataFrame(rows)
