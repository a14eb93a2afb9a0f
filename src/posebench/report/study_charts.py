"""A study's charts: Bland-Altman per backend and the flight-time error per clip.

Both are built from the study's tables (``study_clips.csv`` and
``study_summary.csv``); ``write_pngs`` saves them as PNG next to the tables
(vl-convert, no browser). Without any reference the charts show the
difference from the baseline instead, and say so.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from posebench.io.files import write_atomic
from posebench.report.chart_export import chart_png
from posebench.report.run_charts import BACKEND_COLOURS, ChartSpec

SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "circle", "square"]
PNG_FILES = {"bland_altman": "bland_altman.png", "errors_per_clip": "errors_per_clip.png"}


def _colours(labels: list[str]) -> alt.Scale:
    return alt.Scale(
        domain=labels, range=[BACKEND_COLOURS[i % len(BACKEND_COLOURS)] for i in range(len(labels))]
    )


def _against(clips: pd.DataFrame) -> tuple[str, str, str]:
    """(error column, what it is measured against, reference flight-time column or '')."""
    if len(clips) and clips["flight_time_error_ms"].notna().any():
        return "flight_time_error_ms", "the reference", "reference_flight_time_s"
    return "flight_time_diff_ms", "the baseline", ""


def bland_altman(clips: pd.DataFrame, summary: pd.DataFrame) -> ChartSpec:
    """Difference against the mean of the two methods, with the bias and 95 % limits of agreement."""
    error, against, ref_col = _against(clips)
    ok = clips[(clips["status"] == "ok") & clips[error].notna()].copy()
    if not ref_col:
        baseline = set(summary.loc[summary["role"] == "baseline", "backend"])
        ok = ok[~ok["backend"].isin(baseline)]
        ref_ms = ok["flight_time_s"] * 1000 - ok[error]
    else:
        ref_ms = ok[ref_col] * 1000
    ok["mean_ms"] = (ok["flight_time_s"] * 1000 + ref_ms) / 2
    labels = list(dict.fromkeys(ok["backend"]))
    lines = []
    for row in summary.itertuples():
        if row.backend not in labels:
            continue
        if ref_col:
            bias, low, high = row.flight_time_bias_ms, row.loa_low_ms, row.loa_high_ms
        else:
            bias, low, high = row.flight_time_diff_bias_ms, row.diff_loa_low_ms, row.diff_loa_high_ms
        for what, value in (("bias", bias), ("95 % limit", low), ("95 % limit", high)):
            if pd.notna(value):
                lines.append({"backend": row.backend, "line": what, "value_ms": float(value)})
    colour = alt.Color("backend:N", scale=_colours(labels), title="Backend")
    points = (
        alt.Chart(ok)
        .mark_point(size=90, filled=False, strokeWidth=2.5)
        .encode(
            x=alt.X(
                "mean_ms:Q",
                scale=alt.Scale(zero=False),
                title=f"Mean of backend and {against.split()[-1]} flight time (ms)",
            ),
            y=alt.Y(f"{error}:Q", title=f"Backend minus {against.split()[-1]} (ms)"),
            color=colour,
            shape=alt.Shape(  # a different outline per model: equal points stay visible
                "backend:N",
                scale=alt.Scale(domain=labels, range=SHAPES[: max(1, len(labels))]),
                title="Backend",
            ),
            tooltip=["clip:N", "backend:N", alt.Tooltip(f"{error}:Q", format=".0f")],
        )
    )
    rules = (
        alt.Chart(pd.DataFrame(lines, columns=["backend", "line", "value_ms"]))
        .mark_rule()
        .encode(
            y="value_ms:Q",
            color=colour,
            strokeDash=alt.StrokeDash(
                "line:N", title="Line", scale=alt.Scale(domain=["bias", "95 % limit"], range=[[1, 0], [6, 4]])
            ),
            tooltip=["backend:N", "line:N", alt.Tooltip("value_ms:Q", format=".0f")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#999999").encode(y="y:Q")
    chart = (
        alt.layer(zero, rules, points)
        .properties(height=300, title=f"Bland-Altman: flight time against {against}")
        .properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    )
    caption = (
        f"One point per clip and backend (each its own outline, so equal points stay visible): the "
        f"flight-time difference from {against} (ms, positive = "
        f"the backend's flight is longer) against the mean of the two. Solid line: the bias (mean "
        f"difference); dashed: the 95 % limits of agreement (bias ± 1.96 SD). Points spread evenly "
        f"around the bias mean the error does not depend on the jump's size."
    )
    return ChartSpec(chart, caption)


def errors_per_clip(clips: pd.DataFrame, summary: pd.DataFrame) -> ChartSpec:
    """The flight-time error per clip, one mark per backend."""
    error, against, ref_col = _against(clips)
    ok = clips[(clips["status"] == "ok") & clips[error].notna()]
    if not ref_col:
        ok = ok[~ok["backend"].isin(set(summary.loc[summary["role"] == "baseline", "backend"]))]
    labels = list(dict.fromkeys(ok["backend"]))
    n = max(1, ok["clip"].nunique())
    chart = (
        alt.Chart(ok)
        .mark_point(filled=True, size=90)
        .encode(
            y=alt.Y("clip:N", title="Clip", axis=alt.Axis(labelLimit=260)),
            x=alt.X(f"{error}:Q", title=f"Flight-time error against {against} (ms)"),
            color=alt.Color("backend:N", scale=_colours(labels), title="Backend"),
            yOffset=alt.YOffset("backend:N", scale=alt.Scale(domain=labels)),  # side by side
            tooltip=["clip:N", "backend:N", alt.Tooltip(f"{error}:Q", format=".0f")],
        )
    )
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#999999").encode(x="x:Q")
    chart = (
        alt.layer(zero, chart)
        .properties(height=max(80, 28 * n), title=f"Flight-time error per clip, against {against}")
        .properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    )
    caption = (
        f"Each clip's flight-time error against {against} in ms, per backend (0 = exact; positive = "
        f"too long); each model has its own row within a clip, so no point hides another. Clips "
        f"without a jump are not shown; the per-jump table says why."
    )
    return ChartSpec(chart, caption)


def all_charts(clips: pd.DataFrame, summary: pd.DataFrame) -> dict[str, ChartSpec]:
    return {"bland_altman": bland_altman(clips, summary), "errors_per_clip": errors_per_clip(clips, summary)}


def write_pngs(clips: pd.DataFrame, summary: pd.DataFrame, folder: str | Path) -> dict[str, Path]:
    """Both charts as PNG files in ``folder``; nothing when no clip has a jump to show."""
    folder = Path(folder)
    error, _, _ = _against(clips)
    if not len(clips) or not ((clips["status"] == "ok") & clips[error].notna()).any():
        return {}
    out = {}
    for key, spec in all_charts(clips, summary).items():
        path = folder / PNG_FILES[key]
        write_atomic(path, chart_png(spec.chart))
        out[key] = path
    return out


__all__ = ["PNG_FILES", "all_charts", "bland_altman", "errors_per_clip", "write_pngs"]
