"""The real-time table of a run (``posebench realtime``) on the Results page, and the Live
page's section that measures it on the chosen clip (``section``)."""

from __future__ import annotations

import streamlit as st

from posebench import backends
from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.dashboard import auth, background_jobs, safe_text, state, tables, widgets
from posebench.report.run_tables import REALTIME_KEY
from posebench.store import sidecars
from posebench.store.run_record import RunOptions


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
        if isinstance(row.notes, str) and "not measured reliably" in row.notes:
            st.caption(f"{row.backend} at {row.camera_fps:g} fps: {row.notes}.")
    tables.show_table(table, schema.REALTIME_COLUMNS, REALTIME_KEY, key=key)
    st.caption(
        "A simulated camera released the clip's frames at the camera rate; each backend, alone "
        "in a worker process, always took the newest frame and older waiting frames were "
        "dropped. Figures measured on a busy machine are not reliable (see notes)."
    )
    return True


# -- "Can it keep up with a camera?": the measurement from the dashboard --------------------
RATES = (30.0, 60.0, 120.0)  # the camera rates users ask about (studies.realtime_run.COMMON_RATES)


def section(choices: list[str], default: list[str]) -> None:
    """Measure on the chosen clip whether each backend keeps up with a 30, 60 or 120 fps camera
    (``posebench realtime``), in a worker process through the server's queue; the answer and
    the table when it is done. Quiet while it runs: one progress bar and a Cancel button."""
    st.subheader("Can it keep up with a camera?")
    st.caption(
        "A simulated camera plays your chosen clip at the camera's rate; each backend, alone on "
        "this machine, always takes the newest frame and the frames it had no time for are "
        "dropped, as a live app does. The same as `python -m posebench realtime CLIP --fps 30`."
    )
    try:
        info = state.clip_info()
    except BenchError as exc:
        safe_text.error(exc)
        info = None
    if info is None:
        st.info("Choose a clip on the Clip page to measure it.")
        return
    cols = st.columns([3, 2, 1])
    picked = cols[0].multiselect("Backends to measure", choices, default=default, key="rt-backends")
    rates = cols[1].multiselect(
        "Camera rates (frames/s)",
        list(RATES),
        default=[30.0, 60.0],
        format_func="{:g}".format,
        key="rt-rates",
    )
    frames = cols[2].number_input(
        "Frames", 1, max(1, info.frames), min(info.frames, 300), key="rt-frames", help="from the clip's start"
    )
    busy = state.busy_reason()
    if busy:
        st.warning(busy)
    if st.button(
        "Measure",
        key="rt-go",
        icon=":material/speed:",
        disabled=bool(busy) or not picked or not rates,
        help=busy or f"on {info.name}: {len(picked)} backend(s) at {len(rates)} camera rate(s)",
    ):
        try:
            configs = [backends.parse(spec) for spec in picked]
        except BenchError as exc:
            safe_text.error(exc)
        else:
            options = RunOptions(max_frames=int(frames), warmup=min(10, int(frames)))
            job = background_jobs.RealtimeJob(
                info.path,
                configs,
                sorted(rates),
                options,
                keep=state.chosen_upload(),
                owner=auth.viewer().name,
            )
            state.set_job_of(state.REALTIME_JOB, job.start())
            st.rerun()
    widgets.job_progress(
        state.REALTIME_JOB,
        "Stops after the current frame; the worker processes end and nothing of this measurement is saved.",
        title=None,
    )
    job = state.job_of(state.REALTIME_JOB)
    if job is None or not job.finished or job.clip_path != info.path:
        return
    if job.error:
        (st.warning if job.cancelled else st.error)(f"The real-time measurement stopped: {job.error}")
        return
    if job.save_error:
        st.warning(job.save_error)
    if job.run is not None:
        show(job.run, key="rt-table")
