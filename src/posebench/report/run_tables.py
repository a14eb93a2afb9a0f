"""The tables a run's evidence carries besides its results: the verdict, what the figures
are compared with, the exact settings, the scorecard's thresholds, the machine, real time."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from posebench.backends import backend_config
from posebench.core import schema
from posebench.decision import decision_rules, headline_verdict, scorecard_settings
from posebench.decision.verdict_evidence import Evidence
from posebench.report.table_export import Table, to_json
from posebench.store import run_store, sidecars

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
    v = headline_verdict.decide(evidence, settings.thresholds, settings.candidate)
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
    """The run's name and note (``run_store.read_label``), empty when not saved."""
    folder = sidecars.run_folder(run)
    return run_store.read_label(folder) if folder is not None else {"name": "", "note": ""}
