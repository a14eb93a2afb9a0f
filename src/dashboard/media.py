"""Cached images and videos for the pages (decoding and encoding are the slow parts)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
import streamlit as st

from bench import overlay, video

PREVIEW_SIDE = 720          # long side of preview frames, pixels
AUTO_OVERLAY_FRAMES = 900   # render the overlay video without asking up to this many frames


@st.cache_data(max_entries=64, show_spinner=False)
def frame_rgb(path: str, index: int, max_side: int = PREVIEW_SIDE, mtime: float = 0.0) -> np.ndarray:
    """One decoded frame, downscaled, as RGB (``mtime`` keys the cache to the file's version)."""
    return cv2.cvtColor(video.read_frame(path, index, max_side=max_side), cv2.COLOR_BGR2RGB)


def file_mtime(path: str) -> float:
    p = Path(path)
    return p.stat().st_mtime if p.exists() else 0.0


def skeleton_panels(run, frame_index: int, max_side: int = PREVIEW_SIDE) -> list[tuple[str, np.ndarray, dict]]:
    """For each backend: label, RGB frame with its skeleton, and that frame's row of figures."""
    clip = run.clip
    base = cv2.cvtColor(frame_rgb(clip.path, frame_index, max_side, file_mtime(clip.path)),
                        cv2.COLOR_RGB2BGR)
    scale = base.shape[1] / clip.width
    out = []
    for i, label in enumerate(run.summary["backend"]):
        rows = run.frames[(run.frames["backend"] == label) & (run.frames["frame"] == frame_index)] \
            if len(run.frames) else run.frames
        row = rows.iloc[0].to_dict() if len(rows) else {}
        table = overlay.landmark_table(rows, label) if len(rows) else {}
        image = overlay.draw_skeleton(base.copy(), table.get(frame_index), overlay.colour_bgr(i), scale)
        out.append((label, cv2.cvtColor(image, cv2.COLOR_BGR2RGB), row))
    return out


@st.cache_data(max_entries=4, show_spinner=False)
def overlay_video_bytes(run_id: str, clip_path: str, mtime: float, labels: tuple[str, ...],
                        _frames, fps: float) -> bytes:
    """The stacked overlay video of a run as H.264 MP4 bytes (cached per run)."""
    with tempfile.TemporaryDirectory(prefix="posebench-overlay-") as tmp:
        path = overlay.write_overlay_video(clip_path, _frames, labels, Path(tmp) / "overlay.mp4",
                                           fps=fps)
        return path.read_bytes()


def overlay_video(run) -> bytes:
    """Overlay video for ``run``: every processed frame, every backend side by side."""
    drawn = set(run.frames["backend"]) if len(run.frames) else set()
    labels = tuple(label for label in run.summary["backend"] if label in drawn)
    fps = run.clip.fps / max(1, run.options.stride or 1)
    return overlay_video_bytes(run.run_id, run.clip.path, file_mtime(run.clip.path), labels,
                               run.frames, fps)
