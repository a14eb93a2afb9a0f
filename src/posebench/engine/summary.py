"""Per-backend summary rows from the per-frame table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from posebench.core import schema

# The summary table's columns, units and meanings live in the schema (one definition).
SUMMARY_COLUMNS = schema.SUMMARY_COLUMNS


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
        for stage in schema.STAGES:
            col = schema.stage_column(stage)
            row[schema.stage_mean_column(stage)] = float(timed[col].mean()) if len(timed) else np.nan
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
