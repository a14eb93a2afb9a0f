"""The Run page's sections: which backends and settings, which frames, whether it can start,
and the finished run. The page (``pages/run.py``) only puts them in order."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from posebench import backends
from posebench.backends.backend_config import (
    PRESET_HELP,
    PRESET_WORDS,
    BackendConfig,
    describe,
    override,
    parse,
)
from posebench.core.errors import BenchError
from posebench.dashboard import auth, safe_text, state, widgets
from posebench.dashboard.settings_form import settings_form
from posebench.store import run_record

DEFAULT_FRAME_CAP = 300  # frames processed by default of a long clip ...
WHOLE_CLIP_UP_TO = 900  # ... while a clip up to this long (30 s at 30 frames/s) is run whole:
# the jump metrics (Accuracy, Scorecard) need every frame


def family_titles() -> dict[str, str]:
    """Family name -> title, for every registered estimator family."""
    return {family.name: family.title for family in backends.estimator_families()}


def backend_choice(busy: bool) -> list[BackendConfig]:
    """One column of preset checkboxes per family; the presets ticked that can run here."""
    st.subheader("Backends")
    presets = backends.list_presets()
    titles = family_titles()
    chosen: list = []
    family_cols = st.columns(len(titles), gap="large")
    for col, (family, title) in zip(family_cols, titles.items()):
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
    return chosen


def with_settings(chosen: list[BackendConfig]) -> list[BackendConfig]:
    """Each chosen preset with the settings typed in its form, when it can run here."""
    configs: list[BackendConfig] = []
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
                st.caption(f"Changed: {describe(config)} · runs as `{config.spec()}`")
            reason = backends.why_unavailable(config)
            if reason:
                safe_text.error(f"{config.spec()} cannot run here: {reason}.")
                continue
            configs.append(config)
    return configs


def more_configurations() -> list[BackendConfig]:
    """The extra ``PRESET:key=value`` lines that parse and can run here."""
    configs: list[BackendConfig] = []
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
    return configs


def frame_options(info, upload) -> run_record.RunOptions:
    """The frames, warm-up, stride, size and rounds; the upload's downscale applied."""
    defaults = run_record.RunOptions()  # the options' own defaults; rounds: the front ends'
    st.subheader("Frames")
    if st.session_state.get("run-frames", 0) > info.frames:  # kept from a longer clip
        st.session_state["run-frames"] = info.frames
    cols = st.columns(4)
    max_frames = cols[0].number_input(
        "Frames to process",
        1,
        info.frames,
        info.frames if info.frames <= WHOLE_CLIP_UP_TO else DEFAULT_FRAME_CAP,
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
    low = st.columns([1, 3])  # the toggles get the room their labels need
    rounds = low[0].number_input(
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
    preload = low[1].toggle(
        "Leave video decoding out of the timing",
        False,
        key="run-preload",
        persist_state=state.KEEP,
        help="Decodes every frame before the timing starts, so the speed is the pose model's "
        "alone (0 ms decoding); off, each frame's decoding is timed too, as in the jump app.",
    )
    background = low[1].toggle(
        "Decode the next frame while the model works",
        False,
        key="run-background",
        persist_state=state.KEEP,
        help="Decode the next frame in a thread while the model runs.",
    )
    if int(max_frames) < info.frames:
        st.caption(
            f":orange[Only the first {int(max_frames)} of the clip's {info.frames} frames: the jump "
            "metrics (flight time, jump height) on the Accuracy page and the Scorecard need every "
            "frame, so this run will have none.]"
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
    return options


@dataclass
class Readiness:
    """Whether the run can start, and why not."""

    processed: int  # frames per pass: stride and caps included
    errors: list[str]  # what is wrong with the choice, in words
    warnings: list[str]  # what stops it that is not a mistake: another job, nothing chosen
    busy: bool  # this session's run is still going
    other: str | None = None  # the other job that holds the machine, in words

    @property
    def ready(self) -> bool:
        return not self.errors and not self.warnings and not self.busy


def readiness(options: run_record.RunOptions, info, configs: list[BackendConfig], busy: bool) -> Readiness:
    """What stops the run from starting: bad options, no timed frames, the same configuration
    twice, nothing chosen, another job holding the machine."""
    processed = options.plan(info).frames  # the engine's count: stride and caps included
    errors = []
    try:
        options.check()
    except BenchError as exc:
        errors.append(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    else:
        if processed - options.warmup <= 0:
            errors.append(
                f"{options.warmup} warm-up frames leave no timed frames of the {processed} processed; "
                "lower the warm-up or process more frames."
            )
    labels = [c.display for c in configs]
    if len(set(labels)) != len(labels):  # the engine refuses this too, once started
        errors.append("Two configurations are the same; change a setting of one of them.")
    warnings = []
    other = None if busy else state.busy_reason()  # the Explorer sweep or a jump analysis
    if other:
        warnings.append(other)
    if not configs and not busy:
        warnings.append("Choose at least one backend that can run here.")
    return Readiness(processed, errors, warnings, busy, other)


def run_label() -> dict[str, str]:
    """The optional name and note of the run."""
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
    return {"name": " ".join(run_name.split()), "note": run_note.strip()}


def finished_run(finished, run) -> None:
    """The run just finished (or the session's current one): summary, notices, downloads."""
    if run is None:
        return
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
