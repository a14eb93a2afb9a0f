"""Page 7: saved runs: open, compare side by side, import from elsewhere, download, delete."""

from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from posebench.access import import_runs, run_access
from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.dashboard import (
    auth,
    interrupted_view,
    media,
    realtime_view,
    run_import,
    safe_text,
    state,
    study_view,
    tables,
    widgets,
)
from posebench.store import results
from posebench.studies import study as studies


def render() -> None:
    widgets.page_setup(
        "Results",
        "Every finished run is kept here, listed by name, clip, date and verdict. Pick one to open "
        "it on the other pages, give it a name and a note, or take its evidence report away "
        "(one zip with an HTML report that opens without the dashboard). Pick two or more to "
        "see them side by side.",
    )
    CONFIRM = "results-confirm-delete"  # run ids waiting for the delete confirmation
    PICK = "results-pick"  # the runs the buttons act on
    FLASH = "results-flash"  # (message, errors) that survive one rerun
    IMPORT_ROUND = "results-import-round"  # bumped after every import try: a fresh, empty uploader
    COMPARE_KEY_COLUMNS = ("run", "backend", "fps", "latency_ms_mean", "latency_ms_p95", "detection_rate")
    COMPARE_COLUMNS = (
        "fps",
        "latency_ms_mean",
        "latency_ms_p95",
        "model_ms_mean",
        "detection_rate",
        "init_ms",
        "peak_rss_mb",
        "frames",
        "status",
    )

    def _mtime(path) -> float:
        try:
            return Path(path).stat().st_mtime
        except OSError:
            return 0.0

    # Reading runs and zipping them is slow; a folder's mtime changes when a file is added, replaced
    # (atomic writes rename) or removed in it, so it keys the caches to what is on disk.
    @st.cache_data(max_entries=8, show_spinner=False)
    def _list_runs(root: str, stamp: tuple) -> pd.DataFrame:
        return results.list_runs(Path(root))

    def _root_stamp(root: Path) -> tuple:
        """Every run folder with its and its access record's mtime (sharing changes the list too)."""
        try:
            return tuple(
                sorted(
                    (p.name, p.stat().st_mtime, _mtime(p / "access.json"))
                    for p in root.iterdir()
                    if not p.name.startswith(".")
                )
            )
        except OSError:
            return ()

    @st.cache_data(max_entries=16, show_spinner=False)
    def _load(path: str, mtime: float):
        return results.load(path)

    @st.cache_data(max_entries=2, show_spinner=False)
    def _zip(path: str, mtime: float) -> bytes:
        return run_import.zip_run(Path(path))

    def load_run(path):
        """A saved run this user may see, its clip path replaced by one this session may read."""
        if not viewer.can_see(run_access.owners.read(Path(path))):
            raise BenchError(f"there is no saved run named {Path(path).name} that you can open")
        run = _load(str(path), _mtime(path))
        run.clip = replace(run.clip, path=state.readable_clip_path(run.clip))
        return run

    viewer = auth.viewer()
    shared = auth.shared_mode()
    root = results.default_root()
    runs = run_access.filter_visible(_list_runs(str(root), _root_stamp(root)), viewer)
    if shared:
        st.caption(
            f"{len(runs)} saved run(s) you can open: your own, and those others share "
            "with everyone (read-only)."
        )
    else:
        st.caption(f"Results folder: `{root.resolve()}` · {len(runs)} saved run(s).")
    interrupted_view.show(root)  # runs a server restart interrupted, with a sentence each
    if FLASH in st.session_state:
        message = st.session_state.pop(FLASH)
        done, problems = message if isinstance(message, tuple) else (message, [])
        if done:
            safe_text.success(done)
        for problem in problems:
            safe_text.error(problem)

    def _run_title(run_id: str) -> str:
        """How a run is named in pickers: its name (or id), clip and date."""
        row = runs[runs["run_id"] == run_id]
        if not len(row):
            return run_id
        row = row.iloc[0]
        return f"{row['name'] or run_id} · {row['clip']} · {str(row['started'])[:16].replace('T', ' ')}"

    if len(runs):
        listed = runs.drop(columns=["path", "mine"])
        listed["started"] = listed["started"].str.slice(0, 16).str.replace("T", " ")
        listed["name"] = listed["name"].where(listed["name"] != "", listed["run_id"])
        listed["verdict"] = listed["verdict"].where(listed["verdict"] != "", "not judged yet")
        order = ["name", "clip", "started", "verdict", "backends", "note", "status", "run_id", "cpu"]
        if shared:
            order += ["owner", "shared"]
        tables.show_table(
            listed,
            schema.RUN_LIST_COLUMNS,
            ["name", "clip", "started", "verdict", "backends"],
            show=order,
            key="results-list",
        )
        ids = runs["run_id"].tolist()
        current = state.current_run()
        if PICK in st.session_state:  # drop runs deleted meanwhile
            st.session_state[PICK] = [r for r in st.session_state[PICK] if r in ids]
            default = None
        else:
            default = [current.run_id] if current and current.run_id in ids else ids[:1]  # newest
        picked = st.multiselect(
            "Runs to act on",
            ids,
            default=default,
            key=PICK,
            format_func=_run_title,
            help="One run to open or download; two or more to compare.",
        )
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
            owner_shares = bool(runs.loc[runs["run_id"] == picked[0], "shared"].iloc[0])
            share = cols[2].toggle(
                "Shared with everyone (read-only)",
                value=owner_shares,
                key=f"results-share-{picked[0]}",
                help="Others signed in to this server can open and download it, never change or delete it.",
            )
            if share != owner_shares:
                try:
                    run_access.set_shared(viewer, picked[0], share, root)
                except BenchError as exc:
                    safe_text.error(exc)
                else:
                    st.rerun()
        elif shared and len(picked) == 1:
            owner = runs.loc[runs["run_id"] == picked[0], "owner"].iloc[0]
            safe_text.caption(f"Shared with you by {owner}, read-only.")
        if open_clicked:
            try:
                opened = load_run(paths[picked[0]])
                state.set_current_run(opened)
                # Its clip is one this session may read: choose it too, unless an upload is chosen
                # (that would be let go, and uploading again is costly).
                if state.chosen_upload() is None and state.clip_here(opened):
                    state.set_clip(opened.clip.path)
            except BenchError as exc:
                safe_text.error(exc)
            else:
                safe_text.success(f"Opened {picked[0]}; the Compare and Charts pages now show it.")
        if delete_clicked:
            st.session_state[CONFIRM] = list(picked)

        pending = [r for r in st.session_state.get(CONFIRM, []) if r in ids]
        if pending:
            st.warning(f"Delete {len(pending)} run(s) for good: {', '.join(pending)}? This cannot be undone.")
            yes, no, _ = st.columns([1, 1, 4])
            if yes.button("Yes, delete", type="primary", key="results-delete-yes", width="stretch"):
                deleted, problems = [], []
                for run_id in pending:
                    try:
                        run_access.delete_run(viewer, run_id, root)
                        deleted.append(run_id)
                    except BenchError as exc:
                        problems.append(str(exc))
                    except OSError as exc:  # permissions, a file held open
                        problems.append(
                            f"{run_id} could not be deleted: {exc.strerror or 'the system refused'}."
                        )
                st.session_state.pop(CONFIRM, None)
                if deleted:  # the list changes: show the message after the rerun
                    st.session_state[FLASH] = (f"Deleted {', '.join(deleted)}.", problems)
                    st.rerun()
                for problem in problems:
                    safe_text.error(problem)
            if no.button("Keep them", key="results-delete-no", width="stretch"):
                st.session_state.pop(CONFIRM, None)
                st.rerun()

        if len(picked) >= 2:
            st.subheader("Side by side")
            parts = []
            for run_id in picked:
                try:
                    loaded = load_run(paths[run_id])
                except BenchError as exc:
                    safe_text.error(exc)
                    continue
                table = loaded.summary.copy()
                table.insert(0, "run", run_id)
                table.insert(2, "clip", loaded.clip.name)
                table["machine"] = loaded.environment.get("cpu", "")
                parts.append(table)
            if parts:
                joined = pd.concat(parts, ignore_index=True)
                tables.show_table(
                    joined,
                    {**schema.SUMMARY_COLUMNS, **schema.RUN_ROW_COLUMNS},
                    COMPARE_KEY_COLUMNS,
                    show=("run", "backend", "clip", *COMPARE_COLUMNS, "machine"),
                    key="results-compare",
                )
                st.caption(
                    "One row per configuration per run. Timings from different machines, or "
                    "from runs that overlapped with another, are not comparable one to one."
                )

        if len(picked) == 1:
            st.subheader(f"Take away: {safe_text.md(_run_title(picked[0]))}")
            try:
                chosen = load_run(paths[picked[0]])
            except BenchError as exc:
                safe_text.error(exc)
            else:
                widgets.evidence_download(chosen, key="results-evidence")
                realtime_view.show(chosen, key="results-realtime")
                with st.expander("Name and note"):
                    label = results.read_label(paths[picked[0]])
                    if not run_access.may_change(viewer, picked[0], root):
                        safe_text.caption(f"{label['name'] or picked[0]}: {label['note'] or 'no note'}")
                        st.caption("Only the run's owner can change its name and note.")
                    else:
                        with st.form(f"results-label-{picked[0]}", border=False):
                            new_name = st.text_input("Name", label["name"], max_chars=results.NAME_MAX)
                            new_note = st.text_area("Note", label["note"], max_chars=results.NOTE_MAX)
                            if st.form_submit_button("Save name and note", icon=":material/save:"):
                                try:
                                    results.set_label(picked[0], new_name, new_note, root)
                                except (BenchError, OSError) as exc:
                                    safe_text.error(exc)
                                else:
                                    st.session_state[FLASH] = f"Saved the name and note of {picked[0]}."
                                    st.rerun()
                st.caption("Single files:")
                widgets.downloads(chosen, key="results-dl")
                dl_cols = st.columns(3)
                dl_cols[0].download_button(
                    "Run folder (zip, to import)",
                    _zip(str(paths[picked[0]]), _mtime(paths[picked[0]])),
                    file_name=f"{picked[0]}.zip",
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
                            file_name=f"{picked[0]}-overlay.mp4",
                            mime="video/mp4",
                            key="results-dl-video",
                            on_click="ignore",
                            icon=":material/download:",
                            width="stretch",
                        )
    else:
        st.info("No saved runs yet: run a benchmark on the Run page, or import one below.")

    st.subheader("Saved studies")
    saved_studies = study_view.saved_studies()
    if len(saved_studies):
        tables.show_table(
            saved_studies,
            studies.LIST_COLUMNS,
            show=["study_id", "clips", "backends", "decision", "updated"],
            key="results-studies",
        )
        cols = st.columns([3, 1])
        chosen_study = cols[0].selectbox("Study", list(saved_studies["study_id"]), key="results-study-pick")
        if cols[1].button("Open on the Study page", key="results-study-open", icon=":material/science:"):
            st.session_state[state.OPEN_STUDY] = chosen_study
            widgets.switch_to("study")
    else:
        st.caption("No saved studies yet: a study pools many clips against their references (Study page).")

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
            saved = run_import.import_uploads(uploads, root, owner=viewer.name)
        except BenchError as exc:
            st.session_state[FLASH] = ("", [str(exc)])
        else:
            st.session_state[FLASH] = f"Imported {saved.name}."
        st.rerun()
