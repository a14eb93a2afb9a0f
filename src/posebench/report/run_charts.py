"""Altair charts of a run, each with a caption saying what it shows and how it was measured.

Every builder takes the tidy tables (``summary`` one row per backend,
``frames`` one row per processed frame per backend) and returns a
``ChartSpec``: the chart and a caption. ``settings_text(run)`` is the
sentence of settings every caption ends with (frames, warm-up, clip, machine).
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from posebench.core import schema
from posebench.decision import speed_evidence
from posebench.report.overlay import BACKEND_COLOURS

DEFAULT_FPS_RATIO = 0.8  # the study's rule: FPS >= 80 % of the baseline's
CHART_HEIGHT = 260
# Stage -> its column in the per-frame table, in pipeline order; "other" is what is left.
STAGES: dict[str, str] = {stage: schema.stage_column(stage) for stage in schema.STAGES}
STAGE_ORDER = (*STAGES, "other")


@dataclass(frozen=True)
class ChartSpec:
    chart: alt.Chart | alt.LayerChart | alt.FacetChart | alt.HConcatChart | alt.VConcatChart
    caption: str


def settings_text(run) -> str:
    """Frames, warm-up, clip and machine of a run, in one sentence."""
    clip = run.clip
    opts = run.options
    processed = int(run.summary["frames_processed"].max()) if len(run.summary) else 0
    env = run.environment or {}
    cores = env.get("usable_cores") or env.get("cores")
    machine = env.get("cpu") or "unknown CPU"
    if cores:
        machine += f", {cores} cores"
    extra = []
    if opts.stride and opts.stride > 1:
        extra.append(f"1 frame in {opts.stride} kept")
    if opts.max_side:
        extra.append(f"downscaled to {opts.max_side} px")
    if opts.preload:
        extra.append("video decoding left out of the timing")
    tail = f" ({', '.join(extra)})" if extra else ""
    overlap = (
        f" Another run shared the machine ({run.overlapped} overlapping), so timings are not comparable."
        if run.overlapped
        else ""
    )
    state = (run.extra or {}).get("machine") or {}
    if state.get("load_1min_start") is not None:
        machine += (
            f", 1-minute load average {state['load_1min_start']:.1f} at start and "
            f"{state['load_1min_end']:.1f} at end ({speed_evidence.OWN_THREADS})"
        )
    if isinstance(state.get("foreign_cpu_pct"), int | float):  # engine.foreign_cpu
        machine += f", other work {state['foreign_cpu_pct']:.0f} % of one core while timing"
    return (
        f"Settings: {processed} frames per backend of which the first {opts.warmup} are "
        f"warm-up and left out of the timings{tail}; {getattr(opts, 'rounds', 1)} round(s); clip {clip.name} "
        f"({clip.width}×{clip.height} px, {clip.fps:.2f} frames/s); machine {machine}; "
        f"run {run.run_id}.{overlap}"
    )


def _sized(chart, title: str, height: int, subtitle: str = ""):
    """Fit the width to the container; ``height`` is the plot area, legends and axes come on top."""
    heading = alt.TitleParams(title, subtitle=subtitle) if subtitle else title
    return chart.properties(
        height=height, title=heading, autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
    )


_LABEL_AXIS = alt.Axis(labelLimit=320)
# Stage colours kept apart from the backend colours, so a stage is not read as a backend.
STAGE_COLOURS = ("#999999", "#66a61e", "#e7298a", "#7570b3", "#e6ab02", "#d9d9d9")


def _bar_height(n: int) -> int:
    return max(70, 36 * n)


def _colour_scale(labels: list[str]) -> alt.Scale:
    return alt.Scale(
        domain=labels, range=[BACKEND_COLOURS[i % len(BACKEND_COLOURS)] for i in range(len(labels))]
    )


def _ok(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["fps"].notna()]


def fps_chart(
    summary: pd.DataFrame, baseline: str, settings: str, ratio: float = DEFAULT_FPS_RATIO
) -> ChartSpec:
    """Bar per configuration (end-to-end frames/s) with a rule at ``ratio`` × baseline FPS."""
    data = _fps_rounds(summary)
    labels = summary["backend"].tolist()
    base = summary.loc[summary["backend"] == baseline, "fps"]
    base_fps = float(base.iloc[0]) if len(base) and pd.notna(base.iloc[0]) else None
    threshold = base_fps * ratio if base_fps is not None else None
    top = (
        max(
            [
                float(data[["fps", "fps_max"]].max().max()) if len(data) else 0.0,
                threshold or 0.0,
                1.0,
            ]
        )
        * 1.12
    )
    bars = _fps_bars(data, labels, top)
    spread = (
        alt.Chart(data)
        .mark_errorbar(ticks=True, color="black", thickness=1.5)
        .encode(
            x=alt.X("fps_min:Q", title="frames per second (end to end, higher is better)"),
            x2="fps_max:Q",
            y=alt.Y("backend:N", title=None, sort=labels),
        )
    )
    text = bars.mark_text(align="left", dx=4, dy=-8).encode(
        x="fps_max:Q", text=alt.Text("fps:Q", format=".1f"), color=alt.value("black")
    )
    layers = [bars, spread, text]
    if threshold is not None:
        rule_data = pd.DataFrame(
            {"threshold": [threshold], "label": [f"{ratio:.0%} of {baseline}: {threshold:.1f} frames/s"]}
        )
        rule = (
            alt.Chart(rule_data)
            .mark_rule(color="#d62728", strokeDash=[6, 4], size=2)
            .encode(x="threshold:Q", tooltip=[alt.Tooltip("label:N", title="threshold")])
        )
        layers.append(rule)
    subtitle = (
        f"dashed red line: {ratio:.0%} of {baseline} = {threshold:.1f} frames/s"
        if threshold is not None
        else ""
    )
    chart = _sized(alt.layer(*layers), "Speed per configuration", _bar_height(len(labels)), subtitle)
    return ChartSpec(chart, _fps_caption(data, baseline, base_fps, ratio, settings))


def _fps_rounds(summary: pd.DataFrame) -> pd.DataFrame:
    """Each configuration with a speed: its median FPS, the spread over the rounds (runs saved
    before rounds existed have none: min = max = fps), rounds and model-only FPS."""
    ok = _ok(summary)
    data = ok[["backend", "fps", "fps_model"]].copy()
    data["fps_min"] = ok["fps_min"] if "fps_min" in ok else ok["fps"]
    data["fps_max"] = ok["fps_max"] if "fps_max" in ok else ok["fps"]
    data["rounds"] = ok.get("rounds", 1)
    return data.fillna({"fps_min": data["fps"], "fps_max": data["fps"], "rounds": 1})


def _fps_bars(data: pd.DataFrame, labels: list[str], top: float) -> alt.Chart:
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "fps:Q",
                title="frames per second (end to end, higher is better)",
                scale=alt.Scale(domain=[0, top]),
            ),
            y=alt.Y("backend:N", title=None, sort=labels, axis=_LABEL_AXIS),
            color=alt.Color("backend:N", scale=_colour_scale(labels), legend=None),
            tooltip=[
                alt.Tooltip("backend:N", title="configuration"),
                alt.Tooltip("fps:Q", title="frames/s end to end (median round)", format=".1f"),
                alt.Tooltip("fps_min:Q", title="slowest round", format=".1f"),
                alt.Tooltip("fps_max:Q", title="fastest round", format=".1f"),
                alt.Tooltip("rounds:Q", title="rounds"),
                alt.Tooltip("fps_model:Q", title="frames/s, the model alone", format=".1f"),
            ],
        )
    )


def _fps_caption(
    data: pd.DataFrame, baseline: str, base_fps: float | None, ratio: float, settings: str
) -> str:
    rule_text = (
        f"The dashed red line is {ratio:.0%} of the baseline {baseline}'s "
        f"{base_fps:.1f} frames/s = {base_fps * ratio:.1f} frames/s; a bar that reaches it "
        "passes the study's speed rule."
        if base_fps is not None
        else f"No threshold line: the baseline {baseline} has no speed figure in this run."
    )
    rounds = int(data["rounds"].max()) if len(data) and data["rounds"].notna().any() else 1
    spread_text = (
        f"Each bar is the median of {rounds} interleaved rounds; the black whisker spans the "
        "slowest to the fastest round (a long whisker: the machine was busy in some round). "
        if rounds > 1
        else "One round only, so no spread is shown. "
    )
    return (
        "Frames per second each configuration processed, end to end (decoding the frame "
        "plus the model), over the timed frames only. " + spread_text + rule_text + " " + settings
    )


def _timed(frames: pd.DataFrame) -> pd.DataFrame:
    return frames[~frames["warmup"].astype(bool)] if len(frames) else frames


PHASES = ("timed", "warm-up (not timed)")  # the time-per-frame chart's line styles: solid, dashed


def latency_over_time(frames: pd.DataFrame, settings: str, labels: list[str] | None = None) -> ChartSpec:
    """Line per backend: end-to-end milliseconds per frame against the frame index."""
    labels = labels or list(dict.fromkeys(frames["backend"]))
    data = frames[["backend", "frame", "latency_ms", "model_ms", "warmup"]].copy()
    data["phase"] = np.where(data["warmup"].astype(bool), PHASES[1], PHASES[0])
    base = alt.Chart(data).encode(
        x=alt.X("frame:Q", title="frame of the clip (index)"),
        y=alt.Y("latency_ms:Q", title="milliseconds per frame (lower is better)"),
        color=alt.Color(
            "backend:N",
            scale=_colour_scale(labels),
            title="configuration",
            legend=alt.Legend(orient="bottom", columns=2, labelLimit=400),
        ),
    )
    # The line carries the line-style legend (a solid and a dashed sample, drawn in black);
    # the points are a layer of their own, so their circles do not replace those samples.
    lines = base.mark_line(strokeWidth=1.5).encode(
        strokeDash=alt.StrokeDash(
            "phase:N",
            title="frames",
            scale=alt.Scale(domain=list(PHASES), range=[[1, 0], [6, 4]]),
            legend=alt.Legend(
                orient="bottom",
                direction="vertical",
                symbolType="stroke",
                symbolStrokeColor="black",
                symbolStrokeWidth=2,
                symbolSize=400,
                labelLimit=300,
            ),
        ),
        detail="phase:N",
    )
    points = base.mark_point(size=12, filled=True).encode(
        tooltip=[
            alt.Tooltip("backend:N", title="configuration"),
            alt.Tooltip("frame:Q"),
            alt.Tooltip("latency_ms:Q", title="ms end to end", format=".1f"),
            alt.Tooltip("model_ms:Q", title="ms, the model alone", format=".1f"),
            alt.Tooltip("phase:N", title="frames"),
        ],
    )
    chart = alt.layer(lines, points)
    chart = _sized(chart, "Time per frame over the clip", CHART_HEIGHT)
    caption = (
        "End-to-end time for each frame (decode plus model) in milliseconds, in clip order. "
        "Dashed stretches are warm-up frames, shown but left out of every figure; spikes "
        "are usually frames where a person detector ran or the CPU was busy. " + settings
    )
    return ChartSpec(chart, caption)


def latency_distribution(frames: pd.DataFrame, settings: str, labels: list[str] | None = None) -> ChartSpec:
    """Box plot per backend of end-to-end milliseconds per timed frame."""
    labels = labels or list(dict.fromkeys(frames["backend"]))
    data = _timed(frames)[["backend", "latency_ms"]]
    chart = (
        alt.Chart(data)
        .mark_boxplot(extent="min-max", size=22)
        .encode(
            x=alt.X(
                "latency_ms:Q", title="milliseconds per frame (lower is better)", scale=alt.Scale(zero=True)
            ),
            y=alt.Y("backend:N", title=None, sort=labels, axis=_LABEL_AXIS),
            color=alt.Color("backend:N", scale=_colour_scale(labels), legend=None),
        )
    )
    chart = _sized(chart, "Spread of the time per frame", _bar_height(len(labels)))
    caption = (
        "How the end-to-end time per frame is spread over the timed frames: the box holds "
        "the middle half of the frames, the line inside it is the median, the whiskers "
        "reach the fastest and the slowest frame. A long right whisker means occasional "
        "slow frames (stutter) even when the average is fine. " + settings
    )
    return ChartSpec(chart, caption)


def stage_table(frames: pd.DataFrame) -> pd.DataFrame:
    """Mean milliseconds per frame per stage (``STAGE_ORDER``) per backend."""
    timed = _timed(frames)
    rows = []
    for backend, group in timed.groupby("backend", sort=False):
        total = float(group["latency_ms"].mean())
        known = 0.0
        for stage, column in STAGES.items():
            value = float(group[column].fillna(0).mean()) if column in group else 0.0
            rows.append({"backend": backend, "stage": stage, "ms": value})
            known += value
        rows.append({"backend": backend, "stage": "other", "ms": max(0.0, total - known)})
    return pd.DataFrame(rows, columns=["backend", "stage", "ms"])


def stage_chart(frames: pd.DataFrame, settings: str, labels: list[str] | None = None) -> ChartSpec:
    """Stacked bar per backend: mean milliseconds per frame in each stage."""
    labels = labels or list(dict.fromkeys(frames["backend"]))
    data = stage_table(frames)
    data["order"] = data["stage"].map({s: i for i, s in enumerate(STAGE_ORDER)})
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(ms):Q", title="mean milliseconds per frame", stack="zero"),
            y=alt.Y("backend:N", title=None, sort=labels, axis=_LABEL_AXIS),
            color=alt.Color(
                "stage:N",
                title="stage",
                sort=list(STAGE_ORDER),
                scale=alt.Scale(domain=list(STAGE_ORDER), range=list(STAGE_COLOURS)),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("backend:N", title="configuration"),
                "stage:N",
                alt.Tooltip("ms:Q", title="mean ms per frame", format=".2f"),
            ],
        )
    )
    chart = _sized(chart, "Where the time goes", _bar_height(len(labels)))
    caption = (
        "Mean time per timed frame split into stages: decode (reading the video frame), "
        "preprocess (resizing and normalising the model inputs), detect (the person "
        "detector; 0 on frames where it did not run, and MediaPipe's own detector is "
        "counted inside pose), pose (the pose model), postprocess (decoding the model "
        "outputs) and other (what the measured stages leave of the frame's time: "
        "overhead). A stage a backend does not measure separately is counted inside "
        "pose. " + settings
    )
    return ChartSpec(chart, caption)


def all_charts(run, baseline: str, ratio: float = DEFAULT_FPS_RATIO) -> list[ChartSpec]:
    """The four charts of the Charts page, in order."""
    settings = settings_text(run)
    labels = run.summary["backend"].tolist()
    frames = run.frames
    specs = [fps_chart(run.summary, baseline, settings, ratio)]
    if len(frames):
        specs += [
            latency_over_time(frames, settings, labels),
            latency_distribution(frames, settings, labels),
            stage_chart(frames, settings, labels),
        ]
    return specs


__all__ = [
    "ChartSpec",
    "settings_text",
    "fps_chart",
    "latency_over_time",
    "latency_distribution",
    "stage_table",
    "stage_chart",
    "all_charts",
    "DEFAULT_FPS_RATIO",
]
