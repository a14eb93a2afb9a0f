"""Study: many jumps, each against its reference - the evidence a replace decision needs."""

import streamlit as st

from posebench import backends
from posebench.analysis import per_jump
from posebench.core.errors import BenchError
from posebench.dashboard import (
    event_view,
    per_jump_view,
    safe_text,
    state,
    study_sharing,
    study_view,
    tables,
    verdict_view,
    widgets,
)
from posebench.io import video
from posebench.report import study_charts
from posebench.store import references
from posebench.studies import executor as study_executor
from posebench.studies import pooled, speed_run
from posebench.studies import study as studies


def render() -> None:
    widgets.page_setup(
        "Study",
        "One clip cannot tell a systematic error from noise. A study runs every clip once per backend, "
        "compares each jump with its reference (contact mat, force plate, or frames marked by eye) and "
        "pools the errors the way a validation paper does: bias with its 95 % confidence interval, "
        "limits of agreement, ICC. The verdict rests on those numbers and says how many clips it has.",
    )

    # -- the open study: the answer first ---------------------------------------------------------
    saved = study_view.saved_studies()
    job = state.job_of(state.STUDY_JOB)
    open_id = st.session_state.get(state.OPEN_STUDY)
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

    if len(saved):
        ids = list(saved["study_id"])
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
        result = None
        try:
            result = study_view.open_result(picked)
        except BenchError as exc:
            safe_text.error(f"The study could not be opened: {exc}")
        if result is not None and not len(result.clips):
            st.subheader(safe_text.md(f"Study {result.study.name}"))
            st.info("No job of this study has finished yet: its tables and verdict come when one has.")
            result = None
        if result is not None:
            st.subheader(safe_text.md(f"Study {result.study.name}"))
            if result.verdict is not None:
                verdict_view.headline(result.verdict)
                study_view.show_paired_and_targets(result.verdict)
            elif len(result.study.backends) < 2:
                st.info("A verdict needs two backends: the baseline and a candidate.")
            speed_section(result)
            st.markdown("**What it rests on**")
            st.markdown("\n".join(f"- {safe_text.md(c)}" for c in study_view.caveats(result)))
            st.subheader("Jump by jump")
            per_jump_view.show(per_jump.table(result.clips), key="study-jumps")
            per_jump_view.filmstrips(study_view.filmstrips(result))
            if len(result.clips) and (result.clips["status"] == "ok").any():
                charts = study_charts.all_charts(result.clips, result.summary)
                for name in ("errors_per_clip", "bland_altman"):
                    st.altair_chart(charts[name].chart, width="stretch")
                    st.caption(charts[name].caption)
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
                tables.show_table(
                    result.clips,
                    pooled.CLIP_COLUMNS,
                    show=[
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
                    ],
                    key="study-clips",
                )
            event_view.section(result, lambda job: state.set_job_of(state.STUDY_JOB, job))
            if result.verdict is not None:
                with st.expander("Every criterion of the verdict"):
                    verdict_view.criteria(result.verdict)
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
    else:
        st.info("No study yet: put one together below.")

    # -- building a study ------------------------------------------------------------------------
    st.header("New study, or more clips for one")
    draft = study_view.draft()
    left, right = st.columns([3, 2], gap="large")
    with left:
        name = st.text_input(
            "Study name",
            value=open_id or "",
            key="study-name",
            placeholder="e.g. cmj-team-a",
            help="The same name again adds to that study: clips it already has are not run again.",
        )
        kind = st.radio("Jumps", list(references.KINDS), horizontal=True, key="study-kind")
        public = {p.name: p for p in study_view.public_clips()}
        mine = study_view.own_uploads()
        chosen = st.multiselect(
            "Clips on this server",
            [*mine, *public],
            key="study-public",
            help="Your own uploads from the Clip page are offered first (only to you).",
        )
        uploads = st.file_uploader(
            "Or upload clips", type=["mp4", "mov", "avi", "mkv", "webm"], accept_multiple_files=True
        )
        if st.button("Add these clips", key="study-add", disabled=not (chosen or uploads)):
            added = study_view.add_public([public[n] for n in chosen if n in public], kind)
            added += study_view.add_own_uploads([mine[n] for n in chosen if n in mine], name, kind)
            more, refused = study_view.add_uploads(uploads, name, kind)
            for sentence in refused:
                safe_text.error(sentence)
            st.toast(f"{added + more} clips added")
    with right:
        labels = [c.preset for c, why in backends.list_presets() if why is None]
        default = [b for b in backends.config.STUDY_PAIR if b in labels]
        chosen_backends = st.multiselect(
            "Backends (the first is the baseline)", labels, default=default, key="study-backends"
        )
        min_clips = st.number_input(
            "Fewest clips a 'replace' may rest on",
            1,
            1000,
            studies.DEFAULT_MIN_CLIPS,
            key="study-min-clips",
            help="With fewer clips the verdict says 'not enough evidence' and how many more are needed.",
        )
        margin_ms = st.number_input(
            "Accuracy margin (ms)",
            0.0,
            200.0,
            studies.DEFAULT_MARGIN_MS,
            key="study-margin",
            help="Non-inferiority: the candidate is as accurate when the 95 % CI of its per-clip "
            "|flight-time error| difference from the baseline stays under this margin.",
        )
        speed_choices = study_view.speed_run_choices()
        speed_picked = st.multiselect(
            "Speed evidence (saved runs with rounds, one per machine)",
            list(speed_choices),
            key="study-speed",
            help="The verdict's speed comes from a dedicated run with rounds on a quiet machine; the "
            "study's own timings never decide. Each machine is a deployment target.",
        )

    clips = draft["clips"]
    if clips:
        st.subheader(f"References for {len(clips)} clips")
        edited = st.data_editor(
            study_view.clips_table(clips),
            placeholder=tables.MISSING,
            key="study-refs",
            hide_index=True,
            width="stretch",
            disabled=["clip", "sha256"],
            # the SHA-256 that keeps each reference stays out of view: at 1280 px every column a
            # coach fills in fits without a sideways scroll
            column_order=["clip", "kind", *study_view.REFERENCE_TITLES, "source", "note"],
            column_config={
                "clip": st.column_config.TextColumn("Clip"),
                "kind": st.column_config.SelectboxColumn("Jump", options=list(references.KINDS)),
                **{
                    c: st.column_config.NumberColumn(title, help=references.REFERENCE_COLUMNS[c][1])
                    for c, title in study_view.REFERENCE_TITLES.items()
                },
                "source": st.column_config.TextColumn(
                    "Source", help="Where the reference comes from: contact mat, force plate, by eye"
                ),
                "note": st.column_config.TextColumn("Note"),
                "sha256": st.column_config.TextColumn("Clip's SHA-256", width="small"),
            },
        )
        st.caption(
            "A known flight time (contact mat, force plate, validated app) or the take-off and landing "
            "frames: take-off = first frame with both feet off the ground, landing = first frame with "
            "ground contact after the flight (0-based). References are kept by the clip's SHA-256."
        )
        cols = st.columns(3)
        if cols[0].button("Save references", key="study-refs-save"):
            for problem in study_view.apply_edits(clips, edited):
                safe_text.error(problem)
        imported = cols[1].file_uploader("Import references (CSV)", type=["csv"], key="study-refs-import")
        if imported is not None and cols[1].button("Import", key="study-refs-import-go"):
            try:
                st.toast(
                    f"{study_view.import_references(imported.getvalue(), imported.name)} references imported"
                )
            except BenchError as exc:
                safe_text.error(str(exc))
        cols[2].download_button(
            "Export references (CSV)",
            references.export_csv(study_view.reference_root()),
            file_name="references.csv",
            mime="text/csv",
            key="study-refs-export",
        )

        with st.expander("Mark take-off and landing frame by frame"):
            readable = [c for c in clips if c.sha256]
            if readable:
                pick = st.selectbox("Clip", [c.name for c in readable], key="scrub-clip")
                clip = next(c for c in readable if c.name == pick)
                frames = max(1, video.probe(clip.path).frames)
                start = min(frames - 1, frames // 2)
                if "scrub-frame" not in st.session_state:
                    st.session_state["scrub-frame"] = start
                prev, slider, nxt = st.columns([1, 8, 1], vertical_alignment="bottom")
                prev.button(
                    "◀",
                    key="scrub-prev",
                    help="Previous frame",
                    on_click=study_view.step_frame,
                    args=("scrub-frame", -1, frames - 1),
                )
                frame = slider.slider(
                    "Frame (0-based)",
                    0,
                    frames - 1,
                    key="scrub-frame",
                    help="Click the slider, then the arrow keys step one frame at a time.",
                )
                nxt.button(
                    "▶",
                    key="scrub-next",
                    help="Next frame",
                    on_click=study_view.step_frame,
                    args=("scrub-frame", 1, frames - 1),
                )
                zoom = st.select_slider(
                    "Zoom on the feet",
                    options=[1.0, 0.6, 0.4, 0.25],
                    value=study_view.FEET_SHARE,
                    format_func=lambda s: "whole frame" if s == 1.0 else f"{1 / s:.1f}× on the feet",
                    key="scrub-zoom",
                )
                shown = study_view.neighbours(clip.path, int(frame), frames, float(zoom))
                for col, (index, image) in zip(st.columns(len(shown)), shown):
                    col.image(
                        image,
                        caption=f"frame {index}" + (" (this one)" if index == int(frame) else ""),
                        width="stretch",
                    )
                a, b = st.columns(2)
                if a.button("Last ground contact", key="scrub-takeoff", help="Take-off = the next frame"):
                    problem = study_view.set_reference_frame(clip, "takeoff_frame", int(frame) + 1)
                    if problem:
                        safe_text.error(problem)
                    else:
                        st.toast(f"take-off frame {int(frame) + 1}")
                        st.rerun()  # the references table above shows it on this click
                if b.button("First landing contact", key="scrub-landing", help="Landing = this frame"):
                    problem = study_view.set_reference_frame(clip, "landing_frame", int(frame))
                    if problem:
                        safe_text.error(problem)
                    else:
                        st.toast(f"landing frame {int(frame)}")
                        st.rerun()  # the references table above shows it on this click

        busy = state.busy_reason()
        chosen_events = event_view.choose(chosen_backends)
        run_it = st.button(
            f"Run the study ({len(clips)} clips × {len(chosen_backends)} backends)",
            type="primary",
            key="study-run",
            disabled=bool(busy) or not chosen_backends or not name.strip(),
            help=busy or ("Give the study a name first." if not name.strip() else None),
        )
        st.caption(study_executor.where_jobs_run() + " See docs/scale.md to use a Ray cluster.")
        if run_it:
            try:
                speed_runs = [speed_choices[k] for k in speed_picked]
                study = study_view.build(
                    name, clips, chosen_backends, int(min_clips), margin_ms, speed_runs, chosen_events
                )
                state.set_job_of(state.STUDY_JOB, study_view.start(study))
                st.rerun()
            except BenchError as exc:
                safe_text.error(str(exc))


def speed_section(result: studies.StudyResult) -> None:
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
