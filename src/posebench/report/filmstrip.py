"""The filmstrip: the frames around take-off and landing, cropped on the feet, so anyone can
see with their own eyes which model picked the right frame.

One PNG per jump: a row of frames around take-off and a row around landing. Each frame
is cropped on the feet (the box around every model's foot points, or the lowest part of
the frame when no model found them), the frame marked by eye has a black frame and
"MARKED", each model's chosen frame (its sub-frame estimate rounded to a whole frame)
has a bar in the model's colour, and every model's six foot points (ankles, heels,
toes) are drawn in its colour. ``jump_strip`` draws it from plain data; ``from_run`` and
``from_study`` gather that data from a run or a study.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from posebench.analysis import per_jump
from posebench.core.errors import BenchError
from posebench.io import video
from posebench.io.files import safe_name, write_atomic
from posebench.report.overlay import BACKEND_COLOURS

TILE_HEIGHT = 150  # px of one frame in the strip
MAX_TILES = 7  # frames per row at most
MARGIN = 1  # frames shown before the first and after the last mark
REF_COLOUR = (0, 0, 0)
FOLDER = "filmstrips"


@dataclass
class JumpMarks:
    """What one jump's filmstrip shows."""

    clip_path: str
    title: str
    reference: tuple[float, float] = (math.nan, math.nan)  # marked take-off, landing frame
    events: dict[str, tuple[float, float]] = field(default_factory=dict)  # model -> take-off, landing
    feet: Mapping[str, Mapping[str, list]] = field(default_factory=dict)  # model -> per_jump.feet_near


def _bgr(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def colours(labels) -> dict[str, str]:
    """Model -> its colour (hex), as on every chart."""
    return {label: BACKEND_COLOURS[i % len(BACKEND_COLOURS)] for i, label in enumerate(labels)}


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _window(marks: list[float], frames: int) -> list[int]:
    """Whole frames from the first mark - MARGIN to the last + MARGIN (at most MAX_TILES)."""
    whole = sorted({int(round(m)) for m in marks if _finite(m)})
    if not whole:
        return []
    first, last = whole[0] - MARGIN, whole[-1] + MARGIN
    if last - first + 1 > MAX_TILES:  # keep the frames around the middle of the marks
        centre = (whole[0] + whole[-1]) // 2
        first, last = centre - MAX_TILES // 2, centre + MAX_TILES // 2
    return [f for f in range(max(0, first), min(frames - 1, last) + 1)]


def _points(feet: Mapping[str, list], frame: int) -> np.ndarray:
    raw = feet.get(str(frame)) or []
    pts = [(p[0], p[1]) for p in raw if p and p[0] is not None and p[1] is not None]
    return np.asarray(pts, dtype=float).reshape(-1, 2)


def _crop_box(marks: JumpMarks, frames: list[int], width: int, height: int) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2): around every model's foot points on these frames, else the lowest 40 %."""
    pts = [_points(f, i) for f in marks.feet.values() for i in frames]
    pts = [p for p in pts if len(p)]
    if pts:
        allp = np.concatenate(pts)
        x1, y1 = np.nanmin(allp, axis=0)
        x2, y2 = np.nanmax(allp, axis=0)
        side = max(x2 - x1, y2 - y1, 0.18 * max(width, height))
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        half = side * 0.75
        box = [cx - half, cy - half, cx + half, cy + half]
    else:
        box = [0, height * 0.6, width, height]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(0, x1), max(0, y1)
    x2, y2 = min(width, max(x2, x1 + 2)), min(height, max(y2, y1 + 2))
    return x1, y1, x2, y2


def _read(path: str, wanted: set[int]) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    if not wanted:
        return out
    for frame in video.iter_frames(path, max_frames=max(wanted) + 1):
        if frame.index in wanted:
            out[frame.index] = frame.image
    return out


def _tile(
    image: np.ndarray,
    box: tuple[int, int, int, int],
    frame: int,
    marks: JumpMarks,
    event: int,
    palette: dict[str, str],
) -> np.ndarray:
    x1, y1, x2, y2 = box
    crop = image[y1:y2, x1:x2]
    scale = TILE_HEIGHT / max(1, crop.shape[0])
    tile = cv2.resize(
        crop, (max(1, int(round(crop.shape[1] * scale))), TILE_HEIGHT), interpolation=cv2.INTER_AREA
    )
    for label, feet in marks.feet.items():
        colour = _bgr(palette.get(label, "#888888"))
        pts = _points(feet, frame)
        for x, y in pts:
            centre = (int(round((x - x1) * scale)), int(round((y - y1) * scale)))
            cv2.circle(tile, centre, 4, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(tile, centre, 3, colour, -1, cv2.LINE_AA)
    w = tile.shape[1]
    head = np.full((22, w, 3), 255, np.uint8)
    cv2.putText(head, f"frame {frame}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (40, 40, 40), 1, cv2.LINE_AA)
    marked = marks.reference[event]
    is_ref = _finite(marked) and int(round(marked)) == frame
    if is_ref:
        cv2.putText(head, "MARKED", (w - 62, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, REF_COLOUR, 1, cv2.LINE_AA)
    bars = []
    for label, pair in marks.events.items():
        if _finite(pair[event]) and int(round(pair[event])) == frame:
            bars.append(label)
    foot = np.full((8 * max(1, len(marks.events)), w, 3), 255, np.uint8)
    for row, label in enumerate(marks.events):
        if label in bars:
            foot[row * 8 + 1 : row * 8 + 7, :] = _bgr(palette.get(label, "#888888"))
    tile = np.vstack([head, tile, foot])
    border = 3 if is_ref else 1
    colour = REF_COLOUR if is_ref else (200, 200, 200)
    return cv2.copyMakeBorder(tile, border, border, border, border, cv2.BORDER_CONSTANT, value=colour)


def _label_row(text: str, width: int, height: int = 26, size: float = 0.55) -> np.ndarray:
    row = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(row, text, (6, height - 8), cv2.FONT_HERSHEY_SIMPLEX, size, (20, 20, 20), 1, cv2.LINE_AA)
    return row


def _hstack(tiles: list[np.ndarray], gap: int = 6) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    parts = []
    for i, t in enumerate(tiles):
        if t.shape[0] < height:
            t = cv2.copyMakeBorder(
                t, 0, height - t.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255)
            )
        parts.append(t)
        if i < len(tiles) - 1:
            parts.append(np.full((height, gap, 3), 255, np.uint8))
    return np.hstack(parts)


def _pad_to(image: np.ndarray, width: int) -> np.ndarray:
    if image.shape[1] >= width:
        return image
    return cv2.copyMakeBorder(
        image, 0, 0, 0, width - image.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)
    )


def _legend(marks: JumpMarks, palette: dict[str, str], width: int) -> np.ndarray:
    row = np.full((28, max(width, 10), 3), 255, np.uint8)
    x = 6
    cv2.rectangle(row, (x, 8), (x + 14, 20), REF_COLOUR, 2)
    cv2.putText(
        row, "marked by eye", (x + 20, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA
    )
    x += 140
    for label in marks.events:
        colour = _bgr(palette.get(label, "#888888"))
        cv2.rectangle(row, (x, 8), (x + 14, 20), colour, -1)
        text = f"{label}: its frame, its feet"
        cv2.putText(row, text, (x + 20, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
        x += 30 + int(cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0])
    return row if row.shape[1] >= x else _pad_to(row, x)


def jump_strip(marks: JumpMarks, palette: dict[str, str] | None = None) -> bytes | None:
    """The jump's filmstrip as PNG bytes; None when there is nothing to show (no clip, no mark)."""
    if not marks.clip_path or not Path(marks.clip_path).is_file():
        return None
    palette = palette or colours(list(marks.events))
    marked = [*marks.reference, *(v for pair in marks.events.values() for v in pair)]
    if not any(_finite(v) for v in marked):
        return None  # no frame to show
    try:
        info = video.probe(marks.clip_path)
    except BenchError:
        return None  # not a readable video: its row says why
    rows_frames = []
    for event in (0, 1):
        found = [marks.reference[event], *(pair[event] for pair in marks.events.values())]
        rows_frames.append(_window(found, info.frames))
    if not any(rows_frames):
        return None
    images = _read(marks.clip_path, {f for frames in rows_frames for f in frames})
    blocks = []
    for event, frames in zip((0, 1), rows_frames):
        frames = [f for f in frames if f in images]
        if not frames:
            continue
        box = _crop_box(marks, frames, info.width, info.height)
        tiles = [_tile(images[f], box, f, marks, event, palette) for f in frames]
        strip = _hstack(tiles)
        name = "Take-off" if event == 0 else "Landing"
        blocks.append(_label_row(f"{name}: {Path(marks.title).name}", strip.shape[1]))
        blocks.append(strip)
    width = max(b.shape[1] for b in blocks)
    legend = _legend(marks, palette, width)
    width = max(width, legend.shape[1])
    picture = np.vstack([_pad_to(b, width) for b in [*blocks, legend]])
    ok, png = cv2.imencode(".png", picture)
    return png.tobytes() if ok else None


# -- gathering the data --------------------------------------------------------------------
def _events(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    out = {}
    for row in table.itertuples(index=False):
        if str(getattr(row, "status", "ok")) == "ok":
            out[str(row.backend)] = (float(row.takeoff_frame), float(row.landing_frame))
    return out


def from_run(run, jump_table: pd.DataFrame | None, reference=None) -> JumpMarks | None:
    """The filmstrip data of one run's jump analysis (feet from the run's own frames)."""
    if jump_table is None or not len(jump_table) or not run.clip.path:
        return None
    ref = per_jump._reference_numbers(reference, run.clip.fps)
    events = _events(jump_table)
    feet = {label: per_jump.feet_near(run.frames, label, pair) for label, pair in events.items()}
    for label in events:  # the frames around the marked ones, too
        extra = per_jump.feet_near(
            run.frames, label, (ref["reference_takeoff_frame"], ref["reference_landing_frame"])
        )
        feet[label] = {**extra, **feet[label]}
    return JumpMarks(
        run.clip.path,
        run.clip.name,
        (ref["reference_takeoff_frame"], ref["reference_landing_frame"]),
        events,
        feet,
    )


def from_study(result) -> list[tuple[str, JumpMarks]]:
    """(clip name, data) of every clip of a study (``study_folder.StudyResult``, read by attributes)."""
    clips = result.clips
    feet_of = getattr(result, "feet", {}) or {}
    out = []
    for clip in result.study.clips:
        mine = clips[clips["sha256"] == clip.sha256] if len(clips) else clips
        if not len(mine) or not clip.path:
            continue
        first = mine.iloc[0]
        events = _events(mine)
        feet = {label: feet_of.get((clip.sha256, label), {}) for label in events}
        out.append(
            (
                clip.name,
                JumpMarks(
                    clip.path,
                    clip.name,
                    (float(first["reference_takeoff_frame"]), float(first["reference_landing_frame"])),
                    events,
                    feet,
                ),
            )
        )
    return out


def file_name(clip_name: str) -> str:
    return safe_name(Path(clip_name).stem, "jump") + ".png"


def write(strips: list[tuple[str, JumpMarks]], folder: str | Path, labels=None) -> dict[str, Path]:
    """Every jump's filmstrip as PNG in ``folder/filmstrips/``; clip name -> path written."""
    target = Path(folder) / FOLDER
    palette = colours(labels or list(dict.fromkeys(k for _, m in strips for k in m.events)))
    out = {}
    for name, marks in strips:
        png = jump_strip(marks, palette)
        if png is None:
            continue
        target.mkdir(parents=True, exist_ok=True)
        path = target / file_name(name)
        write_atomic(path, png)
        out[name] = path
    return out


__all__ = ["JumpMarks", "colours", "file_name", "from_run", "from_study", "jump_strip", "write"]
