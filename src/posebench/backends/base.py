"""The one interface every pose backend implements, and what a frame yields."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from posebench.core.keypoints import to_landmarks


@dataclass
class PoseResult:
    """What one backend found on one frame, in pixels of the frame it was given."""

    keypoints: np.ndarray | None  # (K, 2) native keypoints, None when no person
    scores: np.ndarray | None  # (K,) native scores
    keypoint_set: str  # "mediapipe33" | "halpe26" | "coco17"
    box: np.ndarray | None = None  # (4,) x1, y1, x2, y2 of the reported person
    detector_ran: bool = True  # did a person detector run on this frame
    people: int = 0  # people the pose model was run on
    stage_ms: dict[str, float] = field(default_factory=dict)  # schema.BACKEND_STAGES -> ms
    model_runs: dict[str, int] = field(default_factory=dict)  # model name -> session runs

    @property
    def detected(self) -> bool:
        return self.keypoints is not None and len(self.keypoints) > 0

    def landmarks(self) -> np.ndarray:
        """The jump app's landmarks (``core.keypoints.LANDMARKS``, in that order) as an array of
        x, y, score, one row each (NaN where the keypoint set lacks one or nobody was found)."""
        return to_landmarks(self.keypoints, self.scores, self.keypoint_set)


class PoseBackend(ABC):
    """A configured pose estimator with per-run state.

    Made afresh for every pass over the frames (the runner closes it after); models it
    loads may be shared through a ``ModelCache``, state such as tracked boxes or a
    VIDEO-mode landmarker never is.
    """

    name: str
    keypoint_set: str
    init_ms: float = 0.0  # time to get the models ready for this run
    init_cached: bool = False  # True when the models came from the cache
    cold_init_ms: float = 0.0  # what init would have taken with nothing cached
    model_files: dict[str, str]  # role -> file path actually used

    @abstractmethod
    def process(self, image_bgr: np.ndarray, timestamp_ms: int) -> PoseResult:
        """Estimate the pose on one BGR frame; timestamps strictly increase."""

    def settings(self) -> dict:
        """Every setting this backend runs with, for the results table."""
        return {}

    def close(self) -> None:  # noqa: B027  (optional hook: most backends hold nothing)
        """Release per-run resources."""


def box_from_keypoints(
    keypoints: np.ndarray,
    scores: np.ndarray | None,
    min_score: float = 0.3,
    pad: float = 0.1,
    frame_shape: tuple[int, ...] | None = None,
) -> np.ndarray | None:
    """Bounding box of the confident keypoints, padded by ``pad`` of its size."""
    pts = keypoints
    if scores is not None:
        pts = keypoints[np.asarray(scores) >= min_score]
    pts = pts[np.all(np.isfinite(pts), axis=1)] if len(pts) else pts
    if len(pts) < 2:
        return None
    x1, y1 = pts.min(axis=0)
    x2, y2 = pts.max(axis=0)
    w, h = x2 - x1, y2 - y1
    box = np.array([x1 - pad * w, y1 - pad * h, x2 + pad * w, y2 + pad * h], dtype=np.float64)
    if frame_shape is not None:
        fh, fw = frame_shape[:2]
        box = np.clip(box, [0, 0, 0, 0], [fw - 1, fh - 1, fw - 1, fh - 1])
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    return box
