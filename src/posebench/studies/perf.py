"""The speed check: ``python -m posebench perf CLIP``.

In one process, on the same preloaded frames, and interleaved round by round
(the order rotates each round, so no contestant always runs first):

* the floor: ``session.run`` on fixed inputs (the clip's first frame,
  pre-processed) for each model the tuned pipeline uses, with that
  pipeline's own sessions;
* the rtmlib default: rtmlib's own ``BodyWithFeet`` object built from the
  local files (``det_input_size`` 416, detector on every frame, every person);
* the ``rtmpose-lightweight`` preset (the same defaults through PoseBench);
* the tuned preset ``rtmpose-lightweight-tuned``;
* MediaPipe Pose Landmarker lite in VIDEO mode.

Each pass processes every frame; a pass's time is the wall time of its
``process`` calls. Ratios are taken per round (paired, so a slow moment of
the machine hits both sides) and their median is reported against its target.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import metrics
from posebench.backends import BackendConfig, ModelCache, PoseBackend, PoseResult
from posebench.backends.rtmpose_backend import RTMPoseBackend
from posebench.backends.sessions import session_settings
from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.io import video
from posebench.models import store as model_store

TUNED = backends.config.TUNED_PRESET
DEFAULT_PRESET = backends.config.CANDIDATE_PRESET
BASELINE = backends.config.BASELINE_PRESET
RTMLIB_DEFAULT = "rtmlib BodyWithFeet"

# ratio name -> (meaning, target, "max" = must stay at or under | "min" = at or over)
TARGETS = {
    "overhead": ("tuned pipeline time / sum of the model runs it made, each at its floor time", 1.15, "max"),
    "vs_mediapipe": ("tuned RTMPose FPS / MediaPipe lite VIDEO FPS", 1.0, "min"),
    "vs_default": ("tuned RTMPose FPS / rtmlib default FPS", 5.0, "min"),
}
FLOOR_REPEATS = {"detector": 10, "pose": 30}


@dataclass
class Pass:
    contestant: str
    round: int
    seconds: float
    frames: int
    detector_runs: int = 0
    pose_runs: dict[int, int] = field(default_factory=dict)  # batch size -> runs

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class PerfReport:
    clip: video.ClipInfo
    frames: int
    rounds: int
    table: pd.DataFrame  # one row per contestant: medians and spread
    ratios: pd.DataFrame  # one row per ratio: value, target, verdict, meaning
    floors: pd.DataFrame  # one row per model and batch size: ms per session.run
    agreement: pd.DataFrame  # share of frames within 0.1 torso of MediaPipe lite
    settings: dict[str, dict]  # contestant -> its exact settings
    passes: pd.DataFrame  # every timed pass
    load: tuple[float, float]  # 1-minute load average at start and end


class _RtmlibDefault:
    """rtmlib's own BodyWithFeet (its sessions, its code), built from local files."""

    def __init__(self, preset: BackendConfig):
        try:
            from rtmlib import BodyWithFeet
        except ImportError as exc:
            raise BenchError(f"rtmlib is not installed ({exc})") from None
        det = str(model_store.resolve(preset.detector, fetch=False))
        pose = str(model_store.resolve(preset.pose, fetch=False))
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # rtmlib prints "load ..." lines
                self.body = BodyWithFeet(
                    det=det,
                    pose=pose,
                    pose_input_size=(192, 256),
                    det_input_size=(preset.det_input, preset.det_input),
                    backend="onnxruntime",
                    device="cpu",
                )
        except Exception as exc:
            raise BenchError(
                f"rtmlib's own BodyWithFeet failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        self.settings = {
            "object": "rtmlib.BodyWithFeet",
            "det": os.path.basename(det),
            "det_input_size": (preset.det_input, preset.det_input),
            "pose": os.path.basename(pose),
            "pose_input_size": (192, 256),
            "backend": "onnxruntime",
            "device": "cpu",
            "session options": "ONNX Runtime defaults (rtmlib passes none)",
        }

    def process(self, image, timestamp_ms: int) -> PoseResult:
        keypoints, _scores = self.body(image)
        people = len(keypoints)
        # Counted, not used for agreement: rtmlib returns people in detector order.
        return PoseResult(
            keypoints=None,
            scores=None,
            keypoint_set="halpe26",
            people=people,
            model_runs={"detector": 1, "pose": people},
        )

    def close(self) -> None:
        """Stateless: nothing to release between passes."""


def _floor_ms(session, feed: np.ndarray, repeats: int) -> float:
    """Mean time of one bare ``session.run`` on a fixed input, in ms (a mean, like the
    pipeline's pass time, so a busy moment weighs the same on both sides)."""
    name = session.get_inputs()[0].name
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(None, {name: feed})
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.fmean(times)


def _run_pass(
    name: str,
    make: Callable[[], PoseBackend | _RtmlibDefault],
    frames: list[video.Frame],
    rnd: int,
    keep: dict | None,
) -> Pass:
    backend = make()
    runs_det = 0
    runs_pose: dict[int, int] = {}
    results = []
    elapsed = 0.0
    try:
        for frame in frames:
            t0 = time.perf_counter()
            out = backend.process(frame.image, frame.timestamp_ms)
            elapsed += time.perf_counter() - t0
            runs_det += out.model_runs.get("detector", 0)
            pose_runs = out.model_runs.get("pose", 0)
            if pose_runs:
                batch = max(1, out.people // pose_runs)  # crops per run: > 1 only with batch_pose
                runs_pose[batch] = runs_pose.get(batch, 0) + pose_runs
            results.append(out)
    finally:
        backend.close()
    if keep is not None and name not in keep:
        keep[name] = results
    return Pass(name, rnd, elapsed, len(frames), runs_det, runs_pose)


def _landmark_table(outputs: dict[str, list]) -> pd.DataFrame:
    """Per-frame landmark rows (the runner's column names) for the agreement measure."""
    rows = []
    for name, results in outputs.items():
        for i, res in enumerate(results):
            lm = res.landmarks()
            row = {"backend": name, "frame": i}
            row.update(zip(schema.landmark_columns(), lm.ravel()))
            rows.append(row)
    return pd.DataFrame(rows)


def _verdict(value: float, target: float, direction: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    ok = value <= target if direction == "max" else value >= target
    return "PASS" if ok else "MISS"


def run_perf(
    clip_path: str,
    frames: int = 60,
    rounds: int = 3,
    tuned: str = TUNED,
    baseline: str = BASELINE,
    include_preset_default: bool = True,
    cache: ModelCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> PerfReport:
    """Run the interleaved speed check; see the module docstring."""
    if frames < 1 or rounds < 1:
        raise BenchError("perf needs at least 1 frame and 1 round")
    say = progress or (lambda _msg: None)
    cache = cache if cache is not None else ModelCache()
    load_start = os.getloadavg()[0]
    clip = video.probe(clip_path)
    clip_frames = list(video.iter_frames(clip.path, max_frames=frames, fps=clip.fps))
    if not clip_frames:
        raise BenchError(f"{clip.name} has no frames to time")
    tuned_cfg = backends.parse(tuned)
    default_cfg = backends.parse(DEFAULT_PRESET)
    base_cfg = backends.parse(baseline)
    if tuned_cfg.family != "rtmpose" or tuned_cfg.engine != "onnxruntime":
        raise BenchError("perf measures an RTMPose configuration on the onnxruntime engine")

    def make(config):
        return lambda: backends.create(config, cache)

    rtmlib_default = _RtmlibDefault(default_cfg)
    contestants: dict[str, Callable[[], PoseBackend | _RtmlibDefault]] = {
        RTMLIB_DEFAULT: lambda: rtmlib_default,
        tuned_cfg.display: make(tuned_cfg),
        base_cfg.display: make(base_cfg),
    }
    if include_preset_default:
        contestants[default_cfg.display] = make(default_cfg)
    probe_backend = backends.create(tuned_cfg, cache)
    if not isinstance(probe_backend, RTMPoseBackend):
        probe_backend.close()
        raise BenchError(f"{tuned_cfg.display} is not an RTMPose configuration")
    try:
        sessions = probe_backend.sessions()
        feeds = probe_backend.model_inputs(clip_frames[0].image)
        session_info = {role: session_settings(s) for role, s in sessions.items()}

        passes: list[Pass] = []
        floor_rows: list[dict] = []
        outputs: dict[str, list] = {}
        names = list(contestants)
        batches = {1}
        for rnd in range(rounds + 1):  # round 0 warms everything up, untimed
            order = names[rnd % len(names) :] + names[: rnd % len(names)]
            say(f"round {rnd}/{rounds}" + (" (warm-up)" if rnd == 0 else ""))
            for name in order:
                if name == tuned_cfg.display:  # the floor, right before the pipeline it bounds
                    for role, session in sessions.items():
                        for b in sorted(batches) if role == "pose" else [1]:
                            feed = np.repeat(feeds[role], b, axis=0) if b > 1 else feeds[role]
                            ms = _floor_ms(session, feed, FLOOR_REPEATS[role])
                            if rnd:
                                floor_rows.append({"round": rnd, "model": role, "batch": b, "ms": ms})
                p = _run_pass(name, contestants[name], clip_frames, rnd, outputs if rnd == 0 else None)
                if name == tuned_cfg.display:
                    batches.update(p.pose_runs)
                if rnd:
                    passes.append(p)
    finally:
        probe_backend.close()
    load_end = os.getloadavg()[0]

    pass_df = pd.DataFrame(
        [{**p.__dict__, "pose_runs": sum(p.pose_runs.values()), "fps": p.fps} for p in passes]
    )
    floors = pd.DataFrame(floor_rows)
    by_round = {(p.contestant, p.round): p for p in passes}
    ratio_values: dict[str, list[float]] = {k: [] for k in TARGETS}
    for rnd in range(1, rounds + 1):
        t = by_round[(tuned_cfg.display, rnd)]
        fl = floors[floors["round"] == rnd].set_index(["model", "batch"])["ms"]
        floor_sum = t.detector_runs * fl.get(("detector", 1), np.nan) + sum(
            n * fl.get(("pose", b), np.nan) for b, n in t.pose_runs.items()
        )
        ratio_values["overhead"].append(t.seconds * 1e3 / floor_sum if floor_sum > 0 else np.nan)
        ratio_values["vs_mediapipe"].append(t.fps / by_round[(base_cfg.display, rnd)].fps)
        ratio_values["vs_default"].append(t.fps / by_round[(RTMLIB_DEFAULT, rnd)].fps)
    ratio_rows = []
    for key, (meaning, target, direction) in TARGETS.items():
        vals = np.array(ratio_values[key], dtype=float)
        value = float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")
        ratio_rows.append(
            {
                "ratio": key,
                "value": value,
                "min": float(np.nanmin(vals)),
                "max": float(np.nanmax(vals)),
                "target": f"{'<=' if direction == 'max' else '>='} {target:g}",
                "verdict": _verdict(value, target, direction),
                "meaning": meaning,
            }
        )

    table = (
        pass_df.groupby("contestant", sort=False)
        .agg(
            ms_per_frame=("seconds", lambda s: 1e3 * float(np.median(s)) / len(clip_frames)),
            fps=("fps", "median"),
            fps_min=("fps", "min"),
            fps_max=("fps", "max"),
            detector_runs=("detector_runs", "median"),
            pose_runs=("pose_runs", "median"),
        )
        .reset_index()
    )
    table["detector_runs_per_frame"] = table.pop("detector_runs") / len(clip_frames)
    table["pose_runs_per_frame"] = table.pop("pose_runs") / len(clip_frames)
    floor_table = (
        floors.groupby(["model", "batch"])
        .agg(ms=("ms", "median"), ms_min=("ms", "min"), ms_max=("ms", "max"))
        .reset_index()
    )

    lm = _landmark_table(outputs)
    agree_rows = []
    for name in outputs:
        if name in (base_cfg.display, RTMLIB_DEFAULT):
            continue
        agree_rows.append(
            {
                "contestant": name,
                "frames_all_within_0.1": metrics.frames_all_within(lm, base_cfg.display, name),
            }
        )
    settings = {
        RTMLIB_DEFAULT: rtmlib_default.settings,
        tuned_cfg.display: tuned_cfg.settings(),
        base_cfg.display: base_cfg.settings(),
    }
    if include_preset_default:
        settings[default_cfg.display] = default_cfg.settings()
    settings[f"{tuned_cfg.display} sessions (read back)"] = session_info
    return PerfReport(
        clip=clip,
        frames=len(clip_frames),
        rounds=rounds,
        table=table,
        ratios=pd.DataFrame(ratio_rows),
        floors=floor_table,
        agreement=pd.DataFrame(agree_rows),
        settings=settings,
        passes=pass_df,
        load=(load_start, load_end),
    )


__all__ = ["PerfReport", "run_perf", "TARGETS"]
