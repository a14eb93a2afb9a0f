"""``python -m posebench perf CLIP [--frames N] [--rounds R] [--save [DIR]]``: the speed check with
its targets; ``--save`` keeps the timed rounds as a run folder (speed evidence for a study)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from posebench.cli.commands.common import print_table
from posebench.decision import speed_evidence
from posebench.store import run_store
from posebench.studies.speed_check import RTMLIB_DEFAULT, TUNED, run_perf


def _fmt(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) + ")"
    return str(value)


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("clip", help="video file")
    p.add_argument("--frames", type=int, default=60, help="frames from the start, preloaded (default 60)")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds after one warm-up round (default 3)")
    p.add_argument(
        "--tuned",
        default=TUNED,
        metavar="NAME[:key=value,...]",
        help=f"the RTMPose configuration under test (default {TUNED})",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=10,
        help="first frames of each pass left out of the timings (default 10)",
    )
    p.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="a further configuration timed in the same rounds, e.g. the 'before' of a change "
        "(give it a label=...); repeat for several",
    )
    p.add_argument(
        "--end-to-end",
        action="store_true",
        help="decode the frames in every pass instead of preloading them (target vs MediaPipe 1.6)",
    )
    p.add_argument(
        "--no-preset-default",
        action="store_true",
        help="leave out the rtmpose-lightweight preset (rtmlib's own object still runs)",
    )
    p.add_argument(
        "--save",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="also save the timed rounds as a run folder (DIR, default the results folder): speed "
        "evidence for a study (posebench study ... --speed RUN_DIR); with preloaded frames its "
        "speeds leave decoding out, so add --end-to-end for the app's end-to-end speed",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    report = run_perf(
        args.clip,
        frames=args.frames,
        rounds=args.rounds,
        tuned=args.tuned,
        include_preset_default=not args.no_preset_default,
        progress=lambda msg: print(f"  {msg}", file=sys.stderr),
        also=args.also,
        warmup=args.warmup,
        end_to_end=args.end_to_end,
    )
    if args.save is not None and report.run is not None:
        saved = run_store.save(report.run, Path(args.save) if args.save else None)
        print(
            f"saved the timed rounds as a run: {saved} (speed evidence: posebench study ... --speed {saved})"
        )
    _print_conditions(report)
    _print_engine_choice(report.engine_choice)
    _print_timings(report)
    _print_ratios(report.ratios)
    _print_agreement(report.agreement)
    _print_settings(report.settings)
    return 0


def _print_conditions(report) -> None:
    """How the clip was timed, the machine's load, overlapping runs and what was left out."""
    clip = report.clip
    how = "decoded in every pass (end to end)" if report.end_to_end else "preloaded"
    print(
        f"clip: {clip.name}  {clip.width}x{clip.height}  {report.frames} frames {how}, the first "
        f"{report.warmup} of each pass untimed; {report.rounds} rounds, contestants interleaved, "
        f"order rotating; 1-min load average {report.load[0]:.1f} at start, {report.load[1]:.1f} at end "
        f"({speed_evidence.OWN_THREADS})"
    )
    others = (report.machine or {}).get("overlapping_runs") or []
    if others:
        print(
            f"WARNING: {len(others)} other benchmark run(s) on this machine overlapped with this one "
            f"({', '.join(o['run_id'] for o in others)}); ratios from one run stay paired, but "
            "absolute numbers are not comparable."
        )
    for label, why in (report.skipped or {}).items():
        print(f"left out: {label} could not run here: {why}")


def _print_engine_choice(choice: dict | None) -> None:
    """The engine ``engine=auto`` picked for the tuned configuration, with each one's cost."""
    if not choice:
        return
    times = "; ".join(
        f"{r['engine']} {r['provider']}: "
        + (f"{r['cost_ms']:.2f} ms" if "cost_ms" in r else f"failed ({r.get('error', '')})")
        for r in choice["candidates"]
    )
    print(
        f"tuned engine (engine=auto): {choice['engine']} {choice['provider']}, measured "
        f"{'earlier, from the cache' if choice.get('cached') else 'now'} ({choice['measured_at']}): "
        f"cost per frame {times}"
    )


def _print_timings(report) -> None:
    """The model floor and the pipelines' speeds."""
    print(
        "\nmodel floor: one bare model run on the clip's first frame, pre-processed, "
        "with the tuned pipeline's own sessions, timed right before its pass (ms per run: "
        "mean of the runs, median of the rounds):"
    )
    print_table(report.floors, ["model", "batch", "ms", "ms_min", "ms_max"], "{:.2f}")
    print(
        "\npipelines (ms per frame and frames per second, median of the rounds; FPS / MediaPipe "
        "lite FPS, median of the per-round ratios; model runs per frame):"
    )
    print_table(
        report.table,
        [
            "contestant",
            "ms_per_frame",
            "fps",
            "fps_min",
            "fps_max",
            "vs_mediapipe",
            "detector_runs_per_frame",
            "pose_runs_per_frame",
        ],
        "{:.2f}",
    )


def _print_ratios(ratios) -> None:
    print("\nratios measured in this run (median of per-round ratios, min-max in brackets):")
    for _, r in ratios.iterrows():
        print(
            f"  {r['verdict']:4s}  {r['ratio']:20s} {r['value']:7.3f}  [{r['min']:.3f}-{r['max']:.3f}]"
            f"  target {r['target']:7s}  {r['meaning']}"
        )


def _print_agreement(agreement) -> None:
    """How alike the contestants' landmarks are (first round), against MediaPipe lite and rtmlib's default."""
    if not len(agreement):
        return
    print(
        "\nagreement (first round): share of frames where all 13 landmarks are within 0.1 torso "
        "length of MediaPipe lite's; share of landmark positions within 0.1 torso length of the "
        "rtmlib default's (rtmpose-lightweight):"
    )
    for _, r in agreement.iterrows():
        line = f"  {r['contestant']}: {r['frames_all_within_0.1']:.1%} of frames vs MediaPipe lite"
        if (
            "landmarks_within_0.1_of_default" in r
            and r["landmarks_within_0.1_of_default"] == r["landmarks_within_0.1_of_default"]
        ):
            line += f"; {r['landmarks_within_0.1_of_default']:.1%} of landmarks vs the rtmlib default"
        print(line)


def _print_settings(settings_by_name: dict) -> None:
    print("\nexact settings:")
    for name, settings in settings_by_name.items():
        text = ", ".join(f"{k}={_fmt(v)}" for k, v in settings.items())
        print(
            textwrap.fill(
                text,
                width=100,
                initial_indent=f"  {name}: ",
                subsequent_indent="      ",
                break_on_hyphens=False,
                break_long_words=False,
            )
        )
    print(
        f"\n'{RTMLIB_DEFAULT}' is rtmlib's own object (its code, its sessions) built from the "
        "local model files."
    )
