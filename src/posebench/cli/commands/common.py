"""Pieces several commands share."""

from __future__ import annotations

import sys
import time

import pandas as pd

from posebench import backends
from posebench.core.errors import BackendUnavailable
from posebench.io.video import ClipInfo


def print_table(
    df: pd.DataFrame, columns: list[str], floatfmt: str = "{:.1f}", formats: dict[str, str] | None = None
) -> None:
    """Print selected columns as an aligned text table (``formats``: per-column format)."""
    cols = [c for c in columns if c in df.columns]
    shown = df[cols].copy()
    for col in cols:
        fmt = (formats or {}).get(col, floatfmt)
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v, f=fmt: "-" if pd.isna(v) else f.format(v))
    print(shown.to_string(index=False))


def add_clip_and_backends(parser) -> None:
    """The clip to run on and the backends to run (``-b``), as ``run`` and ``realtime`` take them."""
    parser.add_argument("clip", help="video file (mp4, mov, avi, mkv, webm)")
    add_backend_option(parser)


def add_results_option(parser) -> None:
    """``--out``: the results folder a run is saved in."""
    parser.add_argument("--out", default=None, help="results folder (default: results/)")


def add_max_side_option(parser) -> None:
    parser.add_argument(
        "--max-side", type=int, default=None, help="downscale so the longer side is at most this many pixels"
    )


def runnable(specs: list[str]) -> list[backends.BackendConfig]:
    """The backends asked for by name, parsed; ``BackendUnavailable`` at once, before any work,
    when one of them cannot run here."""
    configs = [backends.parse(spec) for spec in specs]
    for config in configs:
        reason = backends.why_unavailable(config)
        if reason:
            raise BackendUnavailable(f"{config.display} cannot run here: {reason}")
    return configs


def clip_line(clip: ClipInfo) -> str:
    """One line on the clip a run read: name, size, rate, decoded frames and duration."""
    return (
        f"clip: {clip.name}  {clip.width}x{clip.height}  {clip.fps:.2f} fps  "
        f"{clip.frames} decoded frames  ({clip.duration_s:.2f} s)"
    )


def add_backend_option(parser, default=None) -> None:
    parser.add_argument(
        "-b",
        "--backend",
        action="append",
        dest="backends",
        default=default,
        metavar="NAME[:key=value,...]",
        help="backend preset, optionally with settings; repeat for several "
        "(see `python -m posebench backends`)",
    )


def progress_printer(unit: str = "frames", every: int = 25):
    """A progress callback ``(label, done, total, *elapsed)`` printing to stderr.

    It prints every ``every`` items and at the end, with the time left when the
    caller passes the elapsed seconds (otherwise it is measured here).
    """
    last: dict[str, int] = {}
    started: dict[str, float] = {}

    def report(label: str, done: int, total: int, elapsed: float | None = None) -> None:
        started.setdefault(label, time.perf_counter())
        if done == total or done - last.get(label, 0) >= every:
            last[label] = done
            spent = elapsed if elapsed is not None else time.perf_counter() - started[label]
            left = spent / done * (total - done) if done else 0.0
            print(f"  {label}: {done}/{total} {unit}, {left:.0f} s left", file=sys.stderr)

    return report
