"""``python -m posebench run CLIP -b NAME ... [--frames N] [--warmup W] [--out DIR]``."""

from __future__ import annotations

from pathlib import Path

from posebench import backends
from posebench.backends.backend_config import format_settings
from posebench.cli.commands.common import (
    add_clip_and_backends,
    add_max_side_option,
    add_results_option,
    clip_line,
    print_table,
    progress_printer,
    runnable,
)
from posebench.core.errors import BenchError
from posebench.decision import speed_evidence
from posebench.store.run_record import DEFAULT_ROUNDS, RunOptions
from posebench.studies import pipeline

DEFAULTS = RunOptions()  # the options' own defaults (rounds: DEFAULT_ROUNDS, the front ends')
SHOWN = [
    "backend",
    "status",
    "frames",
    "rounds",
    "fps",
    "fps_min",
    "fps_max",
    "fps_model",
    "latency_ms_mean",
    "latency_ms_p50",
    "latency_ms_p95",
    "init_ms",
    "detection_rate",
    "detector_rate",
]


RATE_FORMATS = {"detection_rate": "{:.1%}", "detector_rate": "{:.1%}"}


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    add_clip_and_backends(p)
    add_run_options(p)
    add_results_option(p)
    p.set_defaults(func=run)


def add_run_options(p) -> None:
    p.add_argument(
        "--frames", type=int, default=None, help="process at most N frames from the start (warm-up included)"
    )
    p.add_argument("--seconds", type=float, default=None, help="process at most S seconds of the clip")
    p.add_argument(
        "--warmup",
        type=int,
        default=DEFAULTS.warmup,
        help=f"first W frames left out of the speed figures (default {DEFAULTS.warmup})",
    )
    p.add_argument(
        "--stride",
        type=int,
        default=DEFAULTS.stride,
        help=f"keep every n-th frame (default {DEFAULTS.stride})",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"timed rounds: every backend runs the frames this many times, interleaved, the order "
        f"rotating; FPS is the median with min and max (default {DEFAULT_ROUNDS})",
    )
    add_max_side_option(p)
    p.add_argument(
        "--model-only", action="store_true", help="decode all frames first, so timings hold model time only"
    )
    p.add_argument(
        "--background-decode",
        action="store_true",
        help="decode in a background thread, overlapping inference",
    )


def options_from(args) -> RunOptions:
    return RunOptions(
        max_frames=args.frames,
        max_seconds=args.seconds,
        warmup=args.warmup,
        stride=args.stride,
        max_side=args.max_side,
        preload=args.model_only,
        background_decode=args.background_decode,
        rounds=getattr(args, "rounds", 1),
    )


def run(args) -> int:
    configs = runnable(args.backends or backends.default_comparison())
    done = pipeline.run_and_save(
        args.clip,
        configs,
        options_from(args),
        progress=progress_printer(),
        source="cli",
        results_root=Path(args.out) if args.out else None,
        save_empty=True,
    )
    run = done.run
    clip = run.clip
    print(clip_line(clip))
    print_table(run.summary, SHOWN, formats=RATE_FORMATS)
    print(
        f"frames: timed frames per pass (the first {run.options.warmup} are warm-up, left out); "
        f"rounds: passes over the frames, interleaved, order rotating; fps: frames per second end "
        "to end (decode + model), median of the rounds, fps_min/fps_max the slowest and fastest "
        "round; fps_model: model only; latency: ms per frame end to end, all rounds pooled; "
        "init_ms: model load time; detection_rate: share of frames with a person; "
        "detector_rate: share of frames the person detector ran on."
    )
    state = run.extra.get("machine", {})
    print(
        f"machine: {run.environment.get('cpu', '?')}, {run.environment.get('cores', '?')} cores; "
        f"1-minute load average {state.get('load_1min_start', float('nan')):.1f} at start, "
        f"{state.get('load_1min_end', float('nan')):.1f} at end ({speed_evidence.OWN_THREADS}); "
        f"{len(state.get('overlapping_runs', []))} other benchmark run(s) on this machine overlapped; "
        f"other work used {state.get('foreign_cpu_pct') or float('nan'):.0f} % of one core while timing"
    )
    for label, choice in run.extra.get("engine_choice", {}).items():
        print(
            f"{label}: engine=auto ran on {choice['engine']} {choice['provider']}, the fastest "
            f"measured here ({'cached measurement of ' if choice.get('cached') else 'measured '}"
            f"{choice['measured_at']})"
        )
    for _, row in run.summary[run.summary["status"] != "ok"].iterrows():
        print(f"{row['backend']}: {row['status']}: {row['error']}")
    for notice in run.extra.get("notices", []):
        print(f"note: {notice}")
    for ran in run.configs:  # tuned or changed configurations: their exact settings
        if isinstance(ran, backends.BackendConfig) and (ran.preset.endswith("-tuned") or ":" in ran.spec()):
            print(f"settings of {ran.display}: {format_settings(ran)}")
    if done.jump is not None:  # from the recorded landmarks: no second pose pass
        for row in done.jump.itertuples():
            if row.status == "ok":
                print(
                    f"jump ({row.backend}): take-off frame {row.takeoff_frame:.0f}, landing frame "
                    f"{row.landing_frame:.0f}, flight time {row.flight_time_s * 1000:.0f} ms, "
                    f"jump height {row.jump_height_m * 100:.1f} cm"
                )
            else:
                print(f"jump ({row.backend}): none: {row.error}")
    elif run.extra.get("jump_error"):
        print(f"jump: none: {run.extra['jump_error']}")
    if done.save_error:
        raise BenchError(done.save_error)
    print(f"wrote {done.saved_to}/ (summary.csv, frames.csv, run.json with the jump metrics, native.npz)")
    return 0 if run.status != "failed" else 1
