"""Page 2: pick backends and settings, run them on the clip, watch progress, see the results."""

import streamlit as st

from posebench.dashboard import auth, background_jobs, run_form, safe_text, state, widgets


def render() -> None:
    widgets.page_setup(
        "Run",
        "Runs the chosen pose models over the same frames of your clip, one after another so they "
        "never slow each other down, in a few rounds whose order rotates, and measures how fast each "
        "one is. The timing runs in its own worker process, as on the command line.",
        "the speed (frames per second, higher is better) and the share of frames with a person in "
        "the results table. The defaults compare MediaPipe with RTMPose out of the box; add the "
        "tuned RTMPose for a fair comparison.",
    )

    info = widgets.need_clip()
    upload = state.chosen_upload()  # an upload may need downscaling (4K and up)
    downscale = (
        f" Frames are downscaled to {upload.max_side} px on the longer side for the models."
        if upload is not None and upload.max_side
        else ""
    )
    st.caption(
        f"Clip **{safe_text.md(info.name)}**: {info.width}×{info.height} px, {info.fps:.2f} frames/s, "
        f"{info.frames} frames ({info.duration_s:.1f} s).{downscale}"
    )
    running = state.job()
    busy = running is not None and not running.finished

    configs = run_form.with_settings(run_form.backend_choice(busy))
    configs += run_form.more_configurations()
    options = run_form.frame_options(info, upload)
    check = run_form.readiness(options, info, configs, busy)
    for error in check.errors:
        safe_text.error(error)
    for warning in check.warnings:
        st.warning(warning)
    label = run_form.run_label()

    left, right = st.columns([1, 3])
    start = left.button(
        "Run benchmark",
        type="primary",
        disabled=not check.ready,
        key="run-start",
        help=check.other,
        icon=":material/play_arrow:",
        width="stretch",
    )
    kept = (
        f" (1 frame in {options.stride} kept of the first {options.max_frames})" if options.stride > 1 else ""
    )
    right.caption(
        f"{len(configs)} configuration(s) × {check.processed} frames{kept} × {options.rounds} round(s); the "
        f"first {options.warmup} frames of each pass are warm-up. The run starts in its own worker "
        "process, which loads the models afresh (a few seconds)."
    )
    if start:
        job = background_jobs.RunJob(
            info.path, configs, options, keep=upload, owner=auth.viewer().name, label=label
        )
        state.set_job(job.start())
        st.rerun()

    widgets.job_progress(
        state.JOB,
        "Stops the worker after the current frame; what was measured is kept.",
        title="Running",
        cancelling="Cancelling after the current frame: the worker saves what it measured and stops…",
    )
    finished = state.job()
    if finished is not None and finished.finished:
        if finished.error:
            safe_text.error(f"The run did not start or stopped: {finished.error}")
        if finished.save_error:
            safe_text.error(finished.save_error)
    run_form.finished_run(finished, state.current_run())

    earlier = state.history()
    if earlier:
        with st.expander(f"Earlier runs in this session ({len(earlier)})"):
            for old in earlier:
                st.markdown(widgets.run_caption(old))
                widgets.summary_table(old.summary, key=f"run-old-{old.run_id}")
