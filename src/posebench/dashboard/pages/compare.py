"""Page 3: the same frame for every backend with its skeleton, and the overlay video."""

import numpy as np
import streamlit as st

from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARKS
from posebench.dashboard import media, safe_text, state, widgets


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

    try:
        panels = media.skeleton_panels(run, frame_index)
    except BenchError as exc:
        safe_text.error(exc)
        panels = []

    PER_ROW = 4 if run.clip.width < run.clip.height else 2  # portrait panels narrower
    for start in range(0, len(panels), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, (label, image, row) in zip(cols, panels[start : start + PER_ROW]):
            with col:
                st.image(image, width="stretch")
                if not row:
                    st.caption(f"**{safe_text.md(label)}**: did not process this frame.")
                    continue
                found = sum(np.isfinite(row.get(f"{n}_x", np.nan)) for n in LANDMARKS)
                warm = " (warm-up)" if row.get("warmup") else ""
                st.caption(
                    f"**{safe_text.md(label)}**: {'person found' if row['detected'] else 'no person found'}, "
                    f"{found} of {len(LANDMARKS)} landmarks; {row['latency_ms']:.1f} ms end to "
                    f"end for this frame{warm}; detector "
                    f"{'ran' if row['detector_ran'] else 'did not run'}."
                )

    st.subheader("Overlay video")
    st.caption(
        "Every processed frame with each backend's skeleton side by side (H.264 MP4, shown at "
        "most 720 px per panel), to see where the backends disagree over the movement."
    )
    processed = len(frame_ids)
    want = processed <= media.AUTO_OVERLAY_FRAMES or st.button(
        f"Render the overlay video ({processed} frames)", key="compare-render"
    )
    if want:
        try:
            with st.spinner(f"Rendering {processed} frames…"):
                data = media.overlay_video(run)
        except BenchError as exc:
            safe_text.error(exc)
        else:
            st.video(data, format="video/mp4")
            st.download_button(
                "Download the overlay video",
                data,
                file_name=f"{run.run_id}-overlay.mp4",
                mime="video/mp4",
                key="compare-dl-video",
                on_click="ignore",
                icon=":material/download:",
            )
