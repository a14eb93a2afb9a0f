"""The app's router: every page under ``pages/`` in file order, plus the start page.

``app.py`` calls ``run()``. Pages are discovered, so a new ``pages/N_Name.py``
appears in the sidebar without touching this file.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from bench.errors import BenchError

from . import clip_input, state, widgets

DEFAULT_TRIED = "clip-default-tried"   # session flag: the bundled sample was offered once

APP_DIR = Path(__file__).resolve().parents[2]
PAGES_DIR = APP_DIR / "pages"
STEPS = (
    ("clip", "Choose a clip: upload your own video or pick a bundled sample."),
    ("run", "Pick the backends and their settings, then run; each backend gets the same frames."),
    ("compare", "See the same frame with every backend's skeleton, and an overlay video."),
    ("charts", "Speed, time per frame, its spread, and where the time goes."),
    ("accuracy", "How closely the backends agree, how steady they are, any lag between them, "
                 "and the jump metrics (take-off, flight time, jump height) each one gives."),
    ("scorecard", "The go / no-go verdict: every criterion with its measured input, rule and "
                  "points; thresholds editable and saved with the run."),
    ("results", "Saved runs: open, compare side by side, import from another machine, delete."),
    ("explorer", "Sweep the speed levers on your clip and find the fastest configuration that "
                 "still agrees with the baseline."),
)


def home() -> None:
    widgets.page_setup(
        "PoseBench",
        "A fair CPU benchmark of Google MediaPipe Pose against RTMPose (rtmlib on ONNX Runtime) "
        "for the jump-analysis app.")
    st.markdown("Work through the pages in order. Every number on them has its unit, and the "
                "captions say what a chart shows and under which settings it was measured.")
    for name, text in STEPS:
        cols = st.columns([1, 4])
        with cols[0]:
            widgets.page_link(name)
        cols[1].write(text)
    info = st.session_state.get(state.CLIP_INFO)
    run = state.current_run()
    if info or run:
        st.divider()
    if info:
        st.write(f"Chosen clip: **{info.name}** ({info.width}×{info.height} px, {info.frames} frames)")
    if run:
        st.markdown(widgets.run_caption(run))


def page_files() -> list[Path]:
    """The page scripts, in the order of their number prefix."""
    def order(path: Path) -> tuple[int, str]:
        prefix = path.stem.split("_", 1)[0]
        return (int(prefix) if prefix.isdigit() else 999, path.stem)
    return sorted((p for p in PAGES_DIR.glob("*.py") if not p.name.startswith("_")), key=order)


def choose_default_clip() -> None:
    """Once per browser session: with no clip chosen, start on the bundled sample."""
    if st.session_state.get(DEFAULT_TRIED) or state.clip_path():
        return
    st.session_state[DEFAULT_TRIED] = True
    sample, _why = clip_input.bundled_sample()
    if sample is not None:
        try:
            state.set_clip(sample)
        except BenchError:
            pass  # the Clip page says what is wrong with it when it is picked there


def run() -> None:
    pages = [st.Page(home, title="Home", icon=":material/home:", default=True)]
    pages += [st.Page(str(path.relative_to(APP_DIR))) for path in page_files()]
    page = st.navigation(pages)   # each page picks up a finished run in widgets.page_setup
    choose_default_clip()
    try:
        page.run()
    finally:  # after the page, so it shows what the page just chose (also after st.stop)
        widgets.sidebar_status()
