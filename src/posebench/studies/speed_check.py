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
from posebench.models import model_store
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


@dataclass
class _Lineup:
    """Who runs in the speed check."""

    contestants: list  # in run order: rtmlib's own object, tuned, baseline, the extras, the default
    tuned: BackendConfig
    base: BackendConfig
    default: BackendConfig
    choice: dict | None  # the tuned preset's engine choice (engine=auto)

    @property
    def core(self) -> set[str]:
        """Contestants the check cannot do without."""
        return {RTMLIB_DEFAULT, self.tuned.display, self.base.display, self.default.display}


def _lineup(tuned: str, baseline: str, also: list[str] | None, include_preset_default: bool) -> _Lineup:
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
    return _Lineup(contestants, tuned_cfg, base_cfg, default_cfg, choice)


class _Floors:
    """The runner's ``before_pass`` hook: before each pass of the tuned configuration, its own
    models run bare on the clip's first frame (the floor), and its engine settings are read."""

    def __init__(self, tuned: BackendConfig, first: np.ndarray, rounds: int, say: Callable[[str], None]):
        self.tuned, self.first, self.rounds, self.say = tuned, first, rounds, say
        self.rows: list[dict] = []
        self.engine_settings: dict = {}

    def __call__(self, label: str, rnd: int, backend) -> None:
        self.say(f"round {rnd}/{self.rounds}: {label}")
        if label != self.tuned.display:
            return
        feeds = backend.model_inputs(self.first)
        self.engine_settings.update(backend.engine_settings())
        batches = [1, 2, 3] if self.tuned.batch_pose else [1]
        for role, run in backend.model_runners().items():
            for b in batches if role == "pose" else [1]:
                feed = np.repeat(feeds[role], b, axis=0) if b > 1 else feeds[role]
                ms = _floor_ms(run, feed, FLOOR_REPEATS[role])
                self.rows.append({"round": rnd, "model": role, "batch": b, "ms": ms})

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["round", "model", "batch", "ms"])


def _passes(run, labels: list[str]) -> pd.DataFrame:
    """One row per contestant and round: its timed frames' seconds, model runs and FPS."""
    timings = run.timings if run.timings is not None else pd.DataFrame(columns=["warmup", "backend", "round"])
    timed = timings[~timings["warmup"].astype(bool) & timings["backend"].isin(labels)]
    rows = []
    for (label, rnd), part in timed.groupby(["backend", "round"], sort=False):
        seconds = float(part["latency_ms"].sum()) / 1e3
        rows.append(
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
    return pd.DataFrame(rows)


def _per_round(
    passes: pd.DataFrame, floors: pd.DataFrame, lineup: _Lineup, labels: list[str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The paired ratios of every round (overhead over the floor, vs MediaPipe, vs rtmlib's
    default) and every contestant's FPS over MediaPipe's in the same round."""
    by_round = {(p["contestant"], p["round"]): p for p in passes.to_dict("records")}
    ratios: dict[str, list[float]] = {k: [] for k in TARGETS if k != "landmarks_vs_default"}
    versus: dict[str, list[float]] = {c: [] for c in labels}
    for rnd in range(1, rounds + 1):
        t = by_round[(lineup.tuned.display, rnd)]
        fl = floors[floors["round"] == rnd].set_index(["model", "batch"])["ms"]
        floor_sum = t["detector_runs"] * fl.get(("detector", 1), np.nan) + sum(
            n * fl.get(("pose", b), np.nan) for b, n in t["batches"].items()
        )
        ratios["overhead"].append(t["model_seconds"] * 1e3 / floor_sum if floor_sum > 0 else np.nan)
        base_fps = by_round[(lineup.base.display, rnd)]["fps"]
        ratios["vs_mediapipe"].append(t["fps"] / base_fps)
        ratios["vs_default"].append(t["fps"] / by_round[(RTMLIB_DEFAULT, rnd)]["fps"])
        for c in labels:
            versus[c].append(by_round[(c, rnd)]["fps"] / base_fps)
    return ratios, versus


def _ratio_table(
    ratio_values: dict[str, list[float]], landmarks_share: float, end_to_end: bool
) -> pd.DataFrame:
    """Each ratio's median over the rounds with its spread, against its target."""
    targets = dict(TARGETS)
    if end_to_end:
        meaning, _target, direction = targets["vs_mediapipe"]
        targets["vs_mediapipe"] = (
            meaning + " (frames decoded in every pass)",
            END_TO_END_VS_MEDIAPIPE,
            direction,
        )
    rows = []
    for key, (meaning, target, direction) in targets.items():
        vals = np.array(ratio_values.get(key, [landmarks_share]), dtype=float)
        finite = vals[np.isfinite(vals)]
        value = float(np.median(finite)) if len(finite) else float("nan")
        rows.append(
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
    return pd.DataFrame(rows)


def _speed_table(passes: pd.DataFrame, labels: list[str], versus: dict[str, list[float]]) -> pd.DataFrame:
    """One row per contestant: median ms per frame and FPS with the spread, model runs per frame."""
    table = (
        passes.groupby("contestant", sort=False)
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
    return table


def _agreement(run, lineup: _Lineup, labels: list[str], include_preset_default: bool) -> pd.DataFrame:
    """Per contestant: frames agreeing with MediaPipe, landmarks agreeing with the default preset."""
    rows = []
    for name in labels:
        if name in (lineup.base.display, RTMLIB_DEFAULT):
            continue
        row = {
            "contestant": name,
            "frames_all_within_0.1": metrics.frames_all_within(run.frames, lineup.base.display, name),
        }
        if include_preset_default and name != lineup.default.display:
            agree = metrics.agreement(run.frames, lineup.default.display, name)
            row["landmarks_within_0.1_of_default"] = float(agree.loc["all", "within_0.1"])
        rows.append(row)
    return pd.DataFrame(rows)


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
    load_start = os.getloadavg()[0]
    clip = video.probe(clip_path)
    first = next(iter(video.iter_frames(clip.path, max_frames=1, fps=clip.fps)), None)
    if first is None:
        raise BenchError(f"{clip.name} has no frames to time")
    lineup = _lineup(tuned, baseline, also, include_preset_default)
    floors = _Floors(lineup.tuned, first.image, rounds, progress or (lambda _msg: None))
    run = run_benchmark(
        str(clip.path),
        lineup.contestants,
        RunOptions(max_frames=frames, warmup=warmup, rounds=rounds, preload=not end_to_end),
        cache=cache if cache is not None else ModelCache(),
        before_pass=floors,
        source="perf",
    )
    failed = run.summary[run.summary["status"] != "ok"]
    skipped = dict(zip(failed["backend"], failed["error"]))
    if lineup.core & set(skipped):
        raise BenchError("; ".join(f"{k}: {v}" for k, v in skipped.items() if k in lineup.core))
    labels = [c.display for c in lineup.contestants if c.display not in skipped]  # extras may not run here
    load_end = os.getloadavg()[0]
    passes = _passes(run, labels)
    floor_rows = floors.table()
    ratio_values, versus = _per_round(passes, floor_rows, lineup, labels, rounds)
    landmarks_share = float("nan")
    if include_preset_default:
        table_all = metrics.agreement(run.frames, lineup.default.display, lineup.tuned.display)
        landmarks_share = float(table_all.loc["all", "within_0.1"])
    settings = {c.display: c.settings() for c in lineup.contestants if c.display in labels}
    settings[f"{lineup.tuned.display} engine (read back)"] = floors.engine_settings
    return PerfReport(
        clip=clip,
        frames=min(frames, run.clip.frames),
        rounds=rounds,
        table=_speed_table(passes, labels, versus),
        ratios=_ratio_table(ratio_values, landmarks_share, end_to_end),
        floors=floor_rows.groupby(["model", "batch"])
        .agg(ms=("ms", "median"), ms_min=("ms", "min"), ms_max=("ms", "max"))
        .reset_index(),
        agreement=_agreement(run, lineup, labels, include_preset_default),
        settings=settings,
        passes=passes,
        load=(load_start, load_end),
        warmup=warmup,
        end_to_end=end_to_end,
        machine=run.extra.get("machine"),
        engine_choice=lineup.choice,
        skipped=skipped,
        run=run,
    )


__all__ = ["PerfReport", "run_perf", "TARGETS"]
