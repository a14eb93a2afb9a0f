"""Temporal offset: does one backend see the same movement later than another?

The jump app once shipped RTMPose and withdrew it because take-off came out
about two frames later than with MediaPipe. This finds such a lag from the
whole clip: the vertical trajectories of the hip mid-point and both ankles
(the signals take-off and landing are read from) of the two backends are
detrended, scaled to unit variance, turned into vertical velocities, and
cross-correlated over a range of lags; the lag with the highest correlation,
averaged over the three signals, wins. Frames where either backend lacks a
landmark are left out of each correlation, never filled in.

Sign: a positive lag means the candidate trails the baseline, i.e. what the
baseline shows at frame t the candidate shows at frame t + lag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from posebench.analysis.metrics import vertical_trajectories
from posebench.analysis.stability import step_and_grid

MAX_LAG = 10  # frames searched either way
SMOOTH_FRAMES = 3  # moving mean before differencing (see _prepare)
MAX_GAP = 3  # missing frames in a row filled by straight lines; longer gaps stay missing


@dataclass
class LagResult:
    baseline: str
    candidate: str
    lag_frames: int  # > 0: candidate trails the baseline
    lag_ms: float  # lag_frames at the clip's frame rate
    correlation: float  # mean velocity correlation over the signals at that lag (-1..1)
    per_signal: dict[str, int] = field(default_factory=dict)  # each signal's own best lag
    frames_used: int = 0

    def sentence(self) -> str:
        return lag_sentence(self.baseline, self.candidate, self.lag_frames, self.lag_ms, self.correlation)


def lag_sentence(baseline: str, candidate: str, lag: int, lag_ms: float, correlation: float = np.nan) -> str:
    """The lag in words, e.g. "rtmpose-lightweight trails mediapipe-lite by 2 frames (67 ms)"."""
    if not np.isfinite(correlation):
        return (
            f"No offset between {candidate} and {baseline} could be measured: too few frames "
            "where both found the hips and ankles, or no vertical movement beyond a steady "
            "drift to line up."
        )
    n = abs(lag)
    frames_word = "frame" if n == 1 else "frames"
    if lag == 0:
        text = f"{candidate} and {baseline} are in step (no lag of a whole frame)"
    elif lag > 0:
        text = (
            f"{candidate} trails {baseline} by {n} {frames_word} ({abs(lag_ms):.0f} ms): it "
            f"shows each movement {n} {frames_word} later"
        )
    else:
        text = (
            f"{candidate} leads {baseline} by {n} {frames_word} ({abs(lag_ms):.0f} ms): it "
            f"shows each movement {n} {frames_word} earlier"
        )
    return f"{text}; correlation of the hip and ankle vertical velocities at that lag: {correlation:.2f}."


def _standardise(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    ok = np.isfinite(values)
    if ok.sum() < 3:
        return out
    sd = values[ok].std()
    if sd > 1e-12:
        out[ok] = (values[ok] - values[ok].mean()) / sd
    return out


def fill_short_gaps(values: np.ndarray, max_gap: int = MAX_GAP) -> np.ndarray:
    """Fill runs of at most ``max_gap`` NaNs between two known values by a straight line."""
    out = np.asarray(values, dtype=float).copy()
    known = np.flatnonzero(np.isfinite(out))
    for a, b in zip(known[:-1], known[1:]):
        if 1 < b - a <= max_gap + 1:
            out[a + 1 : b] = np.interp(np.arange(a + 1, b), [a, b], [out[a], out[b]])
    return out


def _prepare(values: np.ndarray) -> np.ndarray:
    """Detrend and scale a trajectory, then turn it into a lightly smoothed velocity.

    A straight-line trend (camera tilt, slow drift) is removed and the rest
    scaled to unit variance. Correlating positions gives a broad peak, since
    positions change slowly; their frame-to-frame change (after a 3-frame
    moving mean that calms the jitter) gives a sharp one. Gaps of up to
    ``MAX_GAP`` frames are bridged by a straight line; longer ones stay NaN
    and drop out of the correlation.
    """
    values = fill_short_gaps(np.asarray(values, dtype=float))
    ok = np.isfinite(values)
    if ok.sum() < SMOOTH_FRAMES + 3:
        return np.full(len(values), np.nan)
    t = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(t[ok], values[ok], 1)
    level = _standardise(values - (slope * t + intercept))
    smooth = pd.Series(level).rolling(SMOOTH_FRAMES, center=True, min_periods=SMOOTH_FRAMES).mean().to_numpy()
    return _standardise(np.diff(smooth, prepend=np.nan))


def correlation_at(ref: np.ndarray, can: np.ndarray, lag: int, min_overlap: int = 5) -> tuple[float, int]:
    """Pearson correlation of ref[t] with can[t + lag] over frames both have; (r, pairs)."""
    if lag >= 0:
        a, b = ref[: len(ref) - lag] if lag else ref, can[lag:]
    else:
        a, b = ref[-lag:], can[: len(can) + lag]
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < min_overlap:
        return np.nan, int(ok.sum())
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return (float((a * b).sum() / denom) if denom > 0 else np.nan), int(ok.sum())


def correlation_curve(ref: np.ndarray, can: np.ndarray, max_lag: int = MAX_LAG) -> pd.Series:
    """Correlation for each lag from -max_lag to +max_lag (NaN where too few pairs)."""
    ref, can = _prepare(ref), _prepare(can)
    return pd.Series(
        {lag: correlation_at(ref, can, lag)[0] for lag in range(-max_lag, max_lag + 1)}, name="correlation"
    ).rename_axis("lag_frames")


def _aligned(frames: pd.DataFrame, baseline: str, candidate: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Both backends' trajectories on one full grid of frame numbers (gaps NaN), and its step."""
    ref = vertical_trajectories(frames, baseline)
    can = vertical_trajectories(frames, candidate)
    step, grid = step_and_grid(ref.index.union(can.index).to_numpy())
    idx = pd.Index(grid, name="frame")
    return ref.reindex(idx), can.reindex(idx), step


def find_lag(
    frames: pd.DataFrame, baseline: str, candidate: str, fps: float, max_lag: int = MAX_LAG
) -> LagResult:
    """The lag in frames of ``candidate`` behind ``baseline`` (see the module docstring)."""
    ref, can, step = _aligned(frames, baseline, candidate)
    curves = {
        col: correlation_curve(ref[col].to_numpy(float), can[col].to_numpy(float), max_lag)
        for col in ref.columns
    }
    table = pd.DataFrame(curves)
    combined = table.mean(axis=1, skipna=True)
    per_signal = {col: int(table[col].idxmax()) for col in table.columns if table[col].notna().any()}
    both = (ref.notna().all(axis=1) & can.notna().all(axis=1)).sum()
    if combined.notna().sum() == 0:
        return LagResult(baseline, candidate, 0, 0.0, np.nan, per_signal, int(both))
    best = combined.max()
    # ties (flat peaks) go to the smallest lag in size, so "in step" wins a draw
    lags = [lag for lag, r in combined.items() if np.isfinite(r) and r >= best - 1e-12]
    lag = min(lags, key=lambda v: (abs(v), v))
    lag_frames = int(lag * step)
    return LagResult(
        baseline, candidate, lag_frames, lag_frames * 1000.0 / fps, float(best), per_signal, int(both)
    )


OFFSET_COLUMNS: dict[str, tuple[str, str]] = {
    "baseline": ("", "The reference backend."),
    "candidate": ("", "The backend compared with it."),
    "lag_frames": (
        "frames",
        "Positive: the candidate shows movements this many frames later than "
        "the baseline; negative: earlier.",
    ),
    "lag_ms": ("ms", "The lag in milliseconds at the clip's frame rate."),
    "correlation": (
        "r",
        "Mean correlation of the hip and ankle vertical velocities at that lag "
        "(1 = the same motion; jitter lowers it).",
    ),
    "frames_used": ("frames", "Frames where both backends found the hips and ankles."),
    "sentence": ("", "The lag in words."),
}


def offset_table(
    frames: pd.DataFrame, baseline: str, candidates: list[str], fps: float, max_lag: int = MAX_LAG
) -> pd.DataFrame:
    rows = []
    for cand in candidates:
        if cand == baseline:
            continue
        r = find_lag(frames, baseline, cand, fps, max_lag)
        rows.append(
            {
                "baseline": baseline,
                "candidate": cand,
                "lag_frames": r.lag_frames,
                "lag_ms": r.lag_ms,
                "correlation": r.correlation,
                "frames_used": r.frames_used,
                "sentence": r.sentence(),
            }
        )
    return pd.DataFrame(rows, columns=list(OFFSET_COLUMNS))
