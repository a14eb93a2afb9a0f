"""Small building blocks the pages share: page set-up, tables with units, downloads."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from posebench.core.errors import BenchError
from posebench.engine import results
from posebench.engine.summary import SUMMARY_COLUMNS
from posebench.io import files

from . import auth, registry, safe_text, state

# Columns shown by default in a run's summary (the rest behind "all columns").
KEY_COLUMNS = (
    "backend",
    "status",
    "frames",
    "fps",
    "latency_ms_mean",
    "latency_ms_p95",
    "model_ms_mean",
    "detection_rate",
    "init_ms",
    "init_cached",
    "cold_init_ms",
    "peak_rss_mb",
    "error",
)
LOAD_COLUMNS = ("backend", "init_ms", "init_cached", "cold_init_ms")
# Plain-language headers for the columns a reviewer reads most; the rest show "name (unit)".
COLUMN_TITLES = {
    "backend": "configuration",
    "frames": "timed frames",
    "fps": "speed (frames/s)",
    "fps_model": "model-only speed (frames/s)",
    "latency_ms_mean": "mean time per frame (ms)",
    "latency_ms_p95": "95th percentile (ms)",
    "model_ms_mean": "model time per frame (ms)",
    "detection_rate": "frames with a person (%)",
    "init_ms": "model load (ms)",
    "init_cached": "from cache",
    "cold_init_ms": "first load (ms)",
    "peak_rss_mb": "peak memory (MB)",
}
# unit -> Streamlit number format
UNIT_FORMAT = {
    "ms": "%.1f",
    "frames/s": "%.1f",
    "MB": "%.0f",
    "share": "percent",
    "frames": "%d",
    "runs": "%d",
    "people": "%.2f",
}


def page_setup(title: str, intro: str = "") -> None:
    """Common top of every page: config, finished-run pickup, title."""
    st.set_page_config(
        page_title=f"{title} · PoseBench", page_icon=":material/directions_run:", layout="wide"
    )
    state.collect_finished_job()  # the one place: every page, the start page too, calls this
    st.title(title)
    if intro:
        st.caption(intro)


def sidebar_status() -> None:
    """What is chosen and running, under the page list (drawn by the router)."""
    with st.sidebar:
        info = st.session_state.get(state.CLIP_INFO)
        st.caption(f"**Clip:** {safe_text.md(info.name)}" if info else "**Clip:** none chosen yet")
        run = state.current_run()
        st.caption(f"**Current run:** {safe_text.md(run.run_id)}" if run else "**Current run:** none yet")
        for running in state.running_jobs():
            what = getattr(running, "what", None) or "a benchmark"
            st.caption(f":orange[{what[:1].upper()}{what[1:]} is running]")


def job_progress(key: str, cancel_help: str, poll_s: float = 0.5) -> None:
    """A progress bar and a Cancel button for the session's background job under ``key``.

    Polls while the job runs and reruns the whole page once it has finished, so the
    page picks up the result (``state.collect_finished_job``).
    """

    @st.fragment(run_every=poll_s)
    def panel() -> None:
        job = state.job_of(key)
        if job is None:
            return
        if job.finished:
            if not job.collected:
                st.rerun()
            return
        fraction, text = job.overall()
        st.progress(fraction, text=text)
        st.caption(f"Running for {job.elapsed_s():.0f} s; you can use other pages meanwhile.")
        if job.cancelling:
            st.warning("Cancelling…")
        else:
            st.button(
                "Cancel", key=f"{key}-cancel", on_click=job.cancel, icon=":material/stop:", help=cancel_help
            )

    job = state.job_of(key)
    if job is not None and not job.finished:
        panel()


def page_link(name: str) -> None:
    page = registry.BY_KEY[name]
    st.page_link(page.file, label=page.label, icon=page.icon)


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


def column_config(columns) -> dict:
    """``st.column_config`` for summary columns: unit in the header, meaning as help."""
    config = {}
    for name in columns:
        unit, meaning = SUMMARY_COLUMNS.get(name, ("", ""))
        title = f"{name} ({unit})" if unit and unit != "share" else name
        if unit == "share":
            title = f"{name} (%)"
        title = COLUMN_TITLES.get(name, title)
        if unit in UNIT_FORMAT:
            config[name] = st.column_config.NumberColumn(title, help=meaning, format=UNIT_FORMAT[unit])
        elif name == "init_cached":
            config[name] = st.column_config.CheckboxColumn(title, help=meaning)
        else:
            config[name] = st.column_config.TextColumn(title, help=meaning)
    return config


def summary_table(
    summary: pd.DataFrame, columns=KEY_COLUMNS, key: str | None = None, extra_columns: dict | None = None
) -> None:
    """A summary with units in the headers and each column's meaning on hover."""
    shown = [c for c in columns if c in summary.columns]
    if "error" in shown and not summary["error"].fillna("").astype(str).str.len().any():
        shown.remove("error")
    config = column_config(shown)
    config.update(extra_columns or {})
    st.dataframe(summary[shown], column_config=config, hide_index=True, key=key, width="stretch")


def load_times(run) -> None:
    """Cold versus cached model-load time, so the saving of the cache is visible."""
    data = run.summary[list(LOAD_COLUMNS)].copy()
    data["saving_ms"] = (data["cold_init_ms"] - data["init_ms"]).where(data["init_cached"])
    config = column_config(LOAD_COLUMNS)
    config["init_ms"] = st.column_config.NumberColumn(
        "load this run (ms)", format="%.1f", help=SUMMARY_COLUMNS["init_ms"][1]
    )
    config["cold_init_ms"] = st.column_config.NumberColumn(
        "first, uncached load (ms)", format="%.1f", help=SUMMARY_COLUMNS["cold_init_ms"][1]
    )
    config["init_cached"] = st.column_config.CheckboxColumn(
        "from cache", help=SUMMARY_COLUMNS["init_cached"][1]
    )
    config["saving_ms"] = st.column_config.NumberColumn(
        "saved by the cache (ms)",
        format="%.1f",
        help="First load minus this run's load, when the models came from the cache.",
    )
    st.dataframe(data, column_config=config, hide_index=True, width="stretch")
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
    return json.dumps(meta, indent=2, default=results._json_default).encode("utf-8")


def downloads(run, key: str = "dl") -> None:
    """Download buttons for the run's tables."""
    cols = st.columns(3)
    downloads = (
        (
            "Per-frame CSV",
            files.to_csv_bytes(run.frames),
            f"{run.run_id}-frames.csv",
            "text/csv",
            "One row per processed frame per backend: timings in ms, landmarks in pixels.",
        ),
        (
            "Summary CSV",
            files.to_csv_bytes(run.summary),
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


def usable_backends(run) -> list[str]:
    """Labels of the run's backends that ran ("ok") and have timed frames."""
    summary = run.summary
    if not len(summary):
        return []
    ok = summary["status"] == "ok" if "status" in summary else True
    timed = summary["frames"].fillna(0) > 0 if "frames" in summary else True
    return summary.loc[ok & timed, "backend"].tolist()


def why_not_comparable(run, baseline: str, candidate: str | None = None) -> str | None:
    """One sentence when the run cannot give a fair comparison, else None."""
    usable = usable_backends(run)
    if len(usable) < 2:
        return (
            f"Only {len(usable)} of the run's {len(run.summary)} backends ran and timed "
            "frames; a comparison needs two, so run the benchmark again with backends "
            "that work here."
        )
    for role, label in (("baseline", baseline), ("candidate", candidate)):
        if label is not None and label not in usable:
            return (
                f"The {role} {label} failed or has no timed frames in this run; pick one "
                f"that ran ({', '.join(usable)})."
            )
    return None
