"""Agreement between backends, from the per-frame table.

Distances are normalised by the reference backend's torso length (shoulder
mid-point to hip mid-point) on the same frame, so 0.1 means "a tenth of the
torso": about 5 cm on an adult.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .keypoints import LANDMARKS, torso_length

THRESHOLDS = (0.05, 0.1, 0.2)


def landmark_array(frames: pd.DataFrame, backend: str) -> tuple[np.ndarray, np.ndarray]:
    """(frame indices, (T, 13, 3) x/y/score) for one backend, sorted by frame."""
    mine = frames[frames["backend"] == backend].sort_values("frame")
    cols = [f"{name}_{part}" for name in LANDMARKS for part in ("x", "y", "score")]
    arr = mine[cols].to_numpy(dtype=float).reshape(len(mine), len(LANDMARKS), 3)
    return mine["frame"].to_numpy(), arr


def normalised_distances(frames: pd.DataFrame, reference: str, candidate: str) -> pd.DataFrame:
    """Per frame and landmark: distance / reference torso length (NaN where either lacks it)."""
    f_ref, ref = landmark_array(frames, reference)
    f_can, can = landmark_array(frames, candidate)
    common, i_ref, i_can = np.intersect1d(f_ref, f_can, return_indices=True)
    ref, can = ref[i_ref], can[i_can]
    torso = torso_length(ref)
    torso = np.where(torso > 1e-6, torso, np.nan)
    dist = np.linalg.norm(ref[..., :2] - can[..., :2], axis=-1) / torso[:, None]
    return pd.DataFrame(dist, index=pd.Index(common, name="frame"), columns=list(LANDMARKS))


def agreement(frames: pd.DataFrame, reference: str, candidate: str,
              thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
    """Share of frames within each threshold, per landmark and overall.

    Rows: the 13 landmarks and ``all``; columns ``within_<t>`` (0-1),
    ``median`` (torso lengths) and ``frames`` (frames where both found it).
    A landmark one backend lacks (COCO-17 heels) has ``frames`` = 0 and NaN.
    """
    dist = normalised_distances(frames, reference, candidate)
    rows = {}
    for name in [*LANDMARKS, "all"]:
        values = dist.to_numpy().ravel() if name == "all" else dist[name].to_numpy()
        values = values[np.isfinite(values)]
        row = {f"within_{t:g}": float(np.mean(values <= t)) if len(values) else np.nan
               for t in thresholds}
        row["median"] = float(np.median(values)) if len(values) else np.nan
        row["frames"] = int(len(values))
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "landmark"
    return out


def frames_all_within(frames: pd.DataFrame, reference: str, candidate: str,
                      threshold: float = 0.1) -> float:
    """Share of frames where both found a person and every landmark both have is within
    ``threshold`` torso lengths: the tuned preset's acceptance measure."""
    dist = normalised_distances(frames, reference, candidate)
    present = dist.notna()
    usable = present.any(axis=1)
    if not usable.any():
        return float("nan")
    ok = ((dist <= threshold) | ~present).all(axis=1)
    return float(ok[usable].mean())
