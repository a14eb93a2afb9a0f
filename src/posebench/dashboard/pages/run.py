"""Page 2: pick backends and settings, run them on the clip, watch progress, see the results."""

import streamlit as st

from posebench import backends
from posebench.backends.config import PRESET_HELP, PRESET_WORDS, override, parse
from posebench.backends.config import describe as cfg_words
from posebench.core.errors import BenchError
from posebench.dashboard import auth, jobs, safe_text, state, widgets
from posebench.dashboard.settings_form import settings_form
from posebench.store import run_record


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

    FAMILY_TITLES = {
        family.name: family.title for family in backends.estimator_families()
    }  # registered families
    DEFAULT_FRAME_CAP = 300
    defaults = run_record.RunOptions()  # the options' own defaults; rounds: the front ends'

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

    # -- backends ------------------------------------------------------------------------
    st.subheader("Backends")
    presets = backends.list_presets()
    chosen: list = []
    family_cols = st.columns(len(FAMILY_TITLES), gap="large")
    for col, (family, title) in zip(family_cols, FAMILY_TITLES.items()):
        with col:
            st.markdown(f"**{title}**")
            for config, reason in presets:
                if config.family != family:
                    continue
                label = f"{config.preset} (not available here)" if reason else config.preset
                use = st.checkbox(
                    label,
                    value=config.preset in backends.DEFAULT_COMPARISON and not reason,
                    disabled=bool(reason) or busy,
                    key=f"use-{config.preset}",
                    persist_state=state.KEEP,
                    help=f"Not available here: {reason}."
                    if reason
                    else f"{PRESET_WORDS.get(config.preset, '')}. "
                    f"In detail: {PRESET_HELP.get(config.preset)}.",
                )
                if use and not reason:
                    chosen.append(config)
    unavailable = [(c.preset, reason) for c, reason in presets if reason]
    if unavailable:
        with st.expander(f"Why {len(unavailable)} backend(s) are not available here"):
            for preset, reason in unavailable:
                st.markdown(f"- **{preset}**: {reason}.")

    configs = []
    if chosen:
        st.subheader("What each one does")
    for base in chosen:
        with st.container(border=True):
            try:
                config = override(base, settings_form(base, f"lever-{base.preset}"))
            except BenchError as exc:
                safe_text.error(exc)
                continue
            if config != base:
                st.caption(f"Changed: {cfg_words(config)} · runs as `{config.spec()}`")
            reason = backends.why_unavailable(config)
            if reason:
                safe_text.error(f"{config.spec()} cannot run here: {reason}.")
                continue
            configs.append(config)

    with st.expander("More configurations (same preset with other settings)"):
        extra = st.text_area(
            "One per line, as PRESET:key=value,key=value",
            key="run-extra-specs",
            persist_state=state.KEEP,
            placeholder="rtmpose-lightweight:det_every=0,person=tracked",
            help="Compare settings of one preset, e.g. the detector on every frame against only when "
            "tracking is lost. The same form as the command line's --backend.",
        )
        for line in filter(None, (ln.strip() for ln in extra.splitlines())):
            try:
                config = parse(line)
            except BenchError as exc:
                safe_text.error(exc)
                continue
            reason = backends.why_unavailable(config)
            if reason:
                safe_text.error(f"{line} cannot run here: {reason}.")
            else:
                configs.append(config)

    # -- frames ----------------------------------------------------------------------------
    st.subheader("Frames")
    if st.session_state.get("run-frames", 0) > info.frames:  # kept from a longer clip
        st.session_state["run-frames"] = info.frames
    cols = st.columns(4)
    max_frames = cols[0].number_input(
        "Frames to process",
        1,
        info.frames,
        min(info.frames, DEFAULT_FRAME_CAP),
        1,
        key="run-frames",
        persist_state=state.KEEP,
        help="From the start of the clip, per backend (warm-up included).",
    )
    warmup = cols[1].number_input(
        "Warm-up frames",
        0,
        1000,
        defaults.warmup,
        1,
        key="run-warmup",
        persist_state=state.KEEP,
        help="The first frames of each backend are processed but left out of the timings "
        "(caches and thread pools settle).",
    )
    stride = cols[2].number_input(
        "Use every n-th frame",
        1,
        100,
        defaults.stride,
        1,
        key="run-stride",
        persist_state=state.KEEP,
        help="1 = every frame.",
    )
    max_side = cols[3].number_input(
        "Downscale to (px, 0 = off)",
        0,
        4096,
        0,
        16,
        key="run-max-side",
        persist_state=state.KEEP,
        help="Longest side of the frames the models see, at least 32; 0 keeps the clip's size.",
    )
    cols = st.columns(4)
    rounds = cols[2].number_input(
        "Rounds",
        1,
        run_record.MAX_ROUNDS,
        run_record.DEFAULT_ROUNDS,
        1,
        key="run-rounds",
        persist_state=state.KEEP,
        help="Each backend runs the frames this many times, interleaved with the others and in a "
        "rotating order; speed is the median round, with the slowest and fastest shown. Landmarks "
        "come from the first round (later rounds give the same).",
    )
    preload = cols[0].toggle(
        "Model-only timing",
        False,
        key="run-preload",
        persist_state=state.KEEP,
        help="Decode all frames before timing, so decode time is 0.",
    )
    background = cols[1].toggle(
        "Decode in background",
        False,
        key="run-background",
        persist_state=state.KEEP,
        help="Decode the next frame in a thread while the model runs.",
    )
    options = run_record.RunOptions(
        max_frames=int(max_frames),
        warmup=int(warmup),
        stride=int(stride),
        max_side=int(max_side) or None,
        preload=preload,
        background_decode=background,
        rounds=int(rounds),
    )
    if upload is not None:
        options = upload.apply(options)
    processed = options.plan(info).frames  # the engine's count: stride and caps included
    timed = processed - int(warmup)
    valid = True
    try:
        options.check()
    except BenchError as exc:
        safe_text.error(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        valid = False
    if valid and timed <= 0:
        st.error(
            f"{warmup} warm-up frames leave no timed frames of the {processed} processed; "
            "lower the warm-up or process more frames."
        )

    labels = [c.display for c in configs]
    duplicate = len(set(labels)) != len(labels)  # the engine refuses this too, once started
    if duplicate:
        st.error("Two configurations are the same; change a setting of one of them.")
    other = None if busy else state.busy_reason()  # the Explorer sweep or a jump analysis
    if other:
        st.warning(other)
    ready = bool(configs) and valid and timed > 0 and not duplicate and not busy and not other
    if not configs and not busy:
        st.warning("Choose at least one backend that can run here.")

    with st.expander("Name this run and add a note (optional)"):
        name_col, note_col = st.columns([1, 2])
        run_name = name_col.text_input(
            "Name",
            key="run-name",
            max_chars=80,
            placeholder="e.g. CMJ, Anna, 3 March",
            help="Shown on the Results page and in the evidence report instead of the run's id.",
        )
        run_note = note_col.text_area(
            "Note",
            key="run-note",
            max_chars=2000,
            height=68,
            placeholder="What was filmed, how, anything a reader should know",
        )

    left, right = st.columns([1, 3])
    start = left.button(
        "Run benchmark",
        type="primary",
        disabled=not ready,
        key="run-start",
        help=other,
        icon=":material/play_arrow:",
        width="stretch",
    )
    kept = f" (1 frame in {int(stride)} kept of the first {int(max_frames)})" if stride > 1 else ""
    right.caption(
        f"{len(configs)} configuration(s) × {processed} frames{kept} × {int(rounds)} round(s); the "
        f"first {int(warmup)} frames of each pass are warm-up. The run starts in its own worker "
        "process, which loads the models afresh (a few seconds)."
    )
    if start:
        run_label = {"name": " ".join(run_name.split()), "note": run_note.strip()}
        state.set_job(
            jobs.RunJob(
                info.path,
                configs,
                options,
                keep=upload,
                owner=auth.viewer().name,
                label=run_label,
            ).start()
        )
        st.rerun()

    # -- progress ---------------------------------------------------------------------------
    widgets.job_progress(
        state.JOB,
        "Stops the worker after the current frame; what was measured is kept.",
        title="Running",
        cancelling="Cancelling after the current frame: the worker saves what it measured and stops…",
    )

    # -- results -------------------------------------------------------------------------------
    finished = state.job()
    run = state.current_run()
    if finished is not None and finished.finished:
        if finished.error:
            safe_text.error(f"The run did not start or stopped: {finished.error}")
        if finished.save_error:
            safe_text.error(finished.save_error)
    if run is not None:
        st.subheader("Results")
        st.markdown(widgets.run_caption(run))
        if finished is not None and finished.run is run and finished.saved_to:
            st.caption(
                "Saved; it is listed on the Results page."
                if auth.shared_mode()
                else f"Saved to `{finished.saved_to}`; it is listed on the Results page."
            )
        widgets.failures(run)
        notices = (run.extra or {}).get("notices")  # caps, downscale, the clip, overlapping runs
        if notices is None and run.overlapped:  # a run saved before runs had notices
            notices = ["Another run shared the CPU during this one, so its timings are not comparable."]
        for notice in notices or []:
            safe_text.info(notice, icon=":material/info:")
        widgets.summary_table(run.summary, key="run-summary")
        st.caption("Hover a column header for what it means. Timings leave out the warm-up frames.")
        with st.expander("Model load time: cold versus cached"):
            widgets.load_times(run)
        widgets.evidence_download(run, key="run-evidence")
        widgets.downloads(run, key="run-dl")
        cols = st.columns(4)
        with cols[0]:
            widgets.page_link("compare")
        with cols[1]:
            widgets.page_link("charts")

    earlier = state.history()
    if earlier:
        with st.expander(f"Earlier runs in this session ({len(earlier)})"):
            for old in earlier:
                st.markdown(widgets.run_caption(old))
                widgets.summary_table(old.summary, key=f"run-old-{old.run_id}")
