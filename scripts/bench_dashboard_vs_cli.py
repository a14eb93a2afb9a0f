#!/usr/bin/env python
"""Dashboard against command line: the same clip and settings, the two paths alternated.

    python scripts/bench_dashboard_vs_cli.py [CLIP] [--pairs 3] [--frames 100] [--warmup 10]
                                             [--rounds 3] [-b BACKEND ...]

Each pair runs the dashboard's path (``posebench.dashboard.jobs.RunJob``: the worker process
the Run page starts, which saves the run) and the command line's path (``python -m posebench
run`` in a subprocess), one right after the other, the order swapped every pair; each run
times every backend in ``--rounds`` interleaved rounds (default 3) and reports the median
round, as ``summary.csv``'s ``fps`` does (one round per run swung pairs by up to 20 % on this
machine). It prints, per backend, the FPS of each path in each pair, the median of the per-pair
ratios dashboard / command line, and PASS when that lies within 0.95-1.05. Exit status 0 when
every backend passes. A speed script, not a test: the numbers are printed, never asserted in
the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from posebench import backends
from posebench.dashboard import jobs
from posebench.store import run_record

DEFAULT_CLIP = ROOT.parent / "shared" / "clips" / "cmj_front_jumpmat_30fps.mp4"
DEFAULT_BACKENDS = ["mediapipe-lite", "rtmpose-lightweight"]  # the Run page's and the CLI's defaults
LOW, HIGH = 0.95, 1.05


def dashboard_fps(
    clip: str, specs: list[str], frames: int, warmup: int, rounds: int, out: Path
) -> dict[str, float]:
    job = jobs.RunJob(
        clip,
        [backends.parse(s) for s in specs],
        run_record.RunOptions(max_frames=frames, warmup=warmup, rounds=rounds),
        results_root=out,
    ).start()
    job.wait()
    if job.error or job.run is None:
        raise SystemExit(f"the dashboard path failed: {job.error}")
    summary = job.run.summary
    return dict(zip(summary["backend"], summary["fps"]))


def cli_fps(
    clip: str, specs: list[str], frames: int, warmup: int, rounds: int, out: Path
) -> dict[str, float]:
    args = [sys.executable, "-m", "posebench", "run", clip, "--frames", str(frames)]
    args += ["--warmup", str(warmup), "--rounds", str(rounds), "--out", str(out)]
    for spec in specs:
        args += ["-b", spec]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"the command-line path failed:\n{done.stdout}\n{done.stderr}")
    folders = sorted((p for p in out.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    summary = pd.read_csv(folders[-1] / "summary.csv")
    return dict(zip(summary["backend"], summary["fps"]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP))
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--frames", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per run (median reported)")
    p.add_argument("-b", "--backend", action="append", dest="backends")
    args = p.parse_args()
    specs = args.backends or DEFAULT_BACKENDS
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="posebench-dash-vs-cli-") as tmp:
        for pair in range(1, args.pairs + 1):
            order = ["dashboard", "cli"] if pair % 2 else ["cli", "dashboard"]
            fps = {}
            for path in order:
                out = Path(tmp) / f"{path}-{pair}"
                out.mkdir()
                run = dashboard_fps if path == "dashboard" else cli_fps
                fps[path] = run(args.clip, specs, args.frames, args.warmup, args.rounds, out)
                print(f"  pair {pair}: {path} done", file=sys.stderr)
            for label in fps["cli"]:
                rows.append(
                    {
                        "backend": label,
                        "pair": pair,
                        "order": " then ".join(order),
                        "dashboard_fps": fps["dashboard"][label],
                        "cli_fps": fps["cli"][label],
                        "ratio": fps["dashboard"][label] / fps["cli"][label],
                    }
                )
    table = pd.DataFrame(rows)
    print(
        f"clip {Path(args.clip).name}, {args.frames} frames (first {args.warmup} untimed), "
        f"{args.rounds} round(s) per run (median), {args.pairs} pairs alternated; 1-minute load "
        f"average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end; {os.cpu_count()} cores"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    ok = True
    print("\nratio = dashboard FPS / command-line FPS, median of the pairs (target 0.95-1.05):")
    for label, part in table.groupby("backend", sort=False):
        ratio = statistics.median(part["ratio"])
        passed = LOW <= ratio <= HIGH
        ok &= passed
        print(
            f"  {'PASS' if passed else 'MISS'}  {label:30s} {ratio:.3f}  "
            f"[{part['ratio'].min():.3f}-{part['ratio'].max():.3f}]"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
