"""The clip's reference, entered once and saved with the run (Accuracy and Scorecard pages).

A known flight time (contact mat, force plate, validated app) and/or reference
take-off and landing frames (0-based decoded frames: take-off = first frame
with both feet off the ground, landing = first frame with ground contact).
It is kept beside the run (``engine.sidecars``) and the verdict uses it.
"""

from __future__ import annotations

import math

import streamlit as st

from posebench.analysis import per_jump
from posebench.core.errors import BenchError
from posebench.dashboard.verdict_view import as_text
from posebench.decision.evidence import Reference
from posebench.store import sidecars

from . import auth, safe_text, state


def saved(run) -> Reference | None:
    """The run's saved reference (its owner's, on a shared server), or None."""
    return Reference.of(sidecars.load_reference(run, owner=auth.viewer().name), run.clip.fps)


def save(run, data: dict | None) -> None:
    """Save (or, with None, remove) the run's reference and redo what depends on it at once:
    the stored jump analysis's error columns (jump.csv) and this session's kept copy of it. The
    verdict and the per-jump table read the reference itself on the next draw."""
    sidecars.save_reference(run, data, by=auth.viewer())
    table = sidecars.load_jump_table(run)
    if table is not None and len(table):
        sidecars.save_jump_table(run, per_jump.with_reference(table, data, run.clip.fps))
    kept = st.session_state.get(state.JUMP_RESULT)
    if kept is not None and kept[0] == run.run_id:
        st.session_state[state.JUMP_RESULT] = (
            run.run_id,
            per_jump.with_reference(kept[1], data, run.clip.fps),
            *kept[2:],
        )


def label(reference: Reference | None) -> str:
    """An expander's title for the reference (user text escaped)."""
    return "Reference for this clip" + (f": {as_text(reference.describe())}" if reference else " (none yet)")


def editor(run, key: str, may_change: bool = True) -> Reference | None:
    """Inputs for the reference with a save button (off for a run shared read-only); returns
    the saved reference."""
    current = saved(run)
    flight = current.flight_time_s if current and not math.isnan(current.flight_time_s) else 0.0
    take = current.takeoff_frame if current and not math.isnan(current.takeoff_frame) else -1
    land = current.landing_frame if current and not math.isnan(current.landing_frame) else -1
    last = max(0, run.clip.frames - 1)
    cols = st.columns([1, 1, 1, 2])
    flight_s = cols[0].number_input(
        "Known flight time (s)",
        min_value=0.0,
        max_value=2.0,
        value=float(flight),
        step=0.001,
        format="%.3f",
        key=f"{key}-flight",
        help="From a contact mat, force plate or validated app; 0 = not known.",
    )
    takeoff = cols[1].number_input(
        "Take-off frame",
        min_value=-1,
        max_value=last,
        value=int(take),
        key=f"{key}-takeoff",
        help="First frame with both feet off the ground (0-based decoded frame); -1 = not marked.",
    )
    landing = cols[2].number_input(
        "Landing frame",
        min_value=-1,
        max_value=last,
        value=int(land),
        key=f"{key}-landing",
        help="First frame with ground contact after the flight (0-based decoded frame); -1 = not marked.",
    )
    source = cols[3].text_input(
        "Where it comes from",
        value=current.source if current else "",
        max_chars=120,
        key=f"{key}-source",
        placeholder="e.g. contact mat, force plate, by eye",
    )
    left, right = st.columns([1, 1])
    read_only = not auth.may_change_run(run)
    owner_only = "Only the run's owner may change what is saved with it." if read_only else None
    if left.button(
        "Save the reference with the run",
        key=f"{key}-save",
        icon=":material/save:",
        disabled=read_only,
        help=owner_only,
    ):
        if takeoff >= 0 and landing >= 0 and landing <= takeoff:
            st.error("The landing frame must come after the take-off frame; nothing was saved.")
        else:
            data = {
                "flight_time_s": flight_s if flight_s > 0 else None,
                "takeoff_frame": int(takeoff) if takeoff >= 0 else None,
                "landing_frame": int(landing) if landing >= 0 else None,
                "fps": run.clip.fps,
                "source": source.strip(),
            }
            if Reference.of(data, run.clip.fps) is None:
                st.warning("Enter a flight time or both frames first; nothing was saved.")
            else:
                try:
                    save(run, data)
                except BenchError as exc:
                    safe_text.error(f"Nothing was saved: {exc}.")
                else:
                    st.rerun()
    if current is not None and right.button(
        "Remove the reference",
        key=f"{key}-remove",
        icon=":material/delete:",
        disabled=read_only,
        help=owner_only,
    ):
        try:
            save(run, None)
        except BenchError as exc:
            safe_text.error(f"Nothing was removed: {exc}.")
        else:
            st.rerun()
    return current
