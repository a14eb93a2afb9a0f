"""The open study on the Study page, answer first: its job's progress, the saved study picked,
its verdict, speed, what it rests on, jump by jump, pooled tables and its files. The page
(``pages/study.py``) puts the sections in order; the logic is in ``study_view``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from posebench.analysis import per_jump
from posebench.core.errors import BenchError
from posebench.dashboard import (
    per_jump_view,
    safe_text,
    state,
    study_sharing,
    study_view,
    tables,
    verdict_view,
    widgets,
)
from posebench.decision import verdict_text
from posebench.decision.headline_verdict import TARGET_COLUMNS
from posebench.report import study_charts
from posebench.studies import pooled, speed_run, study_folder

CLIP_SHOWN = [  # the columns of the clip × backend table shown by default
    "clip",
    "backend",
    "status",
    "error",
    "flight_time_s",
    "reference_flight_time_s",
    "flight_time_error_ms",
    "takeoff_error_frames",
    "landing_error_frames",
    "flight_time_diff_ms",
    "detection_rate",
    "fps",
    "host",
]


def job_status() -> None:
    """The study job of this session: running (with progress and cancel), or how it stopped."""
    job = state.job_of(state.STUDY_JOB)
    if job is not None and not job.finished:
        doing = "is measuring its speed" if job.info.get("speed_for") else "is running"
        st.info(safe_text.md(f"Study {job.info['study_id']} {doing}."))
    measuring = job is not None and bool(job.info.get("speed_for"))
    widgets.job_progress(
        state.STUDY_JOB,
        "Stops the speed run after the current frame; the study keeps its earlier speed evidence."
        if measuring
        else "Stops after the current job; finished jobs are kept for next time.",
    )
    if job is not None and job.finished and job.error:
        safe_text.error(f"The study stopped: {job.error}")
    if job is not None and job.finished and getattr(job, "save_error", None):
        safe_text.error(job.save_error)


def pick(ids: list[str], open_id: str | None) -> study_folder.StudyResult | None:
    """The saved study to show (the one just run or opened from Results first); None when it
    cannot be opened or no job of it has finished yet (each says so)."""
    if open_id in ids and st.session_state.get("study-open-applied") != open_id:
        st.session_state["study-open"] = open_id  # a study just run, or opened from Results
        st.session_state["study-open-applied"] = open_id
    picked = st.selectbox(
        "Saved study",
        ids,
        index=ids.index(open_id) if open_id in ids else 0,
        key="study-open",
        help="Studies are kept under their name; running one again computes only what is new.",
    )
    study_sharing.render(picked)  # share it (owner), or "shared with you by ..., read-only"
    try:
        result = study_view.open_result(picked)
    except BenchError as exc:
        safe_text.error(f"The study could not be opened: {exc}")
        return None
    if not len(result.clips):
        st.subheader(safe_text.md(f"Study {result.study.name}"))
        st.info("No job of this study has finished yet: its tables and verdict come when one has.")
        return None
    return result


def verdict(result: study_folder.StudyResult) -> None:
    """The headline verdict with the paired accuracy and one answer per deployment target."""
    if result.verdict is not None:
        verdict_view.headline(result.verdict)
        paired_and_targets(result.verdict)
    elif len(result.study.backends) < 2:
        st.info("A verdict needs two backends: the baseline and a candidate.")


def paired_and_targets(verdict) -> None:
    """The paired accuracy (with its athletes) and the matrix, one row per deployment target."""
    lines = verdict_text.paired_lines(verdict)
    if lines:
        st.markdown("**Paired accuracy** (every clip judged by both backends)")
        st.markdown("\n".join(f"- {safe_text.md(line)}" for line in lines))
    if verdict.targets:
        st.markdown("**One answer per deployment target** (speed depends on the machine; accuracy is shared)")
        frame = pd.DataFrame(verdict.targets)
        tables.show_table(frame, TARGET_COLUMNS, show=list(verdict_text.TARGET_SHOWN), key="study-targets")


def speed_section(result: study_folder.StudyResult) -> None:
    """Measure the study's speed here and now: a run with rounds of its backends on one of its
    clips, in a worker process; it then decides the speed criterion for this machine."""
    readable = speed_run.readable_clips(result.study)
    with st.expander("Measure the speed now", expanded=not result.study.speed_runs):
        st.caption(
            "The study's own timings never decide. This runs every backend of the study on one of "
            "its clips in interleaved rounds, in a worker process, saves it as a run (listed on the "
            "Results page) and uses it as this study's speed evidence for this machine. Measured "
            "while the machine is busy, it is saved but cannot decide: the verdict then says to "
            "re-measure on a quiet machine."
        )
        if not readable:
            st.info("None of the study's clips is on this server, so its speed cannot be measured here.")
            return
        cols = st.columns(2)
        clip = cols[0].selectbox("Clip to time", [c.name for c in readable], key="study-speed-clip")
        rounds = cols[1].number_input(
            "Rounds",
            2,
            20,
            speed_run.DEFAULT_ROUNDS,
            key="study-speed-rounds",
            help="Each backend runs the clip this many times, interleaved; the spread of the rounds "
            "decides whether the speed holds.",
        )
        busy = state.busy_reason()
        if st.button("Measure the speed now", key="study-speed-measure", disabled=bool(busy), help=busy):
            try:
                state.set_job_of(state.STUDY_JOB, study_view.measure_speed(result.study, clip, int(rounds)))
                st.rerun()
            except BenchError as exc:
                safe_text.error(str(exc))


def rests_on(result: study_folder.StudyResult) -> None:
    st.markdown("**What it rests on**")
    st.markdown("\n".join(f"- {safe_text.md(c)}" for c in study_view.caveats(result)))


def jump_by_jump(result: study_folder.StudyResult) -> None:
    """Every jump against its reference, its filmstrip, and the error charts."""
    st.subheader("Jump by jump")
    per_jump_view.show(per_jump.table(result.clips), key="study-jumps")
    per_jump_view.filmstrips(study_view.filmstrips(result))
    if len(result.clips) and (result.clips["status"] == "ok").any():
        charts = study_charts.all_charts(result.clips, result.summary)
        for name in ("errors_per_clip", "bland_altman"):
            st.altair_chart(charts[name].chart, width="stretch")
            st.caption(charts[name].caption)


def pooled_tables(result: study_folder.StudyResult) -> None:
    """The pooled statistics per model and every clip × backend row, each in an expander."""
    with st.expander("Pooled statistics per model"):
        tables.show_table(
            result.summary, pooled.SUMMARY_COLUMNS, show=pooled.HEADLINE_COLUMNS, key="study-summary"
        )
        st.caption(
            "Pooled per backend over the clips with a jump and a reference. Bias = mean of "
            "(backend - reference), positive = flight too long; limits of agreement = bias ± 1.96 "
            "SD (Bland & Altman); ICC(2,1) absolute agreement; take-off/landing bias in frames "
            "(positive = late); the offset is the calibration that would cancel the take-off "
            "bias. Hover a header for its meaning; all columns are in study_summary.csv."
        )
    with st.expander(f"Every clip × backend ({len(result.clips)} rows)"):
        tables.show_table(result.clips, pooled.CLIP_COLUMNS, show=CLIP_SHOWN, key="study-clips")


def criteria(result: study_folder.StudyResult) -> None:
    if result.verdict is not None:
        with st.expander("Every criterion of the verdict"):
            verdict_view.criteria(result.verdict)


def download_buttons(result: study_folder.StudyResult) -> None:
    """A button per file the study wrote, and the evidence report (zip), prepared on demand."""
    cols = st.columns(3)
    for i, (name, data, mime) in enumerate(study_view.downloads(result)):
        cols[i % 3].download_button(name, data, file_name=name, mime=mime, key=f"study-dl-{name}")
    zipped = st.session_state.get("study-zip")
    stamp = study_view.result_stamp(result)
    if zipped is None or zipped[0] != stamp:
        if st.button("Prepare the evidence report (zip)", key="study-zip-make"):
            with st.spinner("Rendering the charts..."):
                st.session_state["study-zip"] = (stamp, study_view.evidence_zip(result))
            st.rerun()
    else:
        st.download_button(
            "Evidence report (zip: one-page offline report, tables, filmstrips, verdict)",
            zipped[1],
            file_name=f"{result.study.study_id}-evidence.zip",
            mime="application/zip",
            key="study-zip-dl",
        )
