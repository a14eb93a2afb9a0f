"""Per-backend summary rows from the per-frame table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

# Column -> (unit, one sentence of meaning). The dashboard's captions and the
# README's column reference read this one table.
SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The configuration's label (preset and changed settings)."),
    "preset": ("", "The named preset it started from."),
    "family": ("", "mediapipe or rtmpose."),
    "status": ("", "ok, failed or cancelled."),
    "error": ("", "Why it failed or stopped, in one sentence."),
    "frames": ("frames", "Timed frames: processed frames minus the warm-up frames."),
    "frames_processed": ("frames", "All frames the backend processed, warm-up included."),
    "fps": ("frames/s", "End-to-end speed: timed frames / (decode + model time)."),
    "fps_model": ("frames/s", "Model-only speed: timed frames / model time (decode left out)."),
    "latency_ms_mean": ("ms", "Mean end-to-end time per frame (decode + model)."),
    "latency_ms_p50": ("ms", "Median end-to-end time per frame."),
    "latency_ms_p90": ("ms", "90th percentile: 9 in 10 frames were faster."),
    "latency_ms_p95": ("ms", "95th percentile end-to-end time per frame."),
    "latency_ms_p99": ("ms", "99th percentile end-to-end time per frame."),
    "model_ms_mean": ("ms", "Mean model time per frame (preprocess, detect, pose, postprocess)."),
    "decode_ms_mean": ("ms", "Mean time to decode one frame."),
    "preprocess_ms_mean": ("ms", "Mean time resizing and normalising inputs per frame."),
    "detect_ms_mean": (
        "ms",
        "Mean person-detector time per frame (0 on frames it did not run). "
        "MediaPipe runs its detector inside the landmarker call, so its "
        "detector time is counted under pose_ms.",
    ),
    "pose_ms_mean": ("ms", "Mean pose-model time per frame."),
    "postprocess_ms_mean": ("ms", "Mean time decoding model outputs per frame."),
    "init_ms": ("ms", "Time to get the models ready for this run."),
    "init_cached": ("", "True when the models came from the in-memory cache."),
    "cold_init_ms": ("ms", "Time the first, uncached load of these models took in this process."),
    "peak_rss_mb": ("MB", "Peak resident memory of the whole process during this backend's run."),
    "detection_rate": ("share", "Share of processed frames with a person found (0-1)."),
    "detector_rate": ("share", "Share of processed frames on which a person detector ran (0-1)."),
    "people_mean": ("people", "Mean number of people the pose model ran on per frame."),
    "overlapped_runs": (
        "runs",
        "Other benchmark runs in this process at the same time; "
        "timings with a value above 0 are not comparable.",
    ),
    "settings": ("", "Every setting of the configuration, as JSON."),
    "notes": (
        "",
        "What a reader must know with these numbers: a frame or time cap, or that no person was found.",
    ),
}


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else np.nan


def summarise(
    frames: pd.DataFrame, configs, outcomes: list[dict], clip, options, overlapped: int
) -> pd.DataFrame:
    rows = []
    for config, outcome in zip(configs, outcomes):
        label = config.display
        mine = frames[frames["backend"] == label] if len(frames) else frames
        timed = mine[~mine["warmup"]] if len(mine) else mine
        lat = timed["latency_ms"].to_numpy(dtype=float) if len(timed) else np.array([])
        model = timed["model_ms"].to_numpy(dtype=float) if len(timed) else np.array([])
        row = {
            "backend": label,
            "preset": config.preset,
            "family": config.family,
            "status": outcome["status"],
            "error": outcome.get("error", ""),
            "frames": int(len(timed)),
            "frames_processed": int(len(mine)),
            "fps": 1000.0 * len(lat) / lat.sum() if lat.sum() > 0 else np.nan,
            "fps_model": 1000.0 * len(model) / model.sum() if model.sum() > 0 else np.nan,
            "latency_ms_mean": float(lat.mean()) if len(lat) else np.nan,
            "latency_ms_p50": _pct(lat, 50),
            "latency_ms_p90": _pct(lat, 90),
            "latency_ms_p95": _pct(lat, 95),
            "latency_ms_p99": _pct(lat, 99),
            "model_ms_mean": float(model.mean()) if len(model) else np.nan,
        }
        for stage in ("decode", "preprocess", "detect", "pose", "postprocess"):
            col = f"{stage}_ms"
            row[f"{stage}_ms_mean"] = float(timed[col].mean()) if len(timed) else np.nan
        row.update(
            {
                "init_ms": outcome.get("init_ms", np.nan),
                "init_cached": outcome.get("init_cached", False),
                "cold_init_ms": outcome.get("cold_init_ms", outcome.get("init_ms", np.nan)),
                "peak_rss_mb": outcome.get("peak_rss_mb", np.nan),
                "detection_rate": float(mine["detected"].mean()) if len(mine) else np.nan,
                "detector_rate": float(mine["detector_ran"].mean()) if len(mine) else np.nan,
                "people_mean": float(mine["people"].mean()) if len(mine) else np.nan,
                "overlapped_runs": overlapped,
                "settings": json.dumps(config.settings(), sort_keys=True),
                "notes": outcome.get("notes", ""),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
