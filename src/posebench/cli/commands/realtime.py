"""``python -m posebench realtime CLIP [-b SPEC ...] [--fps F ...] [--rounds R] [--out DIR]``."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from posebench import backends
from posebench.cli.commands.common import (
    add_clip_and_backends,
    add_max_side_option,
    add_results_option,
    clip_line,
    print_table,
    progress_printer,
    runnable,
)
from posebench.core.errors import RunCancelled
from posebench.decision import speed_evidence
from posebench.store import run_store
from posebench.store.run_record import RunOptions
from posebench.studies import realtime_run

SHOWN = [
    "backend",
    "camera_fps",
    "frames_offered",
    "frames_processed",
    "drop_pct",
    "longest_drop_run",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_p99",
    "sustained_fps",
    "load_1min_start",
    "foreign_cpu_pct",
    "load_1min_end",
]
JUMP_SHOWN = [
    "backend",
    "camera_fps",
    "offline_flight_time_s",
    "live_flight_time_s",
    "flight_time_diff_ms",
    "takeoff_frame_lost",
    "landing_frame_lost",
]


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    add_clip_and_backends(p)
    p.add_argument(
        "--fps",
        type=float,
        action="append",
        default=None,
        metavar="F",
        help="camera rate in frames/s; repeat for several (default: the clip's own rate; "
        "30, 60 and 120 are the usual cameras)",
    )
    p.add_argument(
        "--rounds", type=int, default=1, help="stream the clip this many times per rate (default 1)"
    )
    p.add_argument("--frames", type=int, default=None, help="use at most N frames from the start")
    add_max_side_option(p)
    add_results_option(p)
    p.set_defaults(func=run)


def _progress(label: str, fraction: float, text: str) -> None:
    print(f"  {text}", file=sys.stderr)


@contextmanager
def _ctrl_c_cancels(cancel: threading.Event):
    """The first Ctrl-C cancels (the worker processes stop and end, nothing is saved); a
    second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum, _frame) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("stopping: the measurement is being cancelled (Ctrl-C again to quit at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(args) -> int:
    configs = runnable(args.backends or backends.default_comparison())
    options = RunOptions(max_frames=args.frames, max_side=args.max_side, warmup=min(10, args.frames or 10))
    cancel = threading.Event()
    try:
        with _ctrl_c_cancels(cancel):
            run_ = realtime_run.measure(
                args.clip,
                configs,
                args.fps,
                args.rounds,
                options,
                progress=_progress,
                cancel=cancel,
                offline_progress=progress_printer(),
            )
    except RunCancelled as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        return 130
    table = pd.DataFrame(run_.extra["realtime"])
    clip = run_.clip
    print(clip_line(clip))
    print_table(table, SHOWN)
    print(
        "A simulated camera released the clip's frames at camera_fps; each backend, alone in a "
        "worker process, always took the newest frame and older waiting frames were dropped. "
        "drop_pct: % of offered frames dropped; longest_drop_run: the longest gap, in frames; "
        "latency: ms from a frame's release to its landmarks; sustained_fps: the highest camera "
        "rate with under 1 % dropped, from the measured per-frame times; load_1min_start: the "
        "machine's 1-minute load average before the measurement began; foreign_cpu_pct: processor "
        "time other work took while the backend streamed, % of one core; load_1min_end: the load at "
        f"the end ({speed_evidence.OWN_THREADS})."
    )
    if table["offline_flight_time_s"].notna().any():
        print_table(table, JUMP_SHOWN, floatfmt="{:.3f}")
        print(
            "Flight time from every frame (offline) beside the one from the processed frames only "
            "(live), s; *_frame_lost: the offline take-off or landing frame was dropped."
        )
    for row in table.itertuples():
        if row.status != "ok":
            print(f"{row.backend} at {row.camera_fps:g} fps: {row.status}: {row.error}")
        elif isinstance(row.notes, str) and row.notes:
            print(f"note: {row.backend} at {row.camera_fps:g} fps: {row.notes}")
    env = run_.environment
    print(f"machine: {env.get('cpu', '?')}, {env.get('cores', '?')} cores")
    path = run_store.save(run_, Path(args.out) if args.out else None)
    print(f"wrote {path}/ (realtime.csv beside summary.csv, frames.csv, run.json, jump.csv)")
    return 0 if (table["status"] == "ok").any() else 1
