"""Page 3: the same frame for every backend with its skeleton, and the overlay video."""

import streamlit as st

from posebench.dashboard import compare_view, safe_text, state, widgets


def render() -> None:
    widgets.page_setup(
        "Compare",
        "The same frame with each model's skeleton drawn on it: the 13 points the jump app uses "
        "(nose, shoulders, hips, knees, ankles, heels and toes).",
        "the feet and ankles around take-off and landing: that is where a point off by a few "
        "centimetres moves the jump's timing.",
    )
    run = widgets.need_run()
    st.markdown(widgets.run_caption(run))

    if not len(run.frames):
        st.error("This run has no processed frames to show.")
        st.stop()
    if not state.clip_here(run):
        st.error(
            f"The clip {safe_text.md(run.clip.name)} is not on this machine or not yours to open here "
            "(another user's upload, or a run imported without its clip), so its frames cannot be drawn. "
            "Upload the same file on the Clip page and it is found by its content; the tables and charts "
            "of this run work without it."
        )
        st.stop()

    frame_ids = sorted(run.frames["frame"].astype(int).unique().tolist())
    if len(frame_ids) > 1:
        timed = run.frames.loc[~run.frames["warmup"].astype(bool), "frame"]
        frame_index = st.select_slider(
            "Frame",
            frame_ids,
            value=int(timed.min()) if len(timed) else frame_ids[0],  # the first timed frame
            key="compare-frame",
            help="Decoded frame index of the clip, from 0. Only frames the run processed are offered.",
        )
    else:
        frame_index = frame_ids[0]

    compare_view.skeletons(run, frame_index)

    st.subheader("Overlay video")
    compare_view.overlay_video(run, len(frame_ids))
