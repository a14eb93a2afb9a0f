"""``python -m posebench study MANIFEST.csv -b NAME ... [--out DIR] [--min-clips N] [--margin MS]
[--speed RUN_DIR|measure ...] [--ray [ADDRESS]]``.

Runs every clip of the manifest once per backend (the first backend is the
baseline), prints progress per clip and the pooled table, and writes
``DIR/<study_id>/`` with ``study_clips.csv``, ``study_summary.csv``,
``study_jumps.csv`` (the per-jump table), ``verdict.json``, the Bland-Altman and
error-per-clip charts as PNG, one filmstrip PNG per jump (``filmstrips/``) and
the one-page offline ``report.html``. A
re-run computes only the clips x backends it does not have yet.

``--speed measure`` takes the study's speed evidence there and then, before the study's jobs:
a run with rounds of every backend on one of the study's clips (``studies.speed_run``), saved
as a run folder and used as the headline deployment target.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from posebench import backends
from posebench.analysis import event_settings, per_jump
from posebench.cli.commands.common import add_backend_option, print_table, progress_printer, runnable
from posebench.core.errors import InputError
from posebench.decision import speed_evidence, verdict_text
from posebench.io.files import write_atomic
from posebench.report import filmstrip, study_charts, study_evidence
from posebench.store import references
from posebench.studies import hosts, pooled, speed_run, study_folder, study_manifest
from posebench.studies.study_executor import executor_for

DEFAULT_BACKENDS = list(backends.backend_config.STUDY_PAIR)
REPORT = "report.html"  # the one-page offline report, beside the tables


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument(
        "manifest",
        help="CSV with columns " + ", ".join(references.CSV_COLUMNS) + " ('clip': path relative to the CSV)",
    )
    add_backend_option(p)
    p.add_argument("--out", default=None, help="folder for the study (default: results/studies/)")
    p.add_argument("--name", default=None, help="study name (default: the manifest's file name)")
    p.add_argument(
        "--min-clips",
        type=int,
        default=study_folder.DEFAULT_MIN_CLIPS,
        help=f"fewest clips a 'replace' may rest on (default {study_folder.DEFAULT_MIN_CLIPS})",
    )
    p.add_argument("--warmup", type=int, default=10, help="frames left out of the speed figures (default 10)")
    p.add_argument(
        "--margin",
        type=float,
        default=study_folder.DEFAULT_MARGIN_MS,
        metavar="MS",
        help="non-inferiority margin: how much further from the reference (mean per-clip |error| "
        f"difference, ms) the candidate may be (default {study_folder.DEFAULT_MARGIN_MS:g})",
    )
    p.add_argument(
        "--speed",
        action="append",
        default=None,
        metavar="RUN_DIR|measure",
        help="a saved run with rounds (posebench run CLIP --rounds N, or one imported from another "
        "machine) whose speed decides; repeat it for more deployment targets (the first is the "
        "headline). 'measure': measure it now, before the study's jobs, with a run with rounds of "
        "every backend on one of the study's clips (saved in the results folder; on a busy machine "
        "it is recorded as not reliable). Without it speed is 'not measured': the study's own "
        "timings never decide",
    )
    p.add_argument(
        "--speed-rounds",
        type=int,
        default=speed_run.DEFAULT_ROUNDS,
        metavar="N",
        help=f"rounds of the speed run --speed measure takes (default {speed_run.DEFAULT_ROUNDS})",
    )
    p.add_argument(
        "--speed-clip",
        default=None,
        metavar="CLIP",
        help="the manifest's clip --speed measure times (default: the study's longest clip here)",
    )
    p.add_argument(
        "--speed-frames",
        type=int,
        default=None,
        metavar="N",
        help="frames from the start of that clip per pass (default: the whole clip)",
    )
    p.add_argument(
        "--events",
        action="append",
        default=[],
        metavar="BACKEND=SETTING",
        help="time a backend's jumps with a named event setting (see `posebench events`; e.g. "
        "rtmpose-lightweight-tuned=toes-landing); repeat per backend; default app-current",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="run the jobs on a Ray cluster (ADDRESS, or RAY_ADDRESS / a local instance when omitted)",
    )
    p.set_defaults(func=run)


def pooled_text(summary: pd.DataFrame) -> str:
    """The pooled table turned on its side: one line per statistic with its unit, one column per backend."""
    lines = {}
    for col in pooled.HEADLINE_COLUMNS:
        if col in ("backend", "role") or col not in summary.columns:
            continue
        unit = pooled.SUMMARY_COLUMNS[col][0]
        fmt = "{:.2f}" if col in ("icc", "r") else ("{:.0f}" if unit in ("clips", "frames/s") else "{:.1f}")
        if unit == "share":  # a rate, as everywhere on the command line: in per cent
            unit, fmt, scale = "%", "{:.0f}", 100.0
        else:
            scale = 1.0
        label = f"{col} ({unit})" if unit and not col.endswith(f"_{unit}") else col
        lines[label] = ["-" if pd.isna(v) else fmt.format(float(v) * scale) for v in summary[col]]
    table = pd.DataFrame(lines, index=list(summary["backend"])).T
    return table.to_string()


def _progress(done: int, total: int, text: str) -> None:
    print(f"  [{done}/{total}] {text}", file=sys.stderr, flush=True)


def _measure_speed(study: study_folder.Study, args) -> str:
    """``--speed measure``: the dedicated speed run, now; its folder."""
    clip = speed_run.pick_clip(study, args.speed_clip)
    print(
        f"measuring speed: {len(study.backends)} backends on {clip.name}, {args.speed_rounds} rounds "
        "interleaved (a dedicated run: it decides the speed criterion when the machine is quiet)"
    )
    folder = speed_run.measure(
        study,
        rounds=args.speed_rounds,
        clip_name=clip.name,
        frames=args.speed_frames,
        progress=progress_printer(),
    )
    source = speed_evidence.from_folder(folder)
    state = "quiet" if source.reliable else "BUSY: " + " ".join(source.busy)
    print(f"speed run saved: {folder} (on {source.machine}; {state})")
    return str(folder)


def run(args) -> int:
    study, measure_now = _study_from(args)
    if measure_now:
        folder = _measure_speed(study, args)
        study.speed_runs = [folder, *study.speed_runs]
    executor = executor_for(args.ray)
    print(f"jobs run: {executor.describe()}")  # a cluster that cannot be reached stops here
    result = study_folder.run(
        study, root=Path(args.out) if args.out else None, executor=executor, progress=_progress
    )
    charts = study_charts.write_pngs(result.clips, result.summary, result.folder)
    page, pngs = study_evidence.study_report(result, pooled.SUMMARY_COLUMNS)
    write_atomic(result.folder / REPORT, page.encode("utf-8"))
    _print_jumps(result)
    _print_pooled(result, study.baseline)
    _print_verdict(result)
    written = [study_folder.FILES["clips"], study_folder.FILES["summary"], study_folder.FILES["jumps"]]
    if result.verdict is not None:
        written.append(study_folder.FILES["verdict"])
    written += [p.name for p in charts.values()]
    written.append(REPORT)
    strips = [p for p in pngs if p.startswith(filmstrip.FOLDER)]
    if strips:
        written.append(f"{filmstrip.FOLDER}/ ({len(strips)} filmstrip PNGs)")
    print(f"wrote {result.folder}/ ({', '.join(written)})")
    return 0 if (result.clips["status"] == "ok").any() else 1


def _study_from(args) -> tuple[study_folder.Study, bool]:
    """The study the arguments ask for, checked (backends that can run here, rules, speed run
    folders), and whether its speed is to be measured now (``--speed measure``)."""
    specs = args.backends or DEFAULT_BACKENDS
    runnable(specs)  # before any work
    if args.min_clips < 1:
        raise InputError("--min-clips must be 1 or more")
    if not (args.margin >= 0):
        raise InputError("--margin must be 0 ms or more")
    asked = list(args.speed or [])
    speed_runs = [str(Path(r).resolve()) for r in asked if r != speed_run.MEASURE]
    for folder in speed_runs:
        if not (Path(folder) / "run.json").is_file():
            raise InputError(f"--speed {folder} is not a saved run folder (it has no run.json)")
    study = study_manifest.from_manifest(
        args.manifest,
        specs,
        name=args.name,
        options={"warmup": args.warmup},
        min_clips=args.min_clips,
        margin_ms=args.margin,
        speed_runs=speed_runs,
        events=dict(event_settings.parse_choice(text) for text in args.events),
    )
    for notice in study.notices:  # clips listed twice, clips not found
        print(f"note: {notice}")
    print(
        f"study {study.study_id}: {len(study.clips)} clips x {len(specs)} backends "
        f"(baseline {study.baseline}); {sum(c.reference is not None for c in study.clips)} clips "
        "have a reference"
    )
    return study, speed_run.MEASURE in asked


def _print_jumps(result: study_folder.StudyResult) -> None:
    """The pooled sentence, then every jump against its reference, and the jumps not found."""
    print(study_folder.pooled_sentence(result))
    jumps = per_jump.table(result.clips)
    print("per jump (one row per jump and backend):")
    print(per_jump.text_table(jumps))
    print(per_jump.caption(jumps))
    failed = result.clips[result.clips["status"] != "ok"]
    for row in failed.itertuples():
        print(f"no jump: {row.clip} x {row.backend}: {row.error}")


def _print_pooled(result: study_folder.StudyResult, baseline: str) -> None:
    """The pooled statistics per backend, with what each means, and the speed ratios per host."""
    print("pooled per backend (one column per backend; frames are 0-based decoded frames):")
    print(pooled_text(result.summary))
    print(
        "bias: mean error (backend - reference) with its 95 % CI; mae: mean absolute error; loa: 95 % "
        "limits of agreement (bias ± 1.96 SD); icc: ICC(2,1) absolute agreement; r: Pearson; "
        "takeoff/landing_bias: frames late (+) or early (-); takeoff_offset: frames to add to the "
        "detected take-off; flight_time_diff_mae: mean |difference| from the baseline; fps: median "
        "frames per second on one host."
    )
    speed = hosts.speed_ratios(result.clips, baseline)
    if len(speed) and (speed["n_pairs"] > 0).any():
        print(hosts.SPEED_SENTENCE)
        print_table(
            speed,
            ["backend", "host", "n_pairs", "baseline_fps", "candidate_fps", "ratio"],
            formats={"ratio": "{:.2f}"},
        )


def _print_verdict(result: study_folder.StudyResult) -> None:
    """The paired accuracy, the verdict and one answer per deployment target."""
    if result.verdict is None:
        return
    for line in verdict_text.paired_lines(result.verdict):
        print(line)
    print(f"verdict: {result.verdict.reason}")
    if result.verdict.targets:
        print("per deployment target (speed depends on the machine; accuracy is shared):")
        print_table(pd.DataFrame(result.verdict.targets).fillna("-"), list(verdict_text.TARGET_SHOWN))
