"""Agreement between backends, from the per-frame table.

Distances are normalised by the reference backend's torso length (shoulder
mid-point to hip mid-point) on the same frame, so 0.1 means "a tenth of the
torso": about 5 cm on an adult.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posebench.core import schema
from posebench.core.keypoints import LANDMARKS, torso_length

THRESHOLDS = (0.05, 0.1, 0.2)


def landmark_array(frames: pd.DataFrame, backend: str) -> tuple[np.ndarray, np.ndarray]:
    """(frame indices, (T, 13, 3) x/y/score) for one backend, sorted by frame."""
    mine = frames[frames["backend"] == backend].sort_values("frame")
    arr = mine[schema.landmark_columns()].to_numpy(dtype=float).reshape(len(mine), len(LANDMARKS), 3)
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


def agreement(
    frames: pd.DataFrame, reference: str, candidate: str, thresholds: tuple[float, ...] = THRESHOLDS
) -> pd.DataFrame:
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
        row = {f"within_{t:g}": float(np.mean(values <= t)) if len(values) else np.nan for t in thresholds}
        row["median"] = float(np.median(values)) if len(values) else np.nan
        row["frames"] = int(len(values))
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "landmark"
    return out


def frames_all_within(frames: pd.DataFrame, reference: str, candidate: str, threshold: float = 0.1) -> float:
    """Share of frames where both found a person and every landmark both have is within
    ``threshold`` torso lengths: the tuned preset's acceptance measure."""
    dist = normalised_distances(frames, reference, candidate)
    present = dist.notna()
    usable = present.any(axis=1)
    if not usable.any():
        return float("nan")
    ok = ((dist <= threshold) | ~present).all(axis=1)
    return float(ok[usable].mean())


# -- tables over all backends of a run ------------------------------------------
# Column -> (unit, meaning): the pages' captions and docs/accuracy.md read this.
# The two words, defined once: every page and report uses these sentences.
AGREEMENT = (
    "Agreement: the share of landmark positions (13 points × frames, pooled) that lie within 0.1 "
    "torso length (about 5 cm on an adult) of the baseline's. It says how alike two models are, "
    "not which one is right."
)
WHOLE_SKELETON_MATCH = (
    "Whole-skeleton match: the share of frames on which all 13 points lie within 0.1 torso length "
    "of the baseline's at once; stricter than agreement, which counts single points."
)

AGREEMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "baseline": ("", "The reference backend every candidate is compared with."),
    "candidate": ("", "The backend compared with the baseline."),
    "landmark": ("", "One of the 13 jump landmarks, or 'all' for every landmark pooled."),
    "within_0.05": (
        "share",
        "Share of frames where the candidate is within 0.05 torso lengths "
        "(about 2-3 cm on an adult) of the baseline.",
    ),
    "within_0.1": ("share", "Share of frames within 0.1 torso lengths (about 5 cm)."),
    "within_0.2": ("share", "Share of frames within 0.2 torso lengths (about 10 cm)."),
    "median": ("torso lengths", "Median distance between the two backends' landmark."),
    "frames": ("frames", "Frames where both backends reported the landmark."),
    "frames_all_within_0.1": (
        "share",
        "Whole-skeleton match: share of frames where every landmark both have is within 0.1 torso lengths.",
    ),
    "detection_rate": ("share", "Share of processed frames on which the candidate found a person."),
    "detection_rate_baseline": ("share", "Share of processed frames on which the baseline found a person."),
    "trajectory_r2": (
        "R²",
        "How much of the baseline's vertical hip and ankle motion the "
        "candidate reproduces (1 = identical, 0 = none).",
    ),
}


def backends_in(frames: pd.DataFrame) -> list[str]:
    """Backend labels in the order they ran."""
    if frames is None or len(frames) == 0 or "backend" not in frames:
        return []
    return list(dict.fromkeys(frames["backend"].tolist()))


def detection_rates(frames: pd.DataFrame) -> pd.DataFrame:
    """Per backend: processed frames, frames with a person, and their share."""
    rows = []
    for label in backends_in(frames):
        mine = frames[frames["backend"] == label]
        rows.append(
            {
                "backend": label,
                "frames": int(len(mine)),
                "detected": int(mine["detected"].sum()),
                "detection_rate": float(mine["detected"].mean()) if len(mine) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["backend", "frames", "detected", "detection_rate"])


def agreement_table(
    frames: pd.DataFrame,
    baseline: str,
    candidates: list[str] | None = None,
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> pd.DataFrame:
    """Tidy agreement of every candidate with the baseline: one row per candidate and landmark
    (the 13 landmarks and ``all``), columns as in ``AGREEMENT_COLUMNS``."""
    candidates = [c for c in (candidates or backends_in(frames)) if c != baseline]
    parts = []
    for cand in candidates:
        table = agreement(frames, baseline, cand, thresholds).reset_index()
        table.insert(0, "candidate", cand)
        table.insert(0, "baseline", baseline)
        parts.append(table)
    columns = [
        "baseline",
        "candidate",
        "landmark",
        *[f"within_{t:g}" for t in thresholds],
        "median",
        "frames",
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def vertical_trajectories(frames: pd.DataFrame, backend: str) -> pd.DataFrame:
    """Per frame: vertical position (pixels, down is positive) of the hip mid-point and of
    each ankle, the signals take-off and landing are found from. NaN where absent."""
    mine = frames[frames["backend"] == backend].sort_values("frame")

    def y(name: str) -> np.ndarray:
        return mine[schema.landmark_column(name, "y")].to_numpy(float)

    out = pd.DataFrame(
        {
            "hip": (y("left_hip") + y("right_hip")) / 2,
            "left_ankle": y("left_ankle"),
            "right_ankle": y("right_ankle"),
        },
        index=pd.Index(mine["frame"].to_numpy(), name="frame"),
    )
    return out


def trajectory_r2(frames: pd.DataFrame, baseline: str, candidate: str) -> float:
    """Coefficient of determination of the candidate's vertical hip and ankle trajectories
    against the baseline's, pooled over the three signals on the frames both have.

    R² = 1 - Σ(candidate - baseline)² / Σ(baseline - mean of baseline)², each signal
    centred on its own mean so a still athlete's offsets between signals do not count.
    """
    ref = vertical_trajectories(frames, baseline)
    can = vertical_trajectories(frames, candidate)
    ref, can = ref.align(can, join="inner")
    ss_res = ss_tot = 0.0
    for col in ref.columns:
        both = ref[col].notna() & can[col].notna()
        if both.sum() < 3:
            continue
        r, c = ref.loc[both, col].to_numpy(), can.loc[both, col].to_numpy()
        ss_res += float(np.sum((c - r) ** 2))
        ss_tot += float(np.sum((r - r.mean()) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def agreement_overview(
    frames: pd.DataFrame,
    baseline: str,
    candidates: list[str] | None = None,
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> pd.DataFrame:
    """One row per candidate: overall agreement with the baseline, the share of frames with
    every landmark within 0.1 torso, both detection rates and the trajectory R²."""
    rates = detection_rates(frames).set_index("backend")["detection_rate"]
    table = agreement_table(frames, baseline, candidates, thresholds)
    rows = []
    for _, row in table[table["landmark"] == "all"].iterrows():
        cand = row["candidate"]
        out = {k: row[k] for k in table.columns if k != "landmark"}
        out["frames_all_within_0.1"] = frames_all_within(frames, baseline, cand, 0.1)
        out["detection_rate"] = float(rates.get(cand, np.nan))
        out["detection_rate_baseline"] = float(rates.get(baseline, np.nan))
        out["trajectory_r2"] = trajectory_r2(frames, baseline, cand)
        rows.append(out)
    columns = [
        "baseline",
        "candidate",
        *[f"within_{t:g}" for t in thresholds],
        "median",
        "frames",
        "frames_all_within_0.1",
        "detection_rate",
        "detection_rate_baseline",
        "trajectory_r2",
    ]
    return pd.DataFrame(rows, columns=columns)
