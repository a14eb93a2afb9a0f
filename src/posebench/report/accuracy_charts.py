"""The Accuracy page's charts: per-landmark agreement and the confidence-score distribution."""

from __future__ import annotations

import altair as alt
import pandas as pd

from posebench.report.overlay import BACKEND_COLOURS

# the plot keeps its height with the legend below it
FIT = alt.AutoSizeParams(type="fit-x", contains="padding")


def colours(labels: list[str]) -> alt.Scale:
    """One colour per backend, as on the other pages."""
    return alt.Scale(
        domain=labels, range=[BACKEND_COLOURS[i % len(BACKEND_COLOURS)] for i in range(len(labels))]
    )


def landmark_agreement(detail: pd.DataFrame, candidate: str, baseline: str) -> alt.Chart:
    """A bar per landmark: share of frames within 0.1 torso of the baseline (``metrics.agreement_table``)."""
    bars = detail[detail["landmark"] != "all"].copy()
    bars["landmark"] = bars["landmark"].str.replace("_", " ")  # words, as everywhere else
    bars["within_pct"] = bars["within_0.1"] * 100
    bars = bars.rename(columns={"within_0.1": "within_01"})
    return (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X(
                "within_pct:Q",
                scale=alt.Scale(domain=[0, 100]),
                title="frames within 0.1 torso of the baseline (%)",
            ),
            y=alt.Y("landmark:N", sort=list(bars["landmark"]), title=None),
            tooltip=[
                "landmark",
                alt.Tooltip("within_pct:Q", title="within 0.1 torso (%)", format=".1f"),
                alt.Tooltip("median:Q", title="median distance (torso lengths)", format=".3f"),
                alt.Tooltip("frames:Q", title="frames compared"),
            ],
        )
        .properties(
            height=26 * len(bars), title=f"{candidate} against {baseline}, per landmark", autosize=FIT
        )
    )


def confidence(hist: pd.DataFrame, labels: list[str]) -> alt.Chart:
    """A step line per backend: share of its landmark positions per score bin
    (``stability.confidence_histogram``)."""
    hist = hist.copy()
    hist["share_pct"] = hist["share"] * 100
    return (
        alt.Chart(hist)
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            x=alt.X("bin_start:Q", title="confidence score (bins of 0.05)"),
            y=alt.Y("share_pct:Q", title="landmark positions in the bin (%)"),
            color=alt.Color(
                "backend:N", scale=colours(labels), legend=alt.Legend(orient="bottom", labelLimit=400)
            ),
            tooltip=[
                "backend",
                alt.Tooltip("bin_start:Q", title="from"),
                alt.Tooltip("bin_end:Q", title="to"),
                alt.Tooltip("share_pct:Q", title="positions (%)", format=".1f"),
                alt.Tooltip("positions:Q", title="positions"),
            ],
        )
        .properties(height=220, title="Confidence-score distribution", autosize=FIT)
    )
