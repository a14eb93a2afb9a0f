"""The Clip page's sections: pick a clip from the folders, upload one (checked on its content,
waiting its turn when the server is busy), preview a frame and list the clip's facts."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from posebench.access import queue
from posebench.core.errors import BenchError, ServerBusy
from posebench.dashboard import auth, clip_input, media, safe_text, state
from posebench.io import uploads, video

SOURCES = ("Your uploads or a sample", "Upload a video")
UPLOAD_ID = "clip-upload-id"  # file_id of the upload already accepted
REFUSED = "clip-upload-refused"  # (file_id, sentence) of the upload last refused
PORTRAIT_WIDTH = 300  # px, so a portrait preview fits a 800 px high window
PICK_ERROR = "clip-pick-error"  # sentence of a picked clip that could not be used


def pick_clip() -> None:
    """Only a change of the selectbox chooses a clip (so looking at the list keeps an upload)."""
    path = st.session_state.get("clip-pick")
    if path is None or path == state.clip_path():
        return
    try:
        if not state.choose_own_upload(path):  # an upload of yours, from any page: kept as one
            state.set_clip(path)
    except BenchError as exc:
        st.session_state[PICK_ERROR] = str(exc)


def folder_picker(current: str | None, is_upload: bool) -> None:
    """The user's own uploads (from any page), the bundled sample and the clips of the
    configured folders, in a selectbox."""
    clips, why_no_sample = clip_input.available_clips()
    # the user's own uploads first, from whichever page they were uploaded on
    clips = [(c.path, f"{c.label} (your upload)") for c in state.own_uploads()] + clips
    if why_no_sample:
        st.caption(f"No bundled sample: {why_no_sample}.")
    if not clips:
        st.warning("No clips found here: upload one, or set POSEBENCH_CLIP_DIRS to a folder of videos.")
        return
    paths = [str(path) for path, _label in clips]
    labels: dict[str, str] = dict(zip(paths, (label for _path, label in clips)))
    st.selectbox(  # type: ignore[call-overload]
        "Clip",
        paths,
        index=paths.index(current) if current in paths else None,
        format_func=lambda p: labels.get(p, p),
        key="clip-pick",
        on_change=pick_clip,
        placeholder="Pick a clip",
        help="Your uploads from any page first (only you see them), then the bundled "
        "sample and the videos in the folders of POSEBENCH_CLIP_DIRS.",
    )
    if PICK_ERROR in st.session_state:
        st.error(st.session_state.pop(PICK_ERROR))


def upload_box(current: str | None, is_upload: bool) -> None:
    """The uploader: a new file is checked (once) and, when accepted, becomes the clip."""
    limit = clip_input.upload_limit_mb()
    upload = st.file_uploader(
        f"Video file ({', '.join(clip_input.ACCEPTED_TYPES)}; at most {limit} MB)",
        type=list(clip_input.ACCEPTED_TYPES),
        max_upload_size=limit,
        key="clip-upload",
        help="The file stays on this server only for the benchmark. It is judged by its "
        "content: a frame must decode.",
    )
    refused = st.session_state.get(REFUSED)
    if upload is None:
        st.session_state.pop(REFUSED, None)
    elif refused and refused[0] == upload.file_id:
        safe_text.error(refused[1])  # refused before: not checked again
    elif upload.file_id != st.session_state.get(UPLOAD_ID) or not is_upload:
        is_upload = accept(upload) or is_upload
    if is_upload:
        safe_text.caption(f"Using your upload: {state.upload().label}")
    elif current:
        safe_text.caption(f"Still using {Path(current).name}; upload a video to replace it.")


def accept(upload) -> bool:
    """Check a new upload (waiting its turn, with its place shown); True when it is the clip now."""
    waiting = st.empty()

    def show_place(place: int, running: int) -> None:
        waiting.info(queue.place_text(place, running), icon=":material/hourglass_top:")

    try:
        state.make_room_for_upload(upload.size)
        with st.spinner(f"Checking {uploads.safe_label(upload.name)}: decoding every frame…"):
            accepted = clip_input.save_upload(upload, owner=auth.viewer().name, on_wait=show_place)
    except ServerBusy as exc:  # not the file's fault: tried again on the next interaction
        safe_text.error(exc)
        return False
    except BenchError as exc:  # the clip chosen before stays chosen
        st.session_state[REFUSED] = (upload.file_id, str(exc))
        safe_text.error(exc)
        return False
    state.set_upload(accepted)
    st.session_state[UPLOAD_ID] = upload.file_id
    st.session_state.pop(REFUSED, None)
    return True


def preview(info: video.ClipInfo) -> None:
    """One frame of the clip, picked with a slider."""
    frame_index = 0
    if info.frames > 1:
        frame_index = st.slider(
            "Preview frame",
            0,
            info.frames - 1,
            0,
            key="clip-preview",
            help="Decoded frame index, from 0.",
        )
    try:
        st.image(
            media.frame_rgb(info.path, frame_index, mtime=media.file_mtime(info.path)),
            caption=f"{info.name}, frame {frame_index} (shown at most {media.PREVIEW_SIDE} px)",
            width=PORTRAIT_WIDTH if info.height > info.width else "stretch",
        )
    except BenchError as exc:
        safe_text.error(exc)


def facts(info: video.ClipInfo) -> None:
    """The clip's notices (edit list, rotation, VFR, 4K) first, then its facts in a table."""
    upload = state.chosen_upload()
    for notice in upload.notices if upload is not None else video.clip_notices(info):
        safe_text.info(notice, icon=":material/info:")
    rows = (
        ("Resolution", f"{info.width} × {info.height} px (as displayed)"),
        ("Frame rate", f"{info.fps:.2f} frames/s"),
        ("Decoded frames", f"{info.frames} frames"),
        ("Duration", f"{info.duration_s:.2f} s"),
        ("Rotation", f"{info.rotation}° (frames are turned upright)" if info.rotation else "0°"),
        ("Codec", info.codec),
        ("File size", f"{info.bytes / 1024**2:.1f} MB"),
    )
    wrappable = "".join(f"{ch}\u200b" if ch in "_.-" else ch for ch in safe_text.md(info.name))
    st.markdown(
        f"| Clip | {wrappable} |\n|---|---|\n" + "\n".join(f"| {label} | {value} |" for label, value in rows)
    )
    st.caption(
        "Decoded frames are the frames a decoder returns, the count every figure uses; "
        "duration is decoded frames / frame rate."
    )
