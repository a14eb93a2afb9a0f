"""Cached images and videos for the pages (decoding and encoding are the slow parts)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
import streamlit as st

from posebench.io import video
from posebench.report import overlay

PREVIEW_SIDE = 720  # long side of preview frames, pixels
AUTO_OVERLAY_FRAMES = 900  # render the overlay video without asking up to this many frames


@st.cache_data(max_entries=64, show_spinner=False)
def frame_rgb(path: str, index: int, max_side: int = PREVIEW_SIDE, mtime: float = 0.0) -> np.ndarray:
    """One decoded frame, downscaled, as RGB (``mtime`` keys the cache to the file's version)."""
    return cv2.cvtColor(video.read_frame(path, index, max_side=max_side), cv2.COLOR_BGR2RGB)


def file_mtime(path: str) -> float:
    p = Path(path)
    return p.stat().st_mtime if p.exists() else 0.0


@st.cache_data(max_entries=4, show_spinner=False)
def preview_frames(
    path: str, indices: tuple[int, ...], max_side: int = PREVIEW_SIDE, mtime: float = 0.0
) -> dict[int, bytes]:
    """The frames ``indices`` of a clip, downscaled, as JPEG bytes, decoded in one pass.

    Decoding seeks by decoding from frame 0, so a slider over a run's frames would otherwise
    decode the clip's start again for every new frame; JPEG keeps the cache small.
    """
    wanted, out = set(indices), {}
    for frame in video.iter_frames(path, max_frames=max(indices) + 1, max_side=max_side):
        if frame.index in wanted:
            out[frame.index] = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    return out


def run_frame_bgr(run, frame_index: int, max_side: int = PREVIEW_SIDE) -> np.ndarray:
    """One processed frame of ``run``'s clip, downscaled, BGR.

    The run's first frame is decoded alone (quick); any other comes from one pass over every
    processed frame, cached, so moving the slider on does not decode from the start again.
    """
    clip, mtime = run.clip, file_mtime(run.clip.path)
    ids = tuple(sorted(int(i) for i in run.frames["frame"].unique())) if len(run.frames) else ()
    if frame_index in ids and frame_index != ids[0]:
        data = preview_frames(clip.path, ids, max_side, mtime).get(frame_index)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data is not None else None
        if image is not None:
            return image
    return cv2.cvtColor(frame_rgb(clip.path, frame_index, max_side, mtime), cv2.COLOR_RGB2BGR)


def skeleton_panels(
    run, frame_index: int, max_side: int = PREVIEW_SIDE
) -> list[tuple[str, np.ndarray, dict]]:
    """For each backend: label, RGB frame with its skeleton, and that frame's row of figures."""
    clip = run.clip
    base = run_frame_bgr(run, frame_index, max_side)
    scale = base.shape[1] / clip.width
    out = []
    for i, label in enumerate(run.summary["backend"]):
        rows = (
            run.frames[(run.frames["backend"] == label) & (run.frames["frame"] == frame_index)]
            if len(run.frames)
            else run.frames
        )
        row = rows.iloc[0].to_dict() if len(rows) else {}
        table = overlay.landmark_table(rows, label) if len(rows) else {}
        image = overlay.draw_skeleton(base.copy(), table.get(frame_index), overlay.colour_bgr(i), scale)
        out.append((label, cv2.cvtColor(image, cv2.COLOR_BGR2RGB), row))
    return out


@st.cache_data(max_entries=4, show_spinner=False)
def overlay_video_bytes(
    run_id: str, clip_path: str, mtime: float, labels: tuple[str, ...], _frames, fps: float
) -> bytes:
    """The stacked overlay video of a run as H.264 MP4 bytes (cached per run)."""
    with tempfile.TemporaryDirectory(prefix="posebench-overlay-") as tmp:
        path = overlay.write_overlay_video(clip_path, _frames, labels, Path(tmp) / "overlay.mp4", fps=fps)
        return path.read_bytes()


def overlay_video(run) -> bytes:
    """Overlay video for ``run``: every processed frame, every backend side by side."""
    drawn = set(run.frames["backend"]) if len(run.frames) else set()
    labels = tuple(label for label in run.summary["backend"] if label in drawn)
    fps = run.clip.fps / max(1, run.options.stride or 1)
    return overlay_video_bytes(run.run_id, run.clip.path, file_mtime(run.clip.path), labels, run.frames, fps)
