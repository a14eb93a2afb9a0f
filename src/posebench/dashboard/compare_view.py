"""The Compare page's sections: one frame with each backend's skeleton, in a grid with what
each backend found on it, and the overlay video of every processed frame."""

from __future__ import annotations

import numpy as np
import streamlit as st

from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARKS
from posebench.dashboard import media, safe_text


def skeletons(run, frame_index: int) -> None:
    """The frame once per backend with its skeleton, 2 (landscape) or 4 (portrait) per row."""
    try:
        panels = media.skeleton_panels(run, frame_index)
    except BenchError as exc:
        safe_text.error(exc)
        panels = []
    per_row = 4 if run.clip.width < run.clip.height else 2  # portrait panels narrower
    for start in range(0, len(panels), per_row):
        cols = st.columns(per_row)
        for col, (label, image, row) in zip(cols, panels[start : start + per_row]):
            with col:
                st.image(image, width="stretch")
                st.caption(panel_caption(label, row))


def panel_caption(label: str, row: dict | None) -> str:
    """What the backend found on the frame: a person, how many landmarks, its time."""
    if not row:
        return f"**{safe_text.md(label)}**: did not process this frame."
    found = sum(np.isfinite(row.get(f"{n}_x", np.nan)) for n in LANDMARKS)
    warm = " (warm-up)" if row.get("warmup") else ""
    return (
        f"**{safe_text.md(label)}**: {'person found' if row['detected'] else 'no person found'}, "
        f"{found} of {len(LANDMARKS)} landmarks; {row['latency_ms']:.1f} ms end to "
        f"end for this frame{warm}; detector "
        f"{'ran' if row['detector_ran'] else 'did not run'}."
    )


def overlay_video(run, processed: int) -> None:
    """Every processed frame with the skeletons side by side: rendered at once for a short
    run, on a click for a longer one; shown and offered for download."""
    st.caption(
        "Every processed frame with each backend's skeleton side by side (H.264 MP4, shown at "
        "most 720 px per panel), to see where the backends disagree over the movement."
    )
    want = processed <= media.AUTO_OVERLAY_FRAMES or st.button(
        f"Render the overlay video ({processed} frames)", key="compare-render"
    )
    if not want:
        return
    try:
        with st.spinner(f"Rendering {processed} frames…"):
            data = media.overlay_video(run)
    except BenchError as exc:
        safe_text.error(exc)
        return
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
