"""Skeleton drawing and browser-playable overlay videos.

The same 13-landmark skeleton (``keypoints.SKELETON``) is drawn for every
backend from the per-frame table, so the side-by-side view compares like with
like. Videos are written as H.264 (yuv420p, ``+faststart``) through PyAV's
libx264, which every browser plays; OpenCV's pip wheels cannot write H.264.
Rendering is bounded: panels are downscaled so their long side is at most
``PANEL_SIDE`` pixels and the whole canvas at most ``CANVAS_WIDTH`` wide.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARKS, SKELETON
from posebench.io import video

PANEL_SIDE = 720  # long side of one backend's panel, pixels
CANVAS_WIDTH = 1440  # widest stacked canvas, pixels
BANNER_PX = 28  # height of the label strip on top of each panel

# One colour per backend, in order, bright enough to read on dark and light
# footage; the charts use the same list so a backend has one colour everywhere.
BACKEND_COLOURS: tuple[str, ...] = (
    "#2f8cff",
    "#ff8c1a",
    "#2ecc40",
    "#ff4136",
    "#b467ff",
    "#39cccc",
    "#f012be",
    "#c8b400",
    "#a0522d",
    "#aaaaaa",
)
_EDGES = tuple((LANDMARKS.index(a), LANDMARKS.index(b)) for a, b in SKELETON)


def colour_bgr(index: int) -> tuple[int, int, int]:
    hex_colour = BACKEND_COLOURS[index % len(BACKEND_COLOURS)].lstrip("#")
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return b, g, r


# -- landmarks from the per-frame table -------------------------------------------
def landmark_table(frames: pd.DataFrame, backend: str) -> dict[int, np.ndarray]:
    """Frame index -> (13, 3) x, y, score in original-frame pixels for one backend."""
    mine = frames[frames["backend"] == backend] if len(frames) else frames
    if not len(mine):
        return {}
    values = mine[schema.landmark_columns()].to_numpy(dtype=float).reshape(len(mine), len(LANDMARKS), 3)
    return dict(zip(mine["frame"].astype(int).tolist(), values))


# -- drawing --------------------------------------------------------------------------
def draw_skeleton(
    image: np.ndarray, landmarks: np.ndarray | None, colour: tuple[int, int, int], scale: float = 1.0
) -> np.ndarray:
    """Draw the 13-landmark skeleton onto ``image`` in place and return it.

    ``landmarks`` is (13, 3) in original-frame pixels; ``scale`` maps them to
    ``image``. Landmarks that are NaN (absent) are skipped.
    """
    if landmarks is None:
        return image
    pts = landmarks[:, :2] * scale
    ok = np.all(np.isfinite(pts), axis=1)
    thick = max(2, round(max(image.shape[:2]) / 240))
    for a, b in _EDGES:  # a dark rim first, so lines stand out on light footage too
        if ok[a] and ok[b]:
            cv2.line(image, _pt(pts[a]), _pt(pts[b]), (20, 20, 20), thick + 2, cv2.LINE_AA)
    for a, b in _EDGES:
        if ok[a] and ok[b]:
            cv2.line(image, _pt(pts[a]), _pt(pts[b]), colour, thick, cv2.LINE_AA)
    for i in np.flatnonzero(ok):
        cv2.circle(image, _pt(pts[i]), thick + 2, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(image, _pt(pts[i]), thick + 1, colour, -1, cv2.LINE_AA)
    return image


def _pt(xy: np.ndarray) -> tuple[int, int]:
    return int(round(float(xy[0]))), int(round(float(xy[1])))


def label_panel(image: np.ndarray, text: str, colour: tuple[int, int, int]) -> np.ndarray:
    """Put a label strip on top of a panel (in place)."""
    h, _w = image.shape[:2]
    strip = min(BANNER_PX, h // 4)
    image[:strip] = (image[:strip] * 0.35).astype(image.dtype)
    cv2.rectangle(image, (0, 0), (6, strip), colour, -1)
    size = 0.5 * strip / BANNER_PX
    cv2.putText(
        image, text, (12, int(strip * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 1, cv2.LINE_AA
    )
    return image


def panel(
    image: np.ndarray, landmarks: np.ndarray | None, label: str, index: int, scale: float, note: str = ""
) -> np.ndarray:
    """One backend's view of a frame: a copy with its skeleton and label."""
    out = image.copy()
    colour = colour_bgr(index)
    draw_skeleton(out, landmarks, colour, scale)
    detected = landmarks is not None and np.isfinite(landmarks[:, :2]).any()
    text = label if detected else f"{label}: no person"
    return label_panel(out, f"{text}  {note}".strip(), colour)


def stack(panels: Sequence[np.ndarray], max_width: int = CANVAS_WIDTH) -> np.ndarray:
    """Panels side by side, scaled down to ``max_width``, with even sides for yuv420p."""
    canvas = np.hstack(panels) if len(panels) > 1 else panels[0]
    h, w = canvas.shape[:2]
    if w > max_width:
        canvas = cv2.resize(
            canvas, (max_width, max(2, round(h * max_width / w))), interpolation=cv2.INTER_AREA
        )
    h, w = canvas.shape[:2]
    return canvas[: h - h % 2, : w - w % 2]


# -- H.264 writing ------------------------------------------------------------------
class H264Writer:
    """Write BGR frames to an MP4 (H.264, yuv420p, moov atom first) with PyAV."""

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 23, preset: str = "veryfast"):
        import av  # imported here so the engine does not need PyAV to import overlay

        self.path = Path(path)
        self._av = av
        self._container: av.container.OutputContainer | None = av.open(
            str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = _rate(fps)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": preset}
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, image_bgr: np.ndarray) -> None:
        h, w = image_bgr.shape[:2]
        if self._size is None:
            if w % 2 or h % 2:
                raise BenchError("H.264 (yuv420p) needs even frame sides; stack() gives them")
            self._stream.width, self._stream.height = w, h
            self._size = (w, h)
        elif (w, h) != self._size:
            image_bgr = cv2.resize(image_bgr, self._size, interpolation=cv2.INTER_AREA)
        if self._container is None:
            raise BenchError(f"{self.path.name} is already closed")
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image_bgr), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._container is None:
            return
        try:
            if self._size is not None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _rate(fps: float):
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)


# -- the overlay video of a run -----------------------------------------------------
def panel_scale(width: int, height: int, max_side: int = PANEL_SIDE) -> tuple[float, tuple[int, int]]:
    """Scale from original pixels to a panel, and the panel size."""
    size = video.scaled_size(width, height, max_side)
    return size[0] / width, size


def overlay_frames(
    clip_path: str, frames: pd.DataFrame, backends: Sequence[str], max_side: int = PANEL_SIDE
) -> Iterable[np.ndarray]:
    """Stacked overlay images, one per processed frame, in order."""
    tables = [landmark_table(frames, b) for b in backends]
    wanted = sorted(set().union(*[t.keys() for t in tables])) if tables else []
    if not wanted:
        return
    info = video.probe(clip_path)
    scale, _size = panel_scale(info.width, info.height, max_side)
    wanted_set = set(wanted)
    for frame in video.iter_frames(clip_path, max_frames=wanted[-1] + 1, max_side=max_side):
        if frame.index not in wanted_set:
            continue
        note = f"frame {frame.index}"
        panels = [
            panel(frame.image, table.get(frame.index), label, i, scale, note)
            for i, (label, table) in enumerate(zip(backends, tables))
        ]
        yield stack(panels)
        if frame.index >= wanted[-1]:
            break


def write_overlay_video(
    clip_path: str,
    frames: pd.DataFrame,
    backends: Sequence[str],
    out_path: str | os.PathLike,
    fps: float | None = None,
    stride: int = 1,
    max_side: int = PANEL_SIDE,
) -> Path:
    """Render every processed frame with each backend's skeleton side by side.

    Returns ``out_path`` (an H.264 MP4). Raises ``BenchError`` when the run has
    no frames to draw or the clip is not on this machine.
    """
    if not Path(clip_path).exists():
        raise BenchError(
            f"the clip {Path(clip_path).name} is not on this machine, so no overlay can be drawn"
        )
    if fps is None:
        fps = video.probe(clip_path).fps / max(1, stride)
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".part.mp4")
    try:
        with H264Writer(tmp, fps) as writer:
            for image in overlay_frames(clip_path, frames, backends, max_side):
                writer.write(image)
        if writer.frames == 0:
            raise BenchError("this run has no processed frames to draw")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path


__all__ = [
    "BACKEND_COLOURS",
    "colour_bgr",
    "landmark_table",
    "draw_skeleton",
    "panel",
    "stack",
    "H264Writer",
    "overlay_frames",
    "write_overlay_video",
    "panel_scale",
    "PANEL_SIDE",
]
