"""The Results page's list of runs a server restart interrupted (``engine.interrupted``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from posebench.engine import interrupted

from . import auth, safe_text


def show(root: Path | None = None) -> None:
    """One warning per interrupted run of this user, each with a Dismiss button."""
    viewer = auth.viewer()
    for note in interrupted.interrupted(viewer, root):
        run_id = str(note.get("run_id", ""))
        cols = st.columns([6, 1])
        with cols[0]:
            safe_text.warning(interrupted.sentence(note), icon=":material/restart_alt:")
        if cols[1].button("Dismiss", key=f"interrupted-dismiss-{run_id}"):
            interrupted.dismiss(viewer, run_id, root)
            st.rerun()
