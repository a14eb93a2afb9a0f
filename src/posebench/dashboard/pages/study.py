"""Study: many jumps, each against its reference - the evidence a replace decision needs."""

import streamlit as st

from posebench.dashboard import (
    event_view,
    feet_scrubber,
    safe_text,
    state,
    study_draft,
    study_form,
    study_result_view,
    study_view,
    widgets,
)


def render() -> None:
    widgets.page_setup(
        "Study",
        "One clip cannot tell a systematic error from noise. A study runs every clip once per backend, "
        "compares each jump with its reference (contact mat, force plate, or frames marked by eye) and "
        "pools the errors the way a validation paper does: bias with its 95 % confidence interval, "
        "limits of agreement, ICC. The verdict rests on those numbers and says how many clips it has.",
    )

    # -- the open study: the answer first ---------------------------------------------------------
    saved = study_view.saved_studies()
    open_id = st.session_state.get(state.OPEN_STUDY)
    study_result_view.job_status()
    if not len(saved):
        st.info("No study yet: put one together below.")
    result = study_result_view.pick(list(saved["study_id"]), open_id) if len(saved) else None
    if result is not None:
        st.subheader(safe_text.md(f"Study {result.study.name}"))
        study_result_view.verdict(result)
        study_result_view.speed_section(result)
        study_result_view.rests_on(result)
        study_result_view.jump_by_jump(result)
        study_result_view.pooled_tables(result)
        event_view.section(result, lambda job: state.set_job_of(state.STUDY_JOB, job))
        study_result_view.criteria(result)
        study_result_view.download_buttons(result)

    # -- building a study ------------------------------------------------------------------------
    st.header("New study, or more clips for one")
    left, right = st.columns([3, 2], gap="large")
    with left:
        name = study_form.name_and_clips(open_id)
    with right:
        chosen = study_form.choices()
    clips = study_draft.draft()["clips"]
    if not clips:
        return
    st.subheader(f"References for {len(clips)} clips")
    study_form.references_editor(clips)
    with st.expander("Mark take-off and landing frame by frame"):
        feet_scrubber.section(clips)
    study_form.run_button(name, clips, chosen)
