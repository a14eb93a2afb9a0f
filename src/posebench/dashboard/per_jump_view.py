"""The per-jump table and the filmstrips on a page (Accuracy and Study pages).

One view over ``analysis.per_jump``: plain headers with units, "—" for missing values,
the key columns first (the rest under "More columns", so it fits 1280 px), and one
filmstrip image per jump (``report.filmstrip``) below it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from posebench.analysis import per_jump
from posebench.dashboard import tables
from posebench.report import filmstrip, one_page
from posebench.store import sidecars

TABLE_TEST_ID = "per-jump-table"


def show(table: pd.DataFrame, key: str, *, with_clip: bool = True) -> None:
    """The per-jump table with its caption."""
    if table is None or not len(table):
        st.info("No jump analysed yet.")
        return
    shown = per_jump.display(table, with_clip=with_clip)
    keys = [c for c in per_jump.KEY_DISPLAY if c in shown.columns]
    if not per_jump.has_reference(table):  # nothing to measure an error against
        shown = shown.drop(columns=[c for c in shown.columns if "error" in c or "Reference" in c])
        plain = dict(zip(per_jump.COMBINED, ("Flight time (ms)", "Height (cm)")))
        shown = shown.drop(columns=list(per_jump.COMBINED))
        keys = [plain.get(c, c) for c in keys]
    if (shown["Status"] != "ok").any():
        keys.append("Status")
    meanings = {name: ("", meaning) for name, (_raw, meaning) in per_jump.DISPLAY.items()}
    with st.container(key=f"{key}-grid"):  # the page's tests find the table by this key
        tables.show_table(shown, meanings, key_columns=keys, key=key)
    st.caption(per_jump.caption(table))


@st.cache_data(show_spinner=False, max_entries=32)
def _strip(path: str, title: str, reference: tuple, events: tuple, feet_json: str) -> bytes | None:
    marks = filmstrip.JumpMarks(path, title, reference, dict(events), json.loads(feet_json))
    return filmstrip.jump_strip(marks)


def run_filmstrip(run, jump_table: pd.DataFrame | None, reference) -> list[tuple[str, bytes]]:
    """The run's filmstrip (one jump), drawn once per events and reference; also saved in the
    run's folder (``filmstrips/``) when it has one."""
    marks = filmstrip.from_run(run, jump_table, reference)
    if marks is None:
        return []
    png = _strip(
        marks.clip_path,
        marks.title,
        tuple(marks.reference),
        tuple(marks.events.items()),
        json.dumps(marks.feet, sort_keys=True),
    )
    if png is None:
        return []
    folder = sidecars.run_folder(run)
    if folder is not None:
        try:
            target = folder / filmstrip.FOLDER / filmstrip.file_name(run.clip.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(png)
        except OSError:
            pass  # a read-only run: shown anyway
    return [(run.clip.name, png)]


def filmstrips(strips: Sequence[tuple[str, bytes]]) -> None:
    """One filmstrip image per jump, with what the marks mean."""
    if not strips:
        return
    st.caption(one_page.FILMSTRIP_CAPTION)
    for name, png in strips:
        st.image(
            png,
            caption=f"{name}: take-off (top) and landing (bottom)",
            width="stretch",
            alt=f"Filmstrip of {name}",
        )


__all__ = ["TABLE_TEST_ID", "filmstrips", "show"]
