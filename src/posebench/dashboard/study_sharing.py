"""The Study page's sharing control: one ``render(picked)`` call under the saved-study list.

On a shared server the owner of the open study shares it read-only, with everyone or with
named users (the words of the Results page's control for runs); a person it is shared with
reads "Shared with you by <owner>, read-only." and what that allows. Nothing shows in
single-user mode. The rules and the audit log are ``studies.sharing``'s.
"""

from __future__ import annotations

import streamlit as st

from posebench.core.errors import BenchError
from posebench.dashboard import auth, safe_text, study_view
from posebench.store import owners
from posebench.studies import sharing


def render(picked: str | None) -> None:
    """The sharing control for the study ``picked`` in the page's list (its entry)."""
    viewer = auth.viewer()
    if viewer.single or not picked:
        return
    try:
        opened = study_view.where(picked)
    except BenchError:
        return  # the list entry is gone (or no longer shared): the page says so when it opens it
    if not opened.mine:
        safe_text.caption(f"Shared with you by {opened.owner}, read-only.")
        st.caption(
            "You can read its results and download its report; only its owner can change it, run it "
            "again, measure its speed, add clips or delete it."
        )
        return
    access = owners.read(opened.folder)
    cols = st.columns([2, 3])
    share = cols[0].toggle(
        "Shared with everyone (read-only)",
        value=access.shared,
        key=f"study-share-{opened.study_id}",
        help="Others signed in to this server can open and download it, never change or delete it.",
    )
    typed = cols[1].text_input(
        "Shared with these users only (read-only)",
        value=", ".join(access.readers),
        key=f"study-readers-{opened.study_id}",
        placeholder="user names, separated by commas",
        help="They can open its results and download its report, never change, re-run or delete it.",
        disabled=share,
    )
    try:
        readers = access.readers if share else owners.parse_readers(typed, viewer.name)
    except BenchError as exc:
        safe_text.error(exc)
        return
    if share != access.shared or tuple(readers) != access.readers:
        try:
            sharing.set_sharing(viewer, opened, share, tuple(readers))
        except BenchError as exc:
            safe_text.error(exc)
        else:
            st.rerun()


__all__ = ["render"]
