"""Page 7: saved runs: open, compare side by side, import from elsewhere, download, delete."""

import streamlit as st

from posebench.dashboard import auth, interrupted_view, results_view, saved_runs, widgets
from posebench.store import run_store


def render() -> None:
    widgets.page_setup(
        "Results",
        "Every finished run is kept here, listed by name, clip, date and verdict. Pick one to open "
        "it on the other pages, give it a name and a note, or take its evidence report away "
        "(one zip with an HTML report that opens without the dashboard). Pick two or more to "
        "see them side by side.",
    )
    viewer = auth.viewer()
    shared = auth.shared_mode()
    root = run_store.default_root()
    runs = saved_runs.visible_runs(root, viewer)
    if shared:
        st.caption(
            f"{len(runs)} saved run(s) you can open: your own, and those others share "
            "with everyone (read-only)."
        )
    else:
        st.caption(f"Results folder: `{root.resolve()}` · {len(runs)} saved run(s).")
    interrupted_view.show(root)  # runs a server restart interrupted, with a sentence each
    results_view.flash()

    if len(runs):
        results_view.run_list(runs, shared)
        picked = results_view.pick(runs)
        results_view.actions(runs, picked, viewer, root, shared)
        results_view.delete_confirmation(runs["run_id"].tolist(), viewer, root)
        if len(picked) >= 2:
            results_view.side_by_side(runs, picked, viewer)
        if len(picked) == 1:
            results_view.take_away(runs, picked[0], viewer, root)
    else:
        st.info("No saved runs yet: run a benchmark on the Run page, or import one below.")

    results_view.saved_studies()
    results_view.import_form(root, viewer)
