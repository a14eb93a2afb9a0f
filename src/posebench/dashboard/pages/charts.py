"""Page 4: speed, time per frame, its spread, and where the time goes (Altair)."""

import streamlit as st

from posebench.dashboard import safe_text, state, widgets
from posebench.report import run_charts


def render() -> None:
    widgets.page_setup(
        "Charts",
        "How fast each model is on your clip, measured on the same frames: speed, time per frame, "
        "how steady that time is, and where it goes.",
        "the first chart: a bar past the dashed red line is fast enough by the study's rule "
        "(at least 80 % of the baseline's speed).",
    )
    run = widgets.need_run()
    st.markdown(widgets.run_caption(run))
    widgets.failures(run)

    cols = st.columns([2, 2, 3])
    with cols[0]:
        baseline = widgets.baseline_picker(run, key="charts-baseline")
    with cols[1]:
        ratio = (
            st.number_input(
                "Speed rule (% of the baseline's frames/s)",
                1,
                200,
                int(round(run_charts.DEFAULT_FPS_RATIO * 100)),
                5,
                key="charts-ratio",
                persist_state=state.KEEP,
                help="The study's rule: a configuration should reach at least 80 % of "
                "the baseline's frames per second.",
            )
            / 100
        )

    for spec in run_charts.all_charts(run, baseline, ratio):
        st.altair_chart(spec.chart, width="stretch")
        safe_text.caption(spec.caption)  # holds configuration labels: shown as text
    if not len(run.frames):
        st.info("No per-frame data in this run, so only the speed chart is shown.")
