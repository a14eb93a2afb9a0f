"""Page 8: the lever explorer - RTMPose speed versus agreement with the baseline on your clip."""

import streamlit as st

from posebench.core.errors import BenchError
from posebench.dashboard import background_jobs, explorer_view, safe_text, state, widgets


def render() -> None:
    widgets.page_setup(
        "Explorer",
        "Tries many RTMPose settings on your clip to find the fastest one that still matches "
        "MediaPipe's skeleton. Each setting runs on the same frames, in turns, until the time "
        "budget is spent, so a busy moment of the machine cannot pick the winner.",
        "the red point in the chart (the fastest setting that meets the target) and the target "
        "line; a setting below the line does not meet it.",
    )
    info = widgets.need_clip()
    st.caption(f"Clip **{safe_text.md(info.name)}**: {info.width}×{info.height} px, {info.frames} frames.")
    sweep = explorer_view.sweep_form(info)

    busy = state.busy_reason()
    if busy:
        st.warning(busy)
    go = st.button(
        "Explore", type="primary", key="explorer-go", help=busy, disabled=bool(busy) or sweep.empty
    )
    if go:
        try:
            candidates = sweep.candidates()
        except BenchError as exc:
            safe_text.error(exc)
        else:
            job = background_jobs.explore_job(
                info.path,
                candidates,
                keep=state.chosen_upload(),
                baseline=sweep.baseline,
                budget_s=sweep.budget_s,
                frames=sweep.frames,
                target=sweep.target,
                reference=sweep.reference,
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

    found = st.session_state.get(state.EXPLORER_RESULT)  # {"table": DataFrame, "meta": dict, "clip": path}
    if not found or found.get("clip") != info.path:  # a result of another clip is not shown
        st.stop()
    table, meta = found["table"].copy(), found["meta"]
    table.attrs = {}  # Streamlit would send them along as JSON, where NaN is not allowed

    st.subheader("Speed versus whole-skeleton match")
    explorer_view.answer(table, meta)
    st.subheader("Every configuration")
    explorer_view.every_configuration(table, meta)
