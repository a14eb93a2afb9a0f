"""A study's tables: one row per clip x backend, and the pooled statistics per backend.

``clip_table(rows, references, baseline)`` adds to each job row the clip's
reference and the errors against it, and the differences from the baseline
backend on the same clip. ``summary(clips, baseline)`` pools them per backend:
against the reference (bias with its 95 % CI, MAE, SD, 95 % limits of
agreement, ICC(2,1), Pearson r, take-off and landing frame bias and a
suggested calibration offset) and, for every other backend, against the
baseline. Statistics come from ``posebench.analysis.agreement`` (pingouin and
scipy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from posebench.analysis import agreement, paired_comparison
from posebench.analysis.jump_metrics import GRAVITY
from posebench.store.references import ClipReference
from posebench.studies.study_jobs import ROW_COLUMNS

# Column -> (unit, meaning) of study_clips.csv (besides the job row's ROW_COLUMNS).
CLIP_COLUMNS: dict[str, tuple[str, str]] = {
    **{k: ROW_COLUMNS[k] for k in ("clip", "sha256", "backend", "status", "error", "kind")},
    "athlete": ("", "Who jumped (the manifest's athlete column): one athlete's clips are not independent."),
    "session": ("", "When / where the clip was filmed (the manifest's session column)."),
    **{k: ROW_COLUMNS[k] for k in ("takeoff_frame", "landing_frame", "flight_time_s", "jump_height_m")},
    "reference_flight_time_s": (
        "s",
        "The clip's reference flight time (known, or from the reference frames / fps).",
    ),
    "reference_takeoff_frame": ("frame", "Reference take-off frame (first frame with both feet off)."),
    "reference_landing_frame": ("frame", "Reference landing frame (first frame with ground contact)."),
    "reference_source": ("", "Where the reference comes from."),
    "flight_time_error_ms": ("ms", "Flight time minus the reference's (positive = too long)."),
    "jump_height_error_cm": ("cm", "Jump height minus the height the reference flight time gives."),
    "takeoff_error_frames": ("frames", "Take-off frame minus the reference's (positive = late)."),
    "landing_error_frames": ("frames", "Landing frame minus the reference's (positive = late)."),
    "flight_time_diff_ms": ("ms", "Flight time minus the baseline backend's on the same clip."),
    "takeoff_diff_frames": ("frames", "Take-off frame minus the baseline's (positive = later)."),
    "landing_diff_frames": ("frames", "Landing frame minus the baseline's (positive = later)."),
    **{k: ROW_COLUMNS[k] for k in ("detection_rate", "fps", "latency_ms_mean", "frames", "fps_clip")},
    "host": ("", "Machine the job ran on."),
    "job_seconds": ("s", "Wall time of the job on its host."),
    "landmarks_sha256": ROW_COLUMNS["landmarks_sha256"],
    "key": ROW_COLUMNS["key"],
}

# Column -> (unit, meaning) of study_summary.csv, one row per backend.
SUMMARY_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The backend's label."),
    "role": ("", "baseline, or candidate (judged against the baseline)."),
    "n_clips": (
        "clips",
        "Clips the accuracy rests on: a jump found and (if any clip has one) a reference.",
    ),
    "n_jumps": ("clips", "Clips on which a jump was found."),
    "n_failed": ("clips", "Clips that gave no jump (unreadable, no person, no jump found)."),
    "flight_time_bias_ms": ("ms", "Mean flight-time error against the reference (positive = too long)."),
    "flight_time_bias_ci_low_ms": ("ms", "Lower end of the bias's 95 % confidence interval."),
    "flight_time_bias_ci_high_ms": ("ms", "Upper end of the bias's 95 % confidence interval."),
    "flight_time_mae_ms": ("ms", "Mean absolute flight-time error against the reference."),
    "flight_time_sd_ms": ("ms", "SD of the flight-time errors."),
    "loa_low_ms": ("ms", "Lower 95 % limit of agreement with the reference: bias - 1.96 SD."),
    "loa_high_ms": ("ms", "Upper 95 % limit of agreement with the reference: bias + 1.96 SD."),
    "icc": ("", agreement.ICC_FORM + ", backend vs reference flight time."),
    "icc_ci_low": ("", "Lower end of the ICC's 95 % confidence interval."),
    "icc_ci_high": ("", "Upper end of the ICC's 95 % confidence interval."),
    "r": ("", "Pearson r of backend and reference flight times."),
    "jump_height_bias_cm": ("cm", "Mean jump-height error against the reference."),
    "takeoff_bias_frames": ("frames", "Mean take-off frame error against the reference (positive = late)."),
    "takeoff_mae_frames": ("frames", "Mean absolute take-off frame error."),
    "landing_bias_frames": ("frames", "Mean landing frame error against the reference (positive = late)."),
    "landing_mae_frames": ("frames", "Mean absolute landing frame error."),
    "takeoff_offset_frames": (
        "frames",
        "Suggested calibration: frames to add to the detected take-off.",
    ),
    "landing_offset_frames": (
        "frames",
        "Suggested calibration: frames to add to the detected landing.",
    ),
    "n_paired_baseline": ("clips", "Clips where both this backend and the baseline found a jump."),
    "flight_time_diff_bias_ms": (
        "ms",
        "Mean flight-time difference: this backend minus the baseline.",
    ),
    "flight_time_diff_mae_ms": ("ms", "Mean absolute flight-time difference from the baseline."),
    "diff_loa_low_ms": ("ms", "Lower 95 % limit of agreement with the baseline."),
    "diff_loa_high_ms": ("ms", "Upper 95 % limit of agreement with the baseline."),
    "diff_icc": ("", "ICC(2,1) of this backend's and the baseline's flight times."),
    "takeoff_diff_bias_frames": ("frames", "Mean take-off difference from the baseline (positive = later)."),
    "landing_diff_bias_frames": ("frames", "Mean landing difference from the baseline (positive = later)."),
    "detection_rate": ("share", "Mean share of frames with a person found, over the clips."),
    "fps": ("frames/s", "Median end-to-end speed over the clips, on the speed host."),
    "fps_min": ("frames/s", "Slowest clip's speed on that host."),
    "fps_max": ("frames/s", "Fastest clip's speed on that host."),
    "rounds": ("clips", "Clips the speed spread is over."),
    "speed_host": ("", "The one host speed is compared on (never pooled across hosts)."),
}


def _ref_fields(ref: ClipReference | None, fps_clip: float) -> dict:
    if ref is None:
        return {
            "reference_flight_time_s": np.nan,
            "reference_takeoff_frame": np.nan,
            "reference_landing_frame": np.nan,
            "reference_source": "",
        }
    return {
        "reference_flight_time_s": ref.flight_time(fps_clip),
        "reference_takeoff_frame": ref.takeoff_frame,
        "reference_landing_frame": ref.landing_frame,
        "reference_source": ref.source,
    }


def clip_table(
    rows: list[dict],
    references: dict[str, ClipReference],
    baseline: str,
    groups: dict[str, dict[str, str]] | None = None,
) -> pd.DataFrame:
    """One row per clip x backend with the reference, the errors and the baseline differences;
    ``groups``: clip SHA-256 -> its ``athlete`` and ``session``."""
    table = pd.DataFrame(rows)
    for col in CLIP_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    if table.empty:
        return table[list(CLIP_COLUMNS)]
    for col in ("athlete", "session"):
        table[col] = [str((groups or {}).get(str(sha), {}).get(col, "") or "") for sha in table["sha256"]]
    fps_of_clip = table.groupby("sha256")["fps_clip"].transform("max")
    refs = [_ref_fields(references.get(str(s)), f) for s, f in zip(table["sha256"], fps_of_clip)]
    for col in ("reference_flight_time_s", "reference_takeoff_frame", "reference_landing_frame"):
        table[col] = [float(r[col]) for r in refs]
    table["reference_source"] = [r["reference_source"] for r in refs]
    ok = table["status"] == "ok"
    num = lambda c: pd.to_numeric(table[c], errors="coerce").where(ok)  # noqa: E731
    ref_ft = table["reference_flight_time_s"]
    table["flight_time_error_ms"] = (num("flight_time_s") - ref_ft) * 1000
    table["jump_height_error_cm"] = (num("jump_height_m") - GRAVITY * ref_ft**2 / 8) * 100
    table["takeoff_error_frames"] = num("takeoff_frame") - table["reference_takeoff_frame"]
    table["landing_error_frames"] = num("landing_frame") - table["reference_landing_frame"]
    base = table[(table["backend"] == baseline) & ok].drop_duplicates("sha256").set_index("sha256")
    for diff, col, scale in (
        ("flight_time_diff_ms", "flight_time_s", 1000.0),
        ("takeoff_diff_frames", "takeoff_frame", 1.0),
        ("landing_diff_frames", "landing_frame", 1.0),
    ):
        theirs = table["sha256"].map(pd.to_numeric(base[col], errors="coerce"))
        table[diff] = (num(col) - theirs) * scale
    return table[[*CLIP_COLUMNS, *[c for c in table.columns if c not in CLIP_COLUMNS]]]


# The paired table (one row per clip both backends measured): ``analysis.paired_comparison``.
PAIRED_COLUMNS = paired_comparison.TABLE_COLUMNS
paired_table = paired_comparison.paired_table


def incidental_speed_words(summary: pd.DataFrame, baseline: str) -> str:
    """The study's own timings in words ('one pass per clip on HOST: X at N% of the baseline's
    speed'): shown beside the verdict, never deciding."""
    if summary.empty or "fps" not in summary.columns:
        return ""
    table = summary.set_index("backend")
    if baseline not in table.index:
        return ""
    base = table.loc[baseline, "fps"]
    parts = []
    for label, row in table.iterrows():
        if label == baseline or not (pd.notna(row["fps"]) and pd.notna(base) and base > 0):
            continue
        parts.append(f"{label} at {row['fps'] / base:.0%} of {baseline}'s speed")
    if not parts:
        return ""
    host = str(table["speed_host"].iloc[0]) if "speed_host" in table.columns else ""
    return "one pass per clip" + (f" on {host}" if host and host != "nan" else "") + ": " + ", ".join(parts)


def _speed_host(clips: pd.DataFrame) -> str:
    hosts = clips.loc[clips["status"] == "ok", "host"].dropna().astype(str)
    return hosts.value_counts().index[0] if len(hosts) else ""


def summary(clips: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Pooled statistics per backend (columns ``SUMMARY_COLUMNS``), the baseline first."""
    labels = list(dict.fromkeys(clips["backend"])) if len(clips) else []
    labels = ([baseline] if baseline in labels else []) + [b for b in labels if b != baseline]
    any_reference = bool(len(clips)) and clips["reference_flight_time_s"].notna().any()
    host = _speed_host(clips) if len(clips) else ""
    out = []
    for label in labels:
        mine = clips[clips["backend"] == label]
        ok = mine[mine["status"] == "ok"]
        paired = ok[ok["reference_flight_time_s"].notna()] if any_reference else ok
        acc = agreement.agreement(paired["flight_time_s"] * 1000, paired["reference_flight_time_s"] * 1000)
        row = {
            "backend": label,
            "role": "baseline" if label == baseline else "candidate",
            "n_clips": int(len(paired)),
            "n_jumps": int(len(ok)),
            "n_failed": int((mine["status"] != "ok").sum()),
        }
        if any_reference:
            row.update(
                flight_time_bias_ms=acc.bias,
                flight_time_bias_ci_low_ms=acc.bias_ci_low,
                flight_time_bias_ci_high_ms=acc.bias_ci_high,
                flight_time_mae_ms=acc.mae,
                flight_time_sd_ms=acc.sd,
                loa_low_ms=acc.loa_low,
                loa_high_ms=acc.loa_high,
                icc=acc.icc,
                icc_ci_low=acc.icc_ci_low,
                icc_ci_high=acc.icc_ci_high,
                r=acc.r,
                jump_height_bias_cm=agreement.mean_or_nan(ok["jump_height_error_cm"]),
            )
        for event in ("takeoff", "landing"):
            errors = pd.to_numeric(ok[f"{event}_error_frames"], errors="coerce").dropna()
            bias = float(errors.mean()) if len(errors) else np.nan
            row[f"{event}_bias_frames"] = bias
            row[f"{event}_mae_frames"] = float(errors.abs().mean()) if len(errors) else np.nan
            row[f"{event}_offset_frames"] = agreement.calibration_offset(bias)
        if label != baseline:
            both = ok[ok["flight_time_diff_ms"].notna()]
            base_ft = both["flight_time_s"] * 1000 - both["flight_time_diff_ms"]
            vs = agreement.agreement(both["flight_time_s"] * 1000, base_ft)
            row.update(
                n_paired_baseline=int(vs.n),
                flight_time_diff_bias_ms=vs.bias,
                flight_time_diff_mae_ms=vs.mae,
                diff_loa_low_ms=vs.loa_low,
                diff_loa_high_ms=vs.loa_high,
                diff_icc=vs.icc,
                takeoff_diff_bias_frames=agreement.mean_or_nan(both["takeoff_diff_frames"]),
                landing_diff_bias_frames=agreement.mean_or_nan(both["landing_diff_frames"]),
            )
        speed = pd.to_numeric(ok.loc[ok["host"].astype(str) == host, "fps"], errors="coerce").dropna()
        row.update(
            detection_rate=agreement.mean_or_nan(mine["detection_rate"]),
            fps=float(speed.median()) if len(speed) else np.nan,
            fps_min=float(speed.min()) if len(speed) else np.nan,
            fps_max=float(speed.max()) if len(speed) else np.nan,
            rounds=int(len(speed)),
            speed_host=host,
        )
        out.append(row)
    table = pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))
    for col in table.columns:
        if col not in ("backend", "role", "speed_host"):
            table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
    counts = [c for c, (unit, _) in SUMMARY_COLUMNS.items() if unit == "clips"]
    for col in ("takeoff_offset_frames", "landing_offset_frames", *counts):
        table[col] = table[col].round().astype("Int64")
    return table


# The pooled statistics a reader is shown first (the Study page's table, the command line's
# printout), in this order; the rest of SUMMARY_COLUMNS is in study_summary.csv.
HEADLINE_COLUMNS = [
    "backend",
    "role",
    "n_clips",
    "flight_time_bias_ms",
    "flight_time_bias_ci_low_ms",
    "flight_time_bias_ci_high_ms",
    "flight_time_mae_ms",
    "loa_low_ms",
    "loa_high_ms",
    "icc",
    "r",
    "takeoff_bias_frames",
    "landing_bias_frames",
    "takeoff_offset_frames",
    "flight_time_diff_mae_ms",
    "detection_rate",
    "fps",
]

__all__ = [
    "CLIP_COLUMNS",
    "HEADLINE_COLUMNS",
    "PAIRED_COLUMNS",
    "SUMMARY_COLUMNS",
    "clip_table",
    "incidental_speed_words",
    "paired_table",
    "summary",
]
