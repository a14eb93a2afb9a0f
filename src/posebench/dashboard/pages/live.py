"""The Live page: the webcam, one backend or two side by side, skeletons on the live picture."""

from __future__ import annotations

import time

import streamlit as st

from posebench import backends
from posebench.core.errors import BenchError
from posebench.dashboard import auth, clip_input, live_webcam, realtime_view, safe_text, state, widgets

HOLDER = "live-engine"  # session key: {"engine": LiveEngine} of the running stream
METRICS_EVERY_S = 0.5


def _choices() -> list[str]:
    return [c.preset for c, why in backends.list_presets() if why is None]


def _metrics(box, engine) -> None:
    snap = engine.meter.snapshot()
    with box.container():
        cols = st.columns(4)
        cols[0].metric("Processed (frames/s)", "—" if snap["fps"] != snap["fps"] else f"{snap['fps']:.1f}")
        cols[1].metric("Dropped (frames)", f"{snap['dropped']} of {snap['offered']}")
        cols[2].metric(
            "Dropped (%)", "—" if snap["drop_pct"] != snap["drop_pct"] else f"{snap['drop_pct']:.1f}"
        )
        cols[3].metric(
            "Latency (ms, median)",
            "—" if snap["latency_ms_p50"] != snap["latency_ms_p50"] else f"{snap['latency_ms_p50']:.0f}",
        )


def _record_controls(engine) -> None:
    cols = st.columns(2)
    recording = engine is not None and engine.recorder.on
    if cols[0].button(
        "Record", icon=":material/fiber_manual_record:", disabled=engine is None or recording, key="live-rec"
    ):
        engine.recorder.start()
        st.rerun()
    if cols[1].button(
        "Stop and save the recording", icon=":material/save:", disabled=not recording, key="live-save"
    ):
        frames, times = engine.recorder.stop()
        try:
            with st.spinner("Saving the recording like an upload…"):
                data = live_webcam.encode(frames, times)
                state.make_room_for_upload(len(data))
                accepted = clip_input.save_upload(live_webcam.as_upload(data), owner=auth.viewer().name)
                state.set_upload(accepted)
        except BenchError as exc:
            safe_text.error(exc)
        else:
            st.success(
                f"Saved {len(frames)} frames as your clip ({accepted.label}): it is now the chosen "
                "clip for the Run page, and offered among your uploads on the Clip and Study pages."
            )
    if recording:
        st.caption(
            f"Recording (at most {live_webcam.MAX_RECORD_S:.0f} s); the raw picture, without skeletons."
        )
    elif engine is None:
        st.caption(
            "Record is there once the camera runs: the recording becomes your clip, offered among "
            "your uploads on the Clip and Study pages."
        )


def render() -> None:
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    widgets.page_setup(
        "Live",
        "Your camera with a backend's skeleton drawn on it as it is computed, and how well the "
        "backend keeps up: frames processed per second, frames dropped because a newer one had "
        "arrived, and how old the skeleton is. Nothing is stored unless you press Record.",
        "Dropped (%): above 0 the backend cannot keep up with your camera on this machine; "
        "Latency: how far the skeleton lags behind the picture.",
    )
    choices = _choices()
    if not choices:
        st.error("No backend can run on this machine; see `python -m posebench backends`.")
        return
    default = (
        [backends.backend_config.BASELINE_PRESET]
        if backends.backend_config.BASELINE_PRESET in choices
        else choices[:1]
    )
    picked = st.multiselect(
        "Backends (one, or two side by side)",
        choices,
        default=default,
        max_selections=live_webcam.MAX_BACKENDS,
        key="live-backends",
    )
    if not picked:
        st.info("Pick a backend to start.")
        return
    if len(picked) == 2:
        st.info(
            "Two backends run at the same time on each frame, so each gets about half of this "
            "machine: each is slower here than it would be alone."
        )
    holder: dict = st.session_state.setdefault(HOLDER, {})
    ctx = webrtc_streamer(
        key="live-" + "-".join(picked),
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=live_webcam.RTC_CONFIGURATION,
        server_rtc_configuration=live_webcam.RTC_CONFIGURATION,
        frontend_rtc_configuration=live_webcam.RTC_CONFIGURATION,
        media_stream_constraints={"video": True, "audio": False},
        video_processor_factory=live_webcam.processor_factory(picked, holder),
        async_processing=True,
    )
    engine = holder.get("engine") if ctx.state.playing else None
    if not ctx.state.playing:
        st.caption(
            "Press START and allow the camera. The picture travels only between your browser "
            "and this server (no outside server is asked to connect them). " + live_webcam.NO_CAMERA_HINT
        )
    _record_controls(engine)
    if not ctx.state.playing:  # the camera would share the machine with the measurement
        st.divider()
        realtime_view.section(choices, [p for p in backends.default_comparison() if p in choices])
    box = st.empty()
    while ctx.state.playing:
        engine = holder.get("engine")
        if engine is not None:
            _metrics(box, engine)
        time.sleep(METRICS_EVERY_S)
