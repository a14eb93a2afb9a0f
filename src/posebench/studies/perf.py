"""The speed check: ``python -m posebench perf CLIP``.

Through the runner (``posebench.engine.runner.run_benchmark``), on the same frames
(preloaded, or decoded in every pass with ``end_to_end``), in interleaved rounds whose
order rotates (so no contestant always runs first), after each pass's warm-up frames:

* the floor: one bare model run (``session.run`` / an OpenVINO request) on fixed inputs
  (the clip's first frame, pre-processed) for each model the tuned pipeline uses, with
  that pass's own sessions, timed right before its pass;
* the rtmlib default: rtmlib's own ``BodyWithFeet`` object built from the local files
  (``det_input_size`` 416, detector on every frame, every person);
* the ``rtmpose-lightweight`` preset (the same defaults through PoseBench);
* the tuned preset ``rtmpose-lightweight-tuned`` (``engine=auto``: the engine measured
  fastest on this machine, recorded);
* MediaPipe Pose Landmarker lite in VIDEO mode;
* any further configurations (``also``), e.g. the tuned preset on ONNX Runtime as "before".

A pass's time is the sum of its timed frames' times. Ratios are taken per round (paired,
so a slow moment of the machine hits both sides) and their median is reported against its
target. The landmarks come from the first round (every later round gives the same).
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import metrics
from posebench.backends import BackendConfig, ModelCache, PoseResult
from posebench.core.errors import BenchError
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.models import store as model_store
from posebench.store.run_record import Contestant, RunOptions

TUNED = "rtmpose-lightweight-tuned"
DEFAULT_PRESET = "rtmpose-lightweight"
BASELINE = "mediapipe-lite"
RTMLIB_DEFAULT = "rtmlib BodyWithFeet"

# ratio name -> (meaning, target, "max" = must stay at or under | "min" = at or over)
TARGETS = {
    "overhead": (
        "tuned pipeline model time / sum of the model runs it made, each at its floor time",
        1.15,
        "max",
    ),
    "vs_mediapipe": ("tuned RTMPose FPS / MediaPipe lite VIDEO FPS", 1.75, "min"),
    "vs_default": ("tuned RTMPose FPS / rtmlib default FPS", 5.0, "min"),
    "landmarks_vs_default": (
        "share of the tuned preset's landmark positions within 0.1 torso length of the "
        "rtmlib default's (rtmpose-lightweight, same frames)",
        0.98,
        "min",
    ),
}
END_TO_END_VS_MEDIAPIPE = 1.6  # the vs_mediapipe target when frames are decoded in every pass
FLOOR_REPEATS = {"detector": 10, "pose": 30}


@dataclass
class PerfReport:
    clip: video.ClipInfo
    frames: int  # frames per pass
    rounds: int
    table: pd.DataFrame  # one row per contestant: medians and spread
    ratios: pd.DataFrame  # one row per ratio: value, target, verdict, meaning
    floors: pd.DataFrame  # one row per model and batch size: ms per model run
    agreement: pd.DataFrame  # per contestant: agreement with MediaPipe lite and the rtmlib default
    settings: dict[str, dict]  # contestant -> its exact settings
    passes: pd.DataFrame  # every timed pass
    load: tuple[float, float]  # 1-minute load average at start and end
    warmup: int = 0  # frames of each pass left out of the timings
    end_to_end: bool = False  # frames decoded in every pass (else preloaded)
    machine: dict | None = None  # the run's machine state (load, overlapping runs)
    engine_choice: dict | None = None  # the tuned preset's measured engine choice
    skipped: dict | None = None  # extra contestant -> why it could not run here
    run: Any = None  # the BenchmarkRun it timed: ``perf --save`` keeps it as a run (speed evidence)


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

    keypoint_set = "halpe26"

    def process(self, image, timestamp_ms: int) -> PoseResult:
        keypoints, _scores = self.body(image)
        people = len(keypoints)
        # Counted, not used for agreement: rtmlib returns people in detector order
        # (the rtmpose-lightweight preset is the reference for landmarks).
        return PoseResult(
            keypoints=None,
            scores=None,
            keypoint_set="halpe26",
            people=people,
            model_runs={"detector": 1, "pose": people},
        )

    def close(self) -> None:
        """Stateless: nothing to release between passes."""


def _floor_ms(run: Callable[[np.ndarray], object], feed: np.ndarray, repeats: int) -> float:
    """Mean time of one bare model run on a fixed input, in ms (a mean, like the pipeline's
    pass time, so a busy moment weighs the same on both sides)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(feed)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.fmean(times)


def _verdict(value: float, target: float, direction: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    ok = value <= target if direction == "max" else value >= target
    return "PASS" if ok else "MISS"


def _pose_batches(part: pd.DataFrame) -> dict[int, int]:
    """Pose-model runs by batch size (crops per run) over a pass's timed frames."""
    out: dict[int, int] = {}
    for people, runs in zip(part["people"], part["pose_runs"]):
        if runs:
            batch = max(1, int(people) // int(runs))
            out[batch] = out.get(batch, 0) + int(runs)
    return out


def run_perf(
    clip_path: str,
    frames: int = 60,
    rounds: int = 3,
    tuned: str = TUNED,
    baseline: str = BASELINE,
    include_preset_default: bool = True,
    cache: ModelCache | None = None,
    progress: Callable[[str], None] | None = None,
    also: list[str] | None = None,
    warmup: int = 10,
    end_to_end: bool = False,
) -> PerfReport:
    """Run the interleaved speed check; see the module docstring."""
    if frames < 1 or rounds < 1:
        raise BenchError("perf needs at least 1 frame and 1 round")
    if warmup >= frames:
        raise BenchError(f"{warmup} warm-up frames leave none of the {frames} frames to time")
    say = progress or (lambda _msg: None)
    cache = cache if cache is not None else ModelCache()
    load_start = os.getloadavg()[0]
    clip = video.probe(clip_path)
    options = RunOptions(max_frames=frames, warmup=warmup, rounds=rounds)
    first = next(iter(video.iter_frames(clip.path, max_frames=1, fps=clip.fps)), None)
    if first is None:
        raise BenchError(f"{clip.name} has no frames to time")
    preloaded = None if end_to_end else list(video.iter_frames(clip.path, max_frames=frames, fps=clip.fps))
    tuned_cfg = backends.parse(tuned)
    default_cfg = backends.parse(DEFAULT_PRESET)  # rtmlib's defaults: the tuned one's family
    if tuned_cfg.family != default_cfg.family or tuned_cfg.engine == "opencv":
        raise BenchError("perf measures an RTMPose configuration on the onnxruntime or openvino engine")
    tuned_cfg, choice = backends.resolve(tuned_cfg)
    base_cfg = backends.parse(baseline)
    extra_cfgs = [backends.resolve(backends.parse(spec))[0] for spec in also or []]

    rtmlib_default = _RtmlibDefault(default_cfg)
    contestants: list = [
        Contestant(
            RTMLIB_DEFAULT, lambda: rtmlib_default, family=default_cfg.family, fixed=rtmlib_default.settings
        ),
        tuned_cfg,
        base_cfg,
        *extra_cfgs,
    ]
    if include_preset_default:
        contestants.append(default_cfg)
    labels = [c.display for c in contestants]
    if len(set(labels)) != len(labels):
        raise BenchError("two contestants have the same label; give the extra ones a label=...")

    floor_rows: list[dict] = []
    engine_settings: dict = {}

    def before_pass(label: str, rnd: int, backend) -> None:
        say(f"round {rnd}/{rounds}: {label}")
        if label != tuned_cfg.display:
            return
        runners = backend.model_runners()
        feeds = backend.model_inputs(first.image)
        engine_settings.update(backend.engine_settings())
        batches = [1, 2, 3] if tuned_cfg.batch_pose else [1]
        for role, run in runners.items():
            for b in batches if role == "pose" else [1]:
                feed = np.repeat(feeds[role], b, axis=0) if b > 1 else feeds[role]
                ms = _floor_ms(run, feed, FLOOR_REPEATS[role])
                floor_rows.append({"round": rnd, "model": role, "batch": b, "ms": ms})

    run = run_benchmark(
        str(clip.path),
        contestants,
        options,
        cache=cache,
        preloaded=preloaded,
        before_pass=before_pass,
        source="perf",
    )
    failed = run.summary[run.summary["status"] != "ok"]
    skipped = dict(zip(failed["backend"], failed["error"]))
    core = {RTMLIB_DEFAULT, tuned_cfg.display, base_cfg.display, default_cfg.display}
    if core & set(skipped):
        raise BenchError("; ".join(f"{k}: {v}" for k, v in skipped.items() if k in core))
    labels = [c for c in labels if c not in skipped]  # an extra that cannot run here is left out
    load_end = os.getloadavg()[0]
    timings = run.timings if run.timings is not None else pd.DataFrame(columns=["warmup", "backend", "round"])
    timed = timings[~timings["warmup"].astype(bool) & timings["backend"].isin(labels)]
    pass_rows = []
    for (label, rnd), part in timed.groupby(["backend", "round"], sort=False):
        seconds = float(part["latency_ms"].sum()) / 1e3
        pass_rows.append(
            {
                "contestant": label,
                "round": int(rnd),
                "seconds": seconds,
                "model_seconds": float(part["model_ms"].sum()) / 1e3,
                "frames": len(part),
                "detector_runs": int(part["detector_runs"].sum()),
                "pose_runs": int(part["pose_runs"].sum()),
                "batches": _pose_batches(part),
                "fps": len(part) / seconds if seconds > 0 else float("nan"),
            }
        )
    pass_df = pd.DataFrame(pass_rows)
    floors = pd.DataFrame(floor_rows, columns=["round", "model", "batch", "ms"])
    by_round = {(p["contestant"], p["round"]): p for p in pass_rows}
    ratio_values: dict[str, list[float]] = {k: [] for k in TARGETS if k != "landmarks_vs_default"}
    versus: dict[str, list[float]] = {c: [] for c in labels}
    for rnd in range(1, rounds + 1):
        t = by_round[(tuned_cfg.display, rnd)]
        fl = floors[floors["round"] == rnd].set_index(["model", "batch"])["ms"]
        floor_sum = t["detector_runs"] * fl.get(("detector", 1), np.nan) + sum(
            n * fl.get(("pose", b), np.nan) for b, n in t["batches"].items()
        )
        ratio_values["overhead"].append(t["model_seconds"] * 1e3 / floor_sum if floor_sum > 0 else np.nan)
        base_fps = by_round[(base_cfg.display, rnd)]["fps"]
        ratio_values["vs_mediapipe"].append(t["fps"] / base_fps)
        ratio_values["vs_default"].append(t["fps"] / by_round[(RTMLIB_DEFAULT, rnd)]["fps"])
        for c in labels:
            versus[c].append(by_round[(c, rnd)]["fps"] / base_fps)

    landmarks_share = float("nan")
    if include_preset_default:
        table_all = metrics.agreement(run.frames, default_cfg.display, tuned_cfg.display)
        landmarks_share = float(table_all.loc["all", "within_0.1"])
    targets = dict(TARGETS)
    if end_to_end:
        meaning, _target, direction = targets["vs_mediapipe"]
        targets["vs_mediapipe"] = (
            meaning + " (frames decoded in every pass)",
            END_TO_END_VS_MEDIAPIPE,
            direction,
        )
    ratio_rows = []
    for key, (meaning, target, direction) in targets.items():
        vals = np.array(ratio_values.get(key, [landmarks_share]), dtype=float)
        finite = vals[np.isfinite(vals)]
        value = float(np.median(finite)) if len(finite) else float("nan")
        ratio_rows.append(
            {
                "ratio": key,
                "value": value,
                "min": float(finite.min()) if len(finite) else float("nan"),
                "max": float(finite.max()) if len(finite) else float("nan"),
                "target": f"{'<=' if direction == 'max' else '>='} {target:g}",
                "verdict": _verdict(value, target, direction),
                "meaning": meaning,
            }
        )

    table = (
        pass_df.groupby("contestant", sort=False)
        .agg(
            ms_per_frame=("seconds", "median"),
            fps=("fps", "median"),
            fps_min=("fps", "min"),
            fps_max=("fps", "max"),
            frames=("frames", "median"),
            detector_runs=("detector_runs", "median"),
            pose_runs=("pose_runs", "median"),
        )
        .reindex(labels)
        .reset_index()
    )
    table["ms_per_frame"] = 1e3 * table["ms_per_frame"] / table["frames"]
    table["vs_mediapipe"] = [float(np.median(versus[c])) for c in table["contestant"]]
    table["detector_runs_per_frame"] = table.pop("detector_runs") / table["frames"]
    table["pose_runs_per_frame"] = table.pop("pose_runs") / table["frames"]
    floor_table = (
        floors.groupby(["model", "batch"])
        .agg(ms=("ms", "median"), ms_min=("ms", "min"), ms_max=("ms", "max"))
        .reset_index()
    )

    agree_rows = []
    for name in labels:
        if name in (base_cfg.display, RTMLIB_DEFAULT):
            continue
        row = {
            "contestant": name,
            "frames_all_within_0.1": metrics.frames_all_within(run.frames, base_cfg.display, name),
        }
        if include_preset_default and name != default_cfg.display:
            agree = metrics.agreement(run.frames, default_cfg.display, name)
            row["landmarks_within_0.1_of_default"] = float(agree.loc["all", "within_0.1"])
        agree_rows.append(row)
    settings = {c.display: c.settings() for c in contestants if c.display in labels}
    settings[f"{tuned_cfg.display} engine (read back)"] = engine_settings
    return PerfReport(
        clip=clip,
        frames=min(frames, run.clip.frames),
        rounds=rounds,
        table=table,
        ratios=pd.DataFrame(ratio_rows),
        floors=floor_table,
        agreement=pd.DataFrame(agree_rows),
        settings=settings,
        passes=pass_df,
        load=(load_start, load_end),
        warmup=warmup,
        end_to_end=end_to_end,
        machine=run.extra.get("machine"),
        engine_choice=choice,
        skipped=skipped,
        run=run,
    )


__all__ = ["PerfReport", "run_perf", "TARGETS"]
