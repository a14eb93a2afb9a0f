"""The Study page's frame scrubber: step through a clip frame by frame, zoomed on the feet,
and mark the last ground contact (take-off) and the first landing contact."""

from __future__ import annotations

import numpy as np
import streamlit as st

from posebench.dashboard import safe_text, study_draft
from posebench.io import video
from posebench.studies import study_folder

FEET_SHARE = 0.4  # the scrubber shows the lowest 40 % of the frame (the feet) by default
SAMPLED_FRAMES = 12  # frames spread over the clip that tell where the athlete moves


@st.cache_data(show_spinner=False, max_entries=16)
def feet_centre(path: str, frames: int, share: float = FEET_SHARE) -> float:
    """Where across the frame (0 = left edge, 1 = right edge) the feet are: the centre of what
    moves in the frame's lowest ``share`` over frames spread across the clip (the athlete in
    front of a still camera). 0.5 when nothing moves or the frames cannot be read."""
    picks = sorted({int(i) for i in np.linspace(0, max(0, frames - 1), SAMPLED_FRAMES)})
    try:
        bands = [video.read_frame(path, i) for i in picks]
    except Exception:
        return 0.5
    if len(bands) < 3:
        return 0.5
    h = bands[0].shape[0]
    low = np.stack([b[int(h * (1 - share)) :].astype(np.float32).mean(axis=2) for b in bands])
    moving = np.abs(low - np.median(low, axis=0)).mean(axis=(0, 1))  # per column
    if not np.isfinite(moving).all() or moving.max() <= 0:
        return 0.5
    weights = np.clip(moving - 0.5 * moving.max(), 0.0, None)
    return float((weights * np.arange(len(weights))).sum() / weights.sum() / max(1, len(weights) - 1))


def crop_on_feet(image: np.ndarray, share: float, centre: float) -> np.ndarray:
    """The frame's lowest ``share``, and as much of its width around ``centre`` (0-1 across):
    the same zoom both ways, so the feet are larger, not only the lower part."""
    h, w = image.shape[:2]
    low = image[int(h * (1 - share)) :]
    if share >= 1.0:
        return low
    width = max(1, int(round(w * share)))
    left = int(round(centre * (w - 1) - width / 2))
    left = min(max(0, left), w - width)
    return low[:, left : left + width]


@st.cache_data(show_spinner=False, max_entries=64)
def feet_view(path: str, index: int, share: float = FEET_SHARE, centre: float = 0.5) -> np.ndarray:
    """Frame ``index`` (0-based decoded), cropped on the feet (``crop_on_feet``) and shown as RGB."""
    image = video.read_frame(path, index)
    return np.ascontiguousarray(crop_on_feet(image, share, centre)[:, :, ::-1])


def step_frame(key: str, delta: int, last: int) -> None:
    """A previous / next frame button's callback: move the scrubber by ``delta`` frames."""
    st.session_state[key] = min(last, max(0, int(st.session_state.get(key, 0)) + delta))


def neighbours(path: str, index: int, frames: int, share: float) -> list[tuple[int, np.ndarray]]:
    """The frame before, this one and the one after (those that exist), each cropped on the feet."""
    centre = feet_centre(path, frames) if share < 1.0 else 0.5
    return [(i, feet_view(path, i, share, centre)) for i in (index - 1, index, index + 1) if 0 <= i < frames]


def section(clips: list[study_folder.StudyClip]) -> None:
    """Pick a clip, step to a frame (shown with its neighbours, zoomed on the feet) and mark
    it: the last ground contact sets the take-off (the next frame), the first landing contact
    the landing."""
    readable = [c for c in clips if c.sha256]
    if not readable:
        return
    pick = st.selectbox("Clip", [c.name for c in readable], key="scrub-clip")
    clip = next(c for c in readable if c.name == pick)
    frames = max(1, video.probe(clip.path).frames)
    frame = frame_slider(frames)
    zoom = st.select_slider(
        "Zoom on the feet",
        options=[1.0, 0.6, 0.4, 0.25],
        value=FEET_SHARE,
        format_func=lambda s: "whole frame" if s == 1.0 else f"{1 / s:.1f}× on the feet",
        key="scrub-zoom",
    )
    shown = neighbours(clip.path, frame, frames, float(zoom))
    for col, (index, image) in zip(st.columns(len(shown)), shown):
        col.image(
            image, caption=f"frame {index}" + (" (this one)" if index == frame else ""), width="stretch"
        )
    a, b = st.columns(2)
    if a.button("Last ground contact", key="scrub-takeoff", help="Take-off = the next frame"):
        mark(clip, "takeoff_frame", frame + 1, f"take-off frame {frame + 1}")
    if b.button("First landing contact", key="scrub-landing", help="Landing = this frame"):
        mark(clip, "landing_frame", frame, f"landing frame {frame}")


def frame_slider(frames: int) -> int:
    """The frame slider between a previous and a next button; the frame picked (0-based)."""
    if "scrub-frame" not in st.session_state:
        st.session_state["scrub-frame"] = min(frames - 1, frames // 2)
    prev, slider, nxt = st.columns([1, 8, 1], vertical_alignment="bottom")
    prev.button(
        "◀",
        key="scrub-prev",
        help="Previous frame",
        on_click=step_frame,
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
        "▶", key="scrub-next", help="Next frame", on_click=step_frame, args=("scrub-frame", 1, frames - 1)
    )
    return int(frame)


def mark(clip: study_folder.StudyClip, field: str, frame: int, done: str) -> None:
    """Keep the marked frame in the clip's reference; the references table shows it at once."""
    problem = study_draft.set_reference_frame(clip, field, frame)
    if problem:
        safe_text.error(problem)
    else:
        st.toast(done)
        st.rerun()  # the references table above shows it on this click
