"""Page 1: choose the clip (upload or bundled sample), see a frame and its metadata."""

import streamlit as st

from posebench.core.errors import BenchError
from posebench.dashboard import clip_input, clip_view, safe_text, state, widgets


def render() -> None:
    widgets.page_setup(
        "Clip",
        "The video both pose models will watch. A phone clip of one jump is fine: it is turned "
        "upright and its frames are counted one by one.",
        "the preview shows the athlete whole, feet included, and the frame rate and length on the "
        "left are what you filmed.",
    )
    clip_input.sweep_stale_uploads()
    current = state.clip_path()
    is_upload = state.chosen_upload() is not None
    left, right = st.columns([2, 3], gap="large")

    with left:
        sources = clip_view.SOURCES
        source = st.radio("Source", sources, index=1 if is_upload else 0, horizontal=True, key="clip-source")
        if source == sources[0]:
            clip_view.folder_picker(current, is_upload)
        else:
            clip_view.upload_box(current, is_upload)

    info = None
    try:
        info = state.clip_info()
    except BenchError as exc:
        safe_text.error(exc)

    with right:
        if info is None:
            st.info("Choose a clip on the left.")
        else:
            clip_view.preview(info)

    if info is not None:
        with left:
            clip_view.facts(info)
            widgets.page_link("run")
