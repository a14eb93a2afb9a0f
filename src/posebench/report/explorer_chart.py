"""The Explorer's chart: speed versus whole-skeleton match, one point per configuration."""

from __future__ import annotations

import altair as alt
import pandas as pd

from posebench.report.run_charts import ChartSpec


def caption(meta: dict) -> str:
    """What the chart shows and how it was measured."""
    return (
        f"Each point is one configuration on {meta['frames']} frames of {meta['clip']}, "
        f"{meta['rounds']} round(s) within a {meta['budget_s']:.0f} s budget. Across: speed in frames "
        "per second (model time only, frames preloaded; the horizontal bar spans the lower to upper "
        "quartile of the rounds). Up: the share of frames, among those where both found a person, "
        f"with all 13 landmarks within {meta['threshold']:g} torso length (about 5 cm) of "
        f"{meta['baseline']}. Dashed red line: the target, {meta['target']:.0%} "
        f"({meta['target_rule']})"
        + (
            f"; the rtmlib default scores {meta['default_agreement']:.0%} here. "
            if meta["default_agreement"] is not None
            else ". "
        )
        + "Dashed blue line: the Pareto front, where no other configuration is both faster and agrees "
        "better."
    )


def speed_versus_match(table: pd.DataFrame, meta: dict) -> tuple[ChartSpec | None, list[str]]:
    """(the chart, or None when no configuration can be plotted; the configurations left out)."""
    PLOT_COLUMNS = [
        "config",
        "changes",
        "fps",
        "fps_q1",
        "fps_q3",
        "agreement",
        "detector_rate",
        "rounds",
        "pareto",
        "best",
        "baseline",
    ]
    plot = table.loc[
        (table["status"] == "ok") & table["fps"].notna() & table["agreement"].notna(), PLOT_COLUMNS
    ].copy()
    plot["fps_q1"] = plot["fps_q1"].fillna(plot["fps"])
    plot["fps_q3"] = plot["fps_q3"].fillna(plot["fps"])
    plot["detector_rate"] = plot["detector_rate"].fillna(0.0)
    unplotted = table.loc[~table.index.isin(plot.index), "changes"].tolist()
    plot["kind"] = "other"
    plot.loc[plot["pareto"], "kind"] = "Pareto front"
    plot.loc[plot["best"], "kind"] = "best meeting the target"
    plot.loc[plot["baseline"], "kind"] = "baseline"
    plot["agreement_pct"] = plot["agreement"] * 100
    kinds = ["best meeting the target", "Pareto front", "other", "baseline"]
    colours = ["#d62728", "#1f77b4", "#9e9e9e", "#2ca02c"]
    x = alt.X("fps:Q", title="Speed (frames per second, median of the rounds)")
    y = alt.Y(
        "agreement_pct:Q",
        title="Whole-skeleton match with the baseline (% of frames)",
        scale=alt.Scale(domain=[0, 100]),
    )
    tooltip = [
        alt.Tooltip("changes:N", title="settings"),
        alt.Tooltip("fps:Q", title="frames/s (median)", format=".1f"),
        alt.Tooltip("fps_q1:Q", title="frames/s, lower quartile", format=".1f"),
        alt.Tooltip("fps_q3:Q", title="frames/s, upper quartile", format=".1f"),
        alt.Tooltip("agreement_pct:Q", title="whole-skeleton match (%)", format=".1f"),
        alt.Tooltip("detector_rate:Q", title="detector ran on (share of frames)", format=".0%"),
        alt.Tooltip("rounds:Q", title="rounds"),
    ]
    spread = alt.Chart(plot).mark_rule(opacity=0.5).encode(x="fps_q1:Q", x2="fps_q3:Q", y="agreement_pct:Q")
    points = (
        alt.Chart(plot)
        .mark_point(filled=True, size=120)
        .encode(
            x=x,
            y=y,
            tooltip=tooltip,
            color=alt.Color("kind:N", title="", scale=alt.Scale(domain=kinds, range=colours)),
            shape=alt.Shape("kind:N", title="", scale=alt.Scale(domain=kinds)),
        )
    )
    front = (
        alt.Chart(plot[plot["pareto"]].sort_values("fps"))
        .mark_line(color="#1f77b4", strokeDash=[4, 3])
        .encode(x="fps:Q", y="agreement_pct:Q")
    )
    goal = (
        alt.Chart(pd.DataFrame({"target": [meta["target"] * 100]}))
        .mark_rule(color="#d62728", strokeDash=[2, 2])
        .encode(y="target:Q")
    )
    if not len(plot):
        return None, unplotted
    chart = (goal + spread + front + points).properties(height=420)
    return ChartSpec(chart, caption(meta)), unplotted
