"""Per-backend summary rows from the per-frame table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from posebench.core import schema
from posebench.engine import foreign_cpu

# The summary table's columns, units and meanings live in the schema (one definition).
SUMMARY_COLUMNS = schema.SUMMARY_COLUMNS


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else np.nan


def _rate(ms: np.ndarray) -> float:
    """Frames per second of frames that took ``ms`` each."""
    total = float(np.sum(ms))
    return 1000.0 * len(ms) / total if total > 0 else np.nan


def round_speeds(timings: pd.DataFrame) -> pd.DataFrame:
    """One row per backend and round: timed frames, end-to-end and model-only FPS."""
    timed = timings[~timings["warmup"].astype(bool)] if len(timings) else timings
    rows = []
    for (label, rnd), part in timed.groupby(["backend", "round"], sort=False) if len(timed) else []:
        rows.append(
            {
                "backend": label,
                "round": int(rnd),
                "frames": int(len(part)),
                "fps": _rate(part["latency_ms"].to_numpy(float)),
                "fps_model": _rate(part["model_ms"].to_numpy(float)),
            }
        )
    return pd.DataFrame(rows, columns=["backend", "round", "frames", "fps", "fps_model"])


def summarise(
    frames: pd.DataFrame,
    configs,
    outcomes: list[dict],
    clip,
    options,
    overlapped: int,
    timings: pd.DataFrame | None = None,
    cpu_windows: list[dict] | None = None,
) -> pd.DataFrame:
    """One row per backend. ``timings`` (every round's per-frame times) gives the speed
    figures; without it (a run of one round) the per-frame table does. ``cpu_windows`` (one
    per pass: ``backend``, ``round`` and ``engine.foreign_cpu.between``'s figures) gives the
    share of the processor other work used meanwhile."""
    if timings is None:
        timings = frames.assign(round=1) if len(frames) else frames
    speeds = round_speeds(timings)
    rows = []
    for config, outcome in zip(configs, outcomes):
        label = config.display
        mine = frames[frames["backend"] == label] if len(frames) else frames
        every = timings[timings["backend"] == label] if len(timings) else timings
        timed = every[~every["warmup"].astype(bool)] if len(every) else every
        lat = timed["latency_ms"].to_numpy(dtype=float) if len(timed) else np.array([])
        model = timed["model_ms"].to_numpy(dtype=float) if len(timed) else np.array([])
        per_round = speeds[speeds["backend"] == label]
        fps = per_round["fps"].to_numpy(float)
        fps = fps[np.isfinite(fps)]
        fps_model = per_round["fps_model"].to_numpy(float)
        fps_model = fps_model[np.isfinite(fps_model)]
        row = {
            "backend": label,
            "preset": config.preset,
            "family": config.family,
            "status": outcome["status"],
            "error": outcome.get("error", ""),
            "frames": int(len(mine[~mine["warmup"].astype(bool)])) if len(mine) else 0,
            "frames_processed": int(len(mine)),
            "rounds": int(len(per_round)),
            "fps": float(np.median(fps)) if len(fps) else np.nan,
            "fps_min": float(fps.min()) if len(fps) else np.nan,
            "fps_max": float(fps.max()) if len(fps) else np.nan,
            "fps_model": float(np.median(fps_model)) if len(fps_model) else np.nan,
            "latency_ms_mean": float(lat.mean()) if len(lat) else np.nan,
            "latency_ms_p50": _pct(lat, 50),
            "latency_ms_p90": _pct(lat, 90),
            "latency_ms_p95": _pct(lat, 95),
            "latency_ms_p99": _pct(lat, 99),
            "model_ms_mean": float(model.mean()) if len(model) else np.nan,
        }
        for stage in schema.STAGES:
            col = schema.stage_column(stage)
            row[schema.stage_mean_column(stage)] = (
                float(timed[col].mean()) if len(timed) and col in timed else np.nan
            )
        row.update(
            {
                "init_ms": outcome.get("init_ms", np.nan),
                "init_cached": outcome.get("init_cached", False),
                "cold_init_ms": outcome.get("cold_init_ms", outcome.get("init_ms", np.nan)),
                "peak_rss_mb": outcome.get("peak_rss_mb", np.nan),
                "detection_rate": float(mine["detected"].mean()) if len(mine) else np.nan,
                "detector_rate": float(mine["detector_ran"].mean()) if len(mine) else np.nan,
                "people_mean": float(mine["people"].mean()) if len(mine) else np.nan,
                **foreign_cpu.pooled([w for w in cpu_windows or [] if w.get("backend") == label]),
                "overlapped_runs": overlapped,
                "settings": json.dumps(config.settings(), sort_keys=True),
                "notes": outcome.get("notes", ""),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
