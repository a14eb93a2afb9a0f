"""Page 1: choose the clip (upload or bundled sample), see a frame and its metadata."""
import streamlit as st

from bench.errors import BenchError
from dashboard import clip_input, media, state, widgets

widgets.page_setup("Clip", "The video every backend will run on. Phone clips are fine: "
                           "rotation metadata is applied and frames are counted by decoding them.")

SOURCES = ("Sample or clip folder", "Upload a video")
UPLOAD_ID = "clip-upload-id"        # file_id of the upload already saved
UPLOAD_PATH = "clip-upload-path"    # where it was saved
PORTRAIT_WIDTH = 300                # px, so a portrait preview fits a 800 px high window

current = state.clip_path()
is_upload = bool(current) and current == st.session_state.get(UPLOAD_PATH)
left, right = st.columns([2, 3], gap="large")

with left:
    source = st.radio("Source", SOURCES, index=1 if is_upload else 0, horizontal=True,
                      key="clip-source")
    if source == SOURCES[0]:
        clips, why_no_sample = clip_input.available_clips()
        if why_no_sample:
            st.caption(f"No bundled sample: {why_no_sample}.")
        if not clips:
            st.warning("No clips found here: upload one, or set POSEBENCH_CLIP_DIRS to a folder "
                       "of videos.")
        else:
            paths = [str(path) for path, _label in clips]
            labels = dict(zip(paths, (label for _path, label in clips)))
            path = st.selectbox("Clip", paths, index=paths.index(current) if current in paths else 0,
                                format_func=labels.get, key="clip-pick",
                                help="The bundled sample first, then the videos in the folders "
                                     "of POSEBENCH_CLIP_DIRS.")
            if path != current:
                try:
                    state.set_clip(path)
                except BenchError as exc:
                    st.error(str(exc))
    else:
        limit = clip_input.upload_limit_mb()
        upload = st.file_uploader(
            f"Video file ({', '.join(clip_input.ACCEPTED_TYPES)}; at most {limit} MB)",
            type=list(clip_input.ACCEPTED_TYPES), max_upload_size=limit, key="clip-upload",
            help="The file stays on this server only for the benchmark.")
        if upload is not None and upload.file_id != st.session_state.get(UPLOAD_ID):
            saved = None
            try:
                saved = clip_input.save_upload(upload)
                state.set_clip(saved)
            except BenchError as exc:
                clip_input.remove_upload(saved)
                st.error(str(exc))
            else:
                previous = st.session_state.get(UPLOAD_PATH)
                running = state.job()
                if previous and not (running and not running.finished
                                     and running.clip_path == previous):
                    clip_input.remove_upload(previous)
                st.session_state[UPLOAD_ID] = upload.file_id
                st.session_state[UPLOAD_PATH] = str(saved)
                st.session_state["clip-upload-name"] = upload.name
        if is_upload:
            st.caption(f"Using your upload: {st.session_state.get('clip-upload-name', 'video')}")

info = None
try:
    info = state.clip_info()
except BenchError as exc:
    st.error(str(exc))

with right:
    if info is None:
        st.info("Choose a clip on the left.")
    else:
        frame_index = 0
        if info.frames > 1:
            frame_index = st.slider("Preview frame", 0, info.frames - 1, 0, key="clip-preview",
                                    help="Decoded frame index, from 0.")
        try:
            st.image(media.frame_rgb(info.path, frame_index, mtime=media.file_mtime(info.path)),
                     caption=f"{info.name}, frame {frame_index} (shown at most "
                             f"{media.PREVIEW_SIDE} px)",
                     width=PORTRAIT_WIDTH if info.height > info.width else "stretch")
        except BenchError as exc:
            st.error(str(exc))

if info is not None:
    with left:
        rows = (
            ("Resolution", f"{info.width} × {info.height} px (as displayed)"),
            ("Frame rate", f"{info.fps:.2f} frames/s"),
            ("Decoded frames", f"{info.frames} frames"),
            ("Duration", f"{info.duration_s:.2f} s"),
            ("Rotation", f"{info.rotation}° (frames are turned upright)" if info.rotation else "0°"),
            ("Codec", info.codec),
            ("File size", f"{info.bytes / 1024 ** 2:.1f} MB"),
        )
        st.markdown(f"| Clip | {info.name} |\n|---|---|\n"
                    + "\n".join(f"| {label} | {value} |" for label, value in rows))
        st.caption("Decoded frames are the frames a decoder returns, the count every figure uses; "
                   "duration is decoded frames / frame rate.")
        if info.edit_list_suspected:
            st.caption(f"The container says {info.reported_frames} frames, but only {info.frames} "
                       "decode (an edit list, common in phone clips).")
        widgets.page_link("run")
