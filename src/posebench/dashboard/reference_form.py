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
from posebench.decision.verdict_evidence import Reference
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
    last = max(0, run.clip.frames - 1)
    cols = st.columns([1, 1, 1, 2])
    flight_s = cols[0].number_input(
        "Known flight time (s)",
        min_value=0.0,
        max_value=2.0,
        value=_known(current, "flight_time_s"),
        step=0.001,
        format="%.3f",
        key=f"{key}-flight",
        placeholder="—",
        help="From a contact mat, force plate or validated app; leave it empty when not known.",
    )
    takeoff, landing = (
        _frame_box(column, label, field, what, current, last, key)
        for column, label, field, what in (
            (cols[1], "Take-off frame", "takeoff_frame", "First frame with both feet off the ground"),
            (cols[2], "Landing frame", "landing_frame", "First frame with ground contact after the flight"),
        )
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
        if takeoff is not None and landing is not None and landing <= takeoff:
            st.error("The landing frame must come after the take-off frame; nothing was saved.")
        else:
            data = {
                "flight_time_s": flight_s if flight_s else None,
                "takeoff_frame": int(takeoff) if takeoff is not None else None,
                "landing_frame": int(landing) if landing is not None else None,
                "fps": run.clip.fps,
                "source": source.strip(),
            }
            if Reference.of(data, run.clip.fps) is None:
                st.warning("Enter a flight time or both frames first; nothing was saved.")
            else:
                _save_and_rerun(run, data, "saved")
    if current is not None and right.button(
        "Remove the reference",
        key=f"{key}-remove",
        icon=":material/delete:",
        disabled=read_only,
        help=owner_only,
    ):
        _save_and_rerun(run, None, "removed")
    return current


def _known(current: Reference | None, field: str) -> float | None:
    """The saved reference's ``field``; None (an empty box) when there is none or it is not known."""
    value = getattr(current, field, math.nan)
    return None if math.isnan(value) else value


def _frame_box(column, label: str, field: str, what: str, current: Reference | None, last: int, key: str):
    """A frame number input (0-based decoded frame; empty = not marked) for the reference's ``field``."""
    known = _known(current, field)
    return column.number_input(
        label,
        min_value=0,
        max_value=last,
        value=int(known) if known is not None else None,
        step=1,
        key=f"{key}-{field.removesuffix('_frame')}",
        placeholder="—",
        help=f"{what} (0-based decoded frame); leave it empty when not marked.",
    )


def _save_and_rerun(run, data: dict | None, done: str) -> None:
    """Save (``None``: remove) the run's reference and draw the page again; say why not when it fails."""
    try:
        save(run, data)
    except BenchError as exc:
        safe_text.error(f"Nothing was {done}: {exc}.")
    else:
        st.rerun()
