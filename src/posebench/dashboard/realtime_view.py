"""The real-time table of a run (``posebench realtime``) on the Results page."""

from __future__ import annotations

import streamlit as st

from posebench.core import schema
from posebench.dashboard import tables
from posebench.report.run_tables import REALTIME_KEY
from posebench.store import sidecars


def show(run, key: str = "realtime") -> bool:
    """The run's real-time table with its answer first; False when the run has none."""
    table = sidecars.load_realtime_table(run)
    if table is None or not len(table):
        return False
    st.markdown("**Real time: can each backend keep up with a camera?**")
    ok = table[table["status"] == "ok"]
    for row in ok.itertuples():
        keeps = "keeps up with" if bool(row.keeps_up) else "does not keep up with"
        st.write(
            f"{row.backend} {keeps} a {row.camera_fps:g} fps camera on this machine: "
            f"{row.drop_pct:.1f} % of frames dropped, skeleton {row.latency_ms_p50:.0f} ms old "
            f"(median); highest camera rate it sustains: {row.sustained_fps:.0f} fps."
        )
    tables.show_table(table, schema.REALTIME_COLUMNS, REALTIME_KEY, key=key)
    st.caption(
        "A simulated camera released the clip's frames at the camera rate; each backend, alone "
        "in a worker process, always took the newest frame and older waiting frames were "
        "dropped. Figures measured on a busy machine are not reliable (see notes)."
    )
    return True
