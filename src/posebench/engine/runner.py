"""The fair runner: every backend on the same frames, one tidy table out.

Backends run one after another (never at once, so they do not share the CPU),
each on the same decoded frames, in interleaved rounds whose order rotates. The
first ``warmup`` frames of each pass are processed (and kept for accuracy in
the first round) but left out of the speed figures (flag ``warmup``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psutil

from posebench import backends
from posebench.backends import BackendConfig, ModelCache, PoseResult
from posebench.core import environment, schema
from posebench.core.errors import BenchError
from posebench.core.keypoints import LANDMARKS, NATIVE_COUNT
from posebench.engine import foreign_cpu, machine
from posebench.engine.summary import round_speeds, summarise
from posebench.io import video
from posebench.store.run_record import BenchmarkRun, Contestant, FramePlan, RunOptions, new_run_id

PRELOAD_LIMIT_BYTES = 2 * 1024**3  # model-only mode refuses to hold more decoded frames
ROW_CHUNK = 500  # per-frame rows are packed into a table every this many


# -- per-frame rows ---------------------------------------------------------------
class _Rows:
    """Per-frame rows, packed into a table every ``ROW_CHUNK`` rows.

    A row as a dict costs about 6 KB, packed about 0.5 KB, so a long clip's
    table grows by about 0.5 KB per frame and backend instead of 6 KB.
    """

    def __init__(self) -> None:
        self._open: list[dict] = []
        self._packed: list[pd.DataFrame] = []

    def append(self, row: dict) -> None:
        self._open.append(row)
        if len(self._open) >= ROW_CHUNK:
            self._packed.append(pd.DataFrame(self._open))
            self._open = []

    def table(self) -> pd.DataFrame:
        parts = self._packed + ([pd.DataFrame(self._open)] if self._open else [])
        if not parts:
            return pd.DataFrame()
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


# -- notices ----------------------------------------------------------------------
def _run_notices(plan: FramePlan, outcomes: list[dict], overlapping: list[dict]) -> list[str]:
    """Sentences a reviewer must read with the numbers (saved in run.json)."""
    clip = plan.clip
    notices = list(video.clip_notices(clip))
    cap = plan.cap_note()
    if cap:
        notices.append(f"Only part of the clip was processed: {cap}.")
    if plan.downscaled:
        notices.append(
            f"Frames were downscaled from {clip.width}x{clip.height} to {plan.width}x{plan.height} "
            f"for the models; keypoints are given in the original pixels."
        )
    for outcome in outcomes:
        if outcome.get("no_person"):
            notices.append(
                f"{outcome['label']} found no person in any of the "
                f"{outcome['frames_done']} frames (detection rate 0): check that the "
                f"clip shows a person."
            )
    for outcome in outcomes:
        if outcome.get("rounds_identical") is False:
            notices.append(
                f"{outcome['label']} gave different keypoints in a later round than in the first; "
                f"the per-frame table holds the first round's."
            )
    if overlapping:
        n = len(overlapping)
        notices.append(
            f"{n} other benchmark run{'s' if n > 1 else ''} ran on this machine at the same "
            f"time (any process: dashboard or command line), so these timings are not "
            f"comparable with runs made alone."
        )
    return notices


# -- frames ----------------------------------------------------------------------
def _frame_source(
    plan: FramePlan, options: RunOptions, preloaded: list[video.Frame] | None
) -> Iterable[video.Frame]:
    if preloaded is not None:
        for f in preloaded:
            yield video.Frame(f.index, f.timestamp_ms, f.image, 0.0)
        return
    frames = plan.decode()
    if options.background_decode:
        source = video.BackgroundFrames(frames)
        try:
            yield from source
        finally:
            source.close()
    else:
        yield from frames


def preload_frames(plan: FramePlan) -> list[video.Frame]:
    """Decode the frames a run will process, for model-only timing (memory-capped)."""
    if plan.frame_bytes > PRELOAD_LIMIT_BYTES:
        raise BenchError(
            f"model-only mode would hold {plan.frame_bytes / 1024**3:.1f} GB of frames; "
            f"cap the frames, downscale, or turn model-only mode off"
        )
    return list(plan.decode())


def _record(
    backend_label: str,
    preset: str,
    frame: video.Frame,
    result: PoseResult | None,
    model_ms: float,
    warmup: bool,
    scale: np.ndarray,
) -> dict:
    """One per-frame row; ``scale`` (x, y) maps the frame the model saw to the original."""
    row = {  # the frames table: columns as in schema.FRAME_COLUMNS
        "backend": backend_label,
        "preset": preset,
        "frame": frame.index,
        "timestamp_ms": frame.timestamp_ms,
        "warmup": warmup,
        "detected": bool(result is not None and result.detected),
        "detector_ran": bool(result.detector_ran) if result is not None else False,
        "people": result.people if result is not None else 0,
        "latency_ms": frame.decode_ms + model_ms,
        "model_ms": model_ms,
        "decode_ms": frame.decode_ms,
    }
    stages = result.stage_ms if result is not None else {}
    for name in schema.BACKEND_STAGES:
        row[schema.stage_column(name)] = stages.get(name, np.nan)
    runs = result.model_runs if result is not None else {}
    row["detector_runs"] = runs.get("detector", 0)
    row["pose_runs"] = runs.get("pose", 0)
    box = result.box if result is not None and result.box is not None else [np.nan] * 4
    for name, value, factor in zip(schema.BOX_COLUMNS, box, (*scale, *scale)):
        row[name] = float(value) * factor
    lm = result.landmarks() if result is not None else np.full((len(LANDMARKS), 3), np.nan)
    for i, name in enumerate(LANDMARKS):
        row[schema.landmark_column(name, "x")] = lm[i, 0] * scale[0]
        row[schema.landmark_column(name, "y")] = lm[i, 1] * scale[1]
        row[schema.landmark_column(name, "score")] = lm[i, 2]
    return row


ProgressFn = Callable[[str, int, int, float], None]
PassHook = Callable[[str, int, object], None]
TIMING_COLUMNS = (
    "backend",
    "round",
    "frame",
    "warmup",
    "latency_ms",
    "model_ms",
    "decode_ms",
    *(schema.stage_column(name) for name in schema.BACKEND_STAGES),
    "detector_runs",
    "pose_runs",
    "people",
)


def _rotation(n: int, rnd: int) -> list[int]:
    """Run order of round ``rnd`` (1-based): the first backend of a round runs last in the next."""
    shift = (rnd - 1) % n if n else 0
    return list(range(shift, n)) + list(range(shift))


def _same_points(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


class _Pass:
    """One backend over the frames once (one round)."""

    def __init__(self, label: str, rnd: int) -> None:
        self.label = label
        self.round = rnd
        self.done = 0
        self.kpts: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []

    def keep_points(self, result: PoseResult, native_count: int, scale: np.ndarray) -> None:
        """The frame's native keypoints in the clip's pixels (NaN when nobody was found)."""
        if result.detected and result.keypoints is not None:
            self.kpts.append(result.keypoints[:, :2] * scale)
            found = result.scores
            self.scores.append(found if found is not None else np.full((len(result.keypoints),), np.nan))
        else:
            self.kpts.append(np.full((native_count, 2), np.nan))
            self.scores.append(np.full((native_count,), np.nan))


# -- plan -------------------------------------------------------------------------
def _parse(configs: Sequence[BackendConfig | Contestant | str]) -> list[BackendConfig | Contestant]:
    """The configurations as objects; refuse none or two with one label."""
    parsed: list[BackendConfig | Contestant] = [
        c if isinstance(c, Contestant) else backends.as_config(c) for c in configs
    ]
    if not parsed:
        raise BenchError("choose at least one backend")
    labels = [c.display for c in parsed]
    if len(set(labels)) != len(labels):
        raise BenchError("two backends have the same label; give them different labels")
    return parsed


# -- passes -----------------------------------------------------------------------
class _Bench:
    """One run's passes and what they leave: the first round's rows and keypoints, every
    round's times, each backend's outcome and the foreign processor time per pass."""

    def __init__(
        self,
        configs: list[BackendConfig | Contestant],
        plan: FramePlan,
        options: RunOptions,
        *,
        cache: ModelCache | None,
        progress: ProgressFn | None,
        cancel: threading.Event | None,
        preloaded: list[video.Frame] | None,
        before_pass: PassHook | None,
        more_rounds: Callable[[int], bool] | None = None,
    ) -> None:
        self.configs, self.plan, self.options = configs, plan, options
        self.cache, self.progress, self.cancel = cache, progress, cancel
        self.preloaded, self.before_pass, self.more_rounds = preloaded, before_pass, more_rounds
        self.outcomes: list[dict[str, Any]] = [
            {"label": c.display, "status": "ok", "error": ""} for c in configs
        ]
        self.engine_choices: dict[str, dict] = {}
        self.rows = _Rows()
        self.first: dict[int, _Pass] = {}  # config index -> its round-1 pass
        self.timings: list[tuple] = []
        self.done_all = [0] * len(configs)  # frames over all rounds, per backend (progress)
        self.spent = [0.0] * len(configs)
        self.cpu_windows: list[dict] = []  # foreign processor time per pass (engine.foreign_cpu)
        self.status = "complete"
        self.process = psutil.Process()

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def resolve_engines(self) -> None:
        """``engine=auto``: the engine measured fastest here (a failure fails that backend)."""
        for i, config in enumerate(self.configs):
            if isinstance(config, BackendConfig) and backends.needs_resolving(config):
                try:
                    self.configs[i], choice = backends.resolve(config)
                except BenchError as exc:
                    self.outcomes[i].update(status="failed", error=str(exc))
                    continue
                if choice is not None:
                    self.engine_choices[config.display] = choice

    def _more(self, done: int) -> bool:
        """Whether to run another round after ``done`` (always, unless ``more_rounds`` says no)."""
        return self.more_rounds is None or self.more_rounds(done)

    def run_rounds(self, entry: machine.RunEntry) -> None:
        for rnd in range(1, self.options.rounds + 1):
            if rnd > 1 and not self.cancelled() and not self._more(rnd - 1):
                break
            for i in _rotation(len(self.configs), rnd):
                outcome = self.outcomes[i]
                if outcome["status"] == "failed":
                    continue
                if self.cancelled():
                    self.status = "cancelled"
                    if outcome["status"] == "ok" and i not in self.first:
                        outcome.update(status="cancelled", error="not run: the run was cancelled")
                    continue
                self.run_pass(i, rnd, entry)

    def _load(self, i: int) -> Any:
        """Make backend ``i`` afresh (models from the cache); None (and failed) when it cannot."""
        config, outcome = self.configs[i], self.outcomes[i]
        try:
            return config.make() if isinstance(config, Contestant) else backends.create(config, self.cache)
        except BenchError as exc:
            outcome.update(status="failed", error=str(exc))
        except Exception as exc:  # a contestant's own factory
            outcome.update(status="failed", error=f"failed to load: {type(exc).__name__}: {exc}")
        return None

    def run_pass(self, i: int, rnd: int, entry: machine.RunEntry) -> None:
        """Backend ``i`` over the frames once, in round ``rnd``; a failure fails it alone."""
        config, outcome = self.configs[i], self.outcomes[i]
        backend = self._load(i)
        if backend is None:
            return
        if rnd == 1:
            outcome.update(
                init_ms=getattr(backend, "init_ms", np.nan),
                init_cached=getattr(backend, "init_cached", False),
                cold_init_ms=getattr(backend, "cold_init_ms", np.nan),
                model_files=getattr(backend, "model_files", {}),
                peak_rss=self.process.memory_info().rss,
            )
        one = _Pass(config.display, rnd)
        mark = None
        try:
            if self.before_pass is not None:
                self.before_pass(config.display, rnd, backend)
            mark = foreign_cpu.read(self.process)
            self._time_frames(i, backend, one, entry)
        except BenchError as exc:
            outcome.update(status="failed", error=str(exc))
        except Exception as exc:  # a backend that raises mid-run fails alone
            outcome.update(status="failed", error=f"failed at frame {one.done}: {type(exc).__name__}: {exc}")
        finally:
            if mark is not None:
                window = foreign_cpu.between(mark, foreign_cpu.read(self.process))
                self.cpu_windows.append({"backend": config.display, "round": rnd, **window})
            backend.close()
        outcome["peak_rss"] = max(outcome.get("peak_rss", 0), self.process.memory_info().rss)
        if rnd == 1:
            self.first[i] = one
            outcome["keypoint_set"] = backend.keypoint_set
            outcome["rounds_identical"] = True
        elif i in self.first and one.done == self.first[i].done and outcome["status"] == "ok":
            same = _same_points(one.kpts, self.first[i].kpts)
            outcome["rounds_identical"] = outcome["rounds_identical"] and same

    def _time_frames(self, i: int, backend: Any, one: _Pass, entry: machine.RunEntry) -> None:
        """Time ``backend`` on every planned frame (stops after the frame a cancel comes in)."""
        config, outcome = self.configs[i], self.outcomes[i]
        native_count = NATIVE_COUNT[backend.keypoint_set]
        scale = self.plan.scale
        total = self.plan.frames * self.options.rounds
        for frame in _frame_source(self.plan, self.options, self.preloaded):
            if self.cancelled():
                self.status = outcome["status"] = "cancelled"
                outcome["error"] = (
                    f"cancelled in round {one.round} of {self.options.rounds} after {one.done} frames"
                )
                break
            t0 = time.perf_counter()
            result = backend.process(frame.image, frame.timestamp_ms)
            model_ms = (time.perf_counter() - t0) * 1000.0
            warmup = one.done < self.options.warmup
            row = _record(config.display, config.preset, frame, result, model_ms, warmup, scale)
            if one.round == 1:
                self.rows.append(row)
            self.timings.append(tuple(one.round if c == "round" else row[c] for c in TIMING_COLUMNS))
            one.keep_points(result, native_count, scale)
            one.done += 1
            self.done_all[i] += 1
            self.spent[i] += (frame.decode_ms + model_ms) / 1000.0
            if one.done % 10 == 0:
                outcome["peak_rss"] = max(outcome["peak_rss"], self.process.memory_info().rss)
                entry.heartbeat()
            if self.progress is not None:
                self.progress(config.display, self.done_all[i], total, self.spent[i])

    # -- collect ------------------------------------------------------------------
    def native(self) -> dict[str, dict[str, np.ndarray]]:
        """Each backend's first-round keypoints in its own keypoint set; fills in the outcomes'
        frame counts and notes."""
        native: dict[str, dict[str, np.ndarray]] = {}
        cap_note = self.plan.cap_note()
        for i, config in enumerate(self.configs):
            outcome = self.outcomes[i]
            kept = self.first.get(i)
            done = kept.done if kept else 0
            kpts = kept.kpts if kept else []
            outcome["peak_rss_mb"] = outcome.pop("peak_rss", np.nan) / 1024**2
            outcome["frames_done"] = done
            outcome["no_person"] = done > 0 and not any(np.isfinite(k).any() for k in kpts)
            no_person = f"no person found in any of {done} frames" if outcome["no_person"] else ""
            outcome["notes"] = "; ".join(n for n in (cap_note, no_person) if n)
            if kept is not None and kpts:
                native[config.display] = {
                    "keypoints": np.stack(kpts),
                    "scores": np.stack(kept.scores),
                    "keypoint_set": np.array(outcome["keypoint_set"]),
                }
        return native

    def collect(self, run_id: str, started: str, entry_state: dict) -> BenchmarkRun:
        """The run's tables, summary and run.json facts."""
        native = self.native()
        state = {**entry_state, **foreign_cpu.run_state(self.cpu_windows)}
        overlapped = len(state["overlapping_runs"])
        frames = self.rows.table()
        timing_table = pd.DataFrame(self.timings, columns=list(TIMING_COLUMNS))
        summary = summarise(
            frames,
            self.configs,
            self.outcomes,
            self.plan.clip,
            self.options,
            overlapped,
            timing_table,
            self.cpu_windows,
        )
        status = "failed" if all(o["status"] == "failed" for o in self.outcomes) else self.status
        return BenchmarkRun(
            run_id=run_id,
            clip=self.plan.clip,
            options=self.options,
            configs=self.configs,
            frames=frames,
            summary=summary,
            native=native,
            environment=environment.describe(),
            started=started,
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            status=status,
            timings=timing_table,
            extra={
                "notices": _run_notices(self.plan, self.outcomes, state["overlapping_runs"]),
                "machine": state,
                "rounds": round_speeds(timing_table).to_dict("records"),
                "identical_rounds": {
                    o["label"]: bool(o.get("rounds_identical"))
                    for o in self.outcomes
                    if "rounds_identical" in o
                },
                "engine_choice": self.engine_choices,
            },
        )


def run_benchmark(
    clip_path: str,
    configs: Sequence[BackendConfig | Contestant | str],
    options: RunOptions | None = None,
    *,
    cache: ModelCache | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    run_id: str | None = None,
    preloaded: list[video.Frame] | None = None,
    before_pass: PassHook | None = None,
    source: str = "",
    more_rounds: Callable[[int], bool] | None = None,
) -> BenchmarkRun:
    """Run every configuration on the clip, in ``options.rounds`` interleaved rounds; return
    the tidy tables.

    Round 1 runs the backends in the given order; each later round starts one further along
    (A B C, then B C A, then C A B), so none always runs first. Each pass makes the backend
    afresh (models from the cache; per-run state such as tracked boxes or a VIDEO-mode
    landmarker never carries over), processes every frame, and leaves its first ``warmup``
    frames out of the speed figures. The per-frame table (landmarks included) is the first
    round's: accuracy measures use one pass, and later rounds are checked to give the very
    same keypoints (``identical_rounds`` in ``run.json``). Every round's times are kept in
    ``timings``; the summary's FPS is the median of the rounds with their min and max, and
    its latency percentiles pool all rounds.

    ``progress(label, done, total, elapsed_s)`` is called after each frame (counted over all
    rounds of that backend). ``before_pass(label, round, backend)`` is called right before a
    pass is timed. Setting ``cancel`` stops after the current frame; what was measured is
    kept and the run is marked cancelled. A backend that fails (cannot load, or raises
    mid-run) is marked failed and the others still run. ``source`` names who started the run
    in the machine-wide registry of runs (``posebench.engine.machine``). ``preloaded``: the
    planned frames decoded already (callers repeating runs decode them once).
    ``more_rounds(rounds_done)``, asked after every round but the last, says whether to run
    another (a time budget); ``options.rounds`` is then the most.
    """
    options = options or RunOptions()
    options.check()
    parsed = _parse(configs)
    plan = options.plan(video.probe(clip_path))
    run_id = run_id or new_run_id()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if options.preload and preloaded is None:
        preloaded = preload_frames(plan)
    bench = _Bench(
        parsed,
        plan,
        options,
        cache=cache,
        progress=progress,
        cancel=cancel,
        preloaded=preloaded,
        before_pass=before_pass,
        more_rounds=more_rounds,
    )
    with machine.RunEntry(run_id, source) as entry:
        bench.resolve_engines()
        bench.run_rounds(entry)
    return bench.collect(run_id, started, entry.state())


__all__ = ["RunOptions", "BenchmarkRun", "Contestant", "FramePlan", "run_benchmark", "new_run_id"]
