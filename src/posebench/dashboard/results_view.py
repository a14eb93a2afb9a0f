"""The Results page's sections: the list of saved runs, the runs picked and what to do with
them (open, share, delete, compare, take away), the saved studies and the import. The page
(``pages/results.py``) only puts them in order; ``saved_runs`` reads the runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from posebench.access import import_runs, run_access
from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.dashboard import (
    media,
    realtime_view,
    run_transfer,
    safe_text,
    saved_runs,
    state,
    study_view,
    tables,
    widgets,
)
from posebench.store import run_store
from posebench.store.run_record import BenchmarkRun
from posebench.studies import study_folder

CONFIRM = "results-confirm-delete"  # run ids waiting for the delete confirmation
PICK = "results-pick"  # the runs the buttons act on
FLASH = "results-flash"  # (message, errors) that survive one rerun
IMPORT_ROUND = "results-import-round"  # bumped after every import try: a fresh, empty uploader


def flash() -> None:
    """The message (and errors) kept over the last rerun."""
    if FLASH not in st.session_state:
        return
    message = st.session_state.pop(FLASH)
    done, problems = message if isinstance(message, tuple) else (message, [])
    if done:
        safe_text.success(done)
    for problem in problems:
        safe_text.error(problem)


def run_list(runs: pd.DataFrame, shared: bool) -> None:
    tables.show_table(
        saved_runs.run_list(runs),
        schema.RUN_LIST_COLUMNS,
        saved_runs.LIST_KEY_COLUMNS,
        show=saved_runs.LIST_COLUMNS + (saved_runs.SHARED_COLUMNS if shared else []),
        key="results-list",
    )


def pick(runs: pd.DataFrame) -> list[str]:
    """The runs to act on: the current run (or the newest) at first."""
    ids = runs["run_id"].tolist()
    current = state.current_run()
    if PICK in st.session_state:  # drop runs deleted meanwhile
        st.session_state[PICK] = [r for r in st.session_state[PICK] if r in ids]
        default = None
    else:
        default = [current.run_id] if current and current.run_id in ids else ids[:1]  # newest
    return st.multiselect(
        "Runs to act on",
        ids,
        default=default,
        key=PICK,
        format_func=lambda run_id: saved_runs.run_title(runs, run_id),
        help="One run to open or download; two or more to compare.",
    )


def actions(runs: pd.DataFrame, picked: list[str], viewer, root: Path, shared: bool) -> None:
    """Open, Delete… and the share toggle."""
    paths = dict(zip(runs["run_id"], runs["path"]))
    mine = dict(zip(runs["run_id"], runs["mine"]))
    not_mine = [r for r in picked if not mine.get(r, False)]
    cols = st.columns([1, 1, 4])
    open_clicked = cols[0].button(
        "Open",
        disabled=len(picked) != 1,
        key="results-open",
        icon=":material/open_in_new:",
        width="stretch",
        help="Make this run the current one for the Compare, Charts and Scorecard pages.",
    )
    delete_clicked = cols[1].button(
        "Delete…",
        disabled=not picked or bool(not_mine),
        key="results-delete",
        icon=":material/delete:",
        width="stretch",
        help="Only the owner of a run may delete it." if not_mine else None,
    )
    if shared and len(picked) == 1 and not not_mine:
        _share_toggle(cols[2], runs, picked[0], viewer, root)
    elif shared and len(picked) == 1:
        owner = runs.loc[runs["run_id"] == picked[0], "owner"].iloc[0]
        safe_text.caption(f"Shared with you by {owner}, read-only.")
    if open_clicked:
        _open(viewer, paths[picked[0]], picked[0])
    if delete_clicked:
        st.session_state[CONFIRM] = list(picked)


def _share_toggle(col, runs: pd.DataFrame, run_id: str, viewer, root: Path) -> None:
    owner_shares = bool(runs.loc[runs["run_id"] == run_id, "shared"].iloc[0])
    share = col.toggle(
        "Shared with everyone (read-only)",
        value=owner_shares,
        key=f"results-share-{run_id}",
        help="Others signed in to this server can open and download it, never change or delete it.",
    )
    if share != owner_shares:
        try:
            run_access.set_shared(viewer, run_id, share, root)
        except BenchError as exc:
            safe_text.error(exc)
        else:
            st.rerun()


def _open(viewer, path, run_id: str) -> None:
    try:
        opened = saved_runs.load_run(viewer, path)
        state.set_current_run(opened)
        # Its clip is one this session may read: choose it too, unless an upload is chosen
        # (that would be let go, and uploading again is costly).
        if state.chosen_upload() is None and state.clip_here(opened):
            state.set_clip(opened.clip.path)
    except BenchError as exc:
        safe_text.error(exc)
    else:
        safe_text.success(f"Opened {run_id}; the Compare and Charts pages now show it.")


def delete_confirmation(ids: list[str], viewer, root: Path) -> None:
    """Asks once more before the runs waiting for it are deleted for good."""
    pending = [r for r in st.session_state.get(CONFIRM, []) if r in ids]
    if not pending:
        return
    st.warning(f"Delete {len(pending)} run(s) for good: {', '.join(pending)}? This cannot be undone.")
    yes, no, _ = st.columns([1, 1, 4])
    if yes.button("Yes, delete", type="primary", key="results-delete-yes", width="stretch"):
        deleted, problems = saved_runs.delete_runs(viewer, pending, root)
        st.session_state.pop(CONFIRM, None)
        if deleted:  # the list changes: show the message after the rerun
            st.session_state[FLASH] = (f"Deleted {', '.join(deleted)}.", problems)
            st.rerun()
        for problem in problems:
            safe_text.error(problem)
    if no.button("Keep them", key="results-delete-no", width="stretch"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()


def side_by_side(runs: pd.DataFrame, picked: list[str], viewer) -> None:
    st.subheader("Side by side")
    paths = dict(zip(runs["run_id"], runs["path"]))
    loaded = {}
    for run_id in picked:
        try:
            loaded[run_id] = saved_runs.load_run(viewer, paths[run_id])
        except BenchError as exc:
            safe_text.error(exc)
    if not loaded:
        return
    tables.show_table(
        saved_runs.side_by_side(loaded),
        {**schema.SUMMARY_COLUMNS, **schema.RUN_ROW_COLUMNS},
        saved_runs.COMPARE_KEY_COLUMNS,
        show=("run", "backend", "clip", *saved_runs.COMPARE_COLUMNS, "machine"),
        key="results-compare",
    )
    st.caption(
        "One row per configuration per run. Timings from different machines, or "
        "from runs that overlapped with another, are not comparable one to one."
    )


def take_away(runs: pd.DataFrame, run_id: str, viewer, root: Path) -> None:
    """One run: its evidence report, real-time table, name and note, and single files."""
    st.subheader(f"Take away: {safe_text.md(saved_runs.run_title(runs, run_id))}")
    path = dict(zip(runs["run_id"], runs["path"]))[run_id]
    try:
        chosen = saved_runs.load_run(viewer, path)
    except BenchError as exc:
        safe_text.error(exc)
        return
    widgets.evidence_download(chosen, key="results-evidence")
    realtime_view.show(chosen, key="results-realtime")
    with st.expander("Name and note"):
        _name_and_note(run_id, path, viewer, root)
    st.caption("Single files:")
    widgets.downloads(chosen, key="results-dl")
    _folder_and_video(chosen, run_id, path)


def _name_and_note(run_id: str, path, viewer, root: Path) -> None:
    label = run_store.read_label(path)
    if not run_access.may_change(viewer, run_id, root):
        safe_text.caption(f"{label['name'] or run_id}: {label['note'] or 'no note'}")
        st.caption("Only the run's owner can change its name and note.")
        return
    with st.form(f"results-label-{run_id}", border=False):
        new_name = st.text_input("Name", label["name"], max_chars=run_store.NAME_MAX)
        new_note = st.text_area("Note", label["note"], max_chars=run_store.NOTE_MAX)
        if st.form_submit_button("Save name and note", icon=":material/save:"):
            try:
                run_store.set_label(run_id, new_name, new_note, root)
            except (BenchError, OSError) as exc:
                safe_text.error(exc)
            else:
                st.session_state[FLASH] = f"Saved the name and note of {run_id}."
                st.rerun()


def _folder_and_video(chosen: BenchmarkRun, run_id: str, path) -> None:
    dl_cols = st.columns(3)
    dl_cols[0].download_button(
        "Run folder (zip, to import)",
        saved_runs.run_zip(path),
        file_name=f"{run_id}.zip",
        mime="application/zip",
        key="results-dl-zip",
        on_click="ignore",
        icon=":material/folder_zip:",
        width="stretch",
        help="The run folder, to import on another PoseBench.",
    )
    if dl_cols[1].button(
        "Make the overlay video",
        key="results-overlay",
        width="stretch",
        icon=":material/movie:",
        disabled=not state.clip_here(chosen),
        help=None
        if state.clip_here(chosen)
        else "The run's clip is not one you can open here; upload it on the Clip page first.",
    ):
        try:
            with st.spinner("Rendering…"):
                data = media.overlay_video(chosen)
        except BenchError as exc:
            safe_text.error(exc)
        else:
            dl_cols[2].download_button(
                "Overlay video (MP4)",
                data,
                file_name=f"{run_id}-overlay.mp4",
                mime="video/mp4",
                key="results-dl-video",
                on_click="ignore",
                icon=":material/download:",
                width="stretch",
            )


def saved_studies() -> None:
    st.subheader("Saved studies")
    listed = study_view.saved_studies()
    if not len(listed):
        st.caption("No saved studies yet: a study pools many clips against their references (Study page).")
        return
    tables.show_table(
        listed,
        study_folder.LIST_COLUMNS,
        show=["study_id", "clips", "backends", "decision", "updated"],
        key="results-studies",
    )
    cols = st.columns([3, 1])
    chosen_study = cols[0].selectbox("Study", list(listed["study_id"]), key="results-study-pick")
    if cols[1].button("Open on the Study page", key="results-study-open", icon=":material/science:"):
        st.session_state[state.OPEN_STUDY] = chosen_study
        widgets.switch_to("study")


def import_form(root: Path, viewer) -> None:
    st.subheader("Import a run")
    import_mb = import_runs.import_limit_bytes() // 1024**2
    round_no = st.session_state.get(IMPORT_ROUND, 0)
    uploads = st.file_uploader(
        f"A zip of a run folder, or its files (summary.csv, frames.csv, run.json, native.npz); "
        f"at most {import_mb} MB",
        type=["zip", "csv", "json", "npz"],
        accept_multiple_files=True,
        max_upload_size=import_mb,
        key=f"results-import-files-{round_no}",
        help="For example a run made by `python -m posebench run` on the target machine. It is "
        "checked before it is loaded; paths in it are dropped.",
    )
    if st.button("Import", disabled=not uploads, key="results-import", icon=":material/upload:"):
        st.session_state[IMPORT_ROUND] = round_no + 1  # the uploader is emptied whatever happens
        try:
            saved = run_transfer.import_uploads(uploads, root, owner=viewer.name)
        except BenchError as exc:
            st.session_state[FLASH] = ("", [str(exc)])
        else:
            st.session_state[FLASH] = f"Imported {saved.name}."
        st.rerun()
