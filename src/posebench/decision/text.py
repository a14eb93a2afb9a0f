"""The paired accuracy, its athletes and the per-target matrix in words: one place for the
command line, the Study page and the evidence report.

Everything here reads a ``verdict.Verdict`` (or its ``verdict.json``); nothing is computed.
"""

from __future__ import annotations

import math

import pandas as pd

from posebench.analysis.paired import PAIRED_FIELDS

# The matrix's columns shown first (all are in verdict.json's ``targets``).
TARGET_SHOWN = ("target", "speed_source", "speed", "speed_holds", "accuracy", "decision")


def _n(value, fmt: str = "{:+.0f}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return fmt.format(value)


def paired_lines(verdict) -> list[str]:
    """Lines on the paired comparison (empty when the verdict has none)."""
    p = verdict.paired if not isinstance(verdict, dict) else verdict.get("paired") or {}
    k = verdict.clusters if not isinstance(verdict, dict) else verdict.get("clusters") or {}
    if not p:
        return []
    base = verdict.baseline if not isinstance(verdict, dict) else verdict.get("baseline", "")
    cand = verdict.candidate if not isinstance(verdict, dict) else verdict.get("candidate", "")
    lines = [
        f"paired accuracy, {cand} - {base}, per clip |flight-time error| difference "
        f"(negative = {cand} closer to the reference), over {p.get('n', 0)} clips:",
        f"  mean {_n(p.get('mean_ms'))} ms, SD {_n(p.get('sd_ms'), '{:.0f}')} ms; 95 % CI "
        f"{_n(p.get('ci_t_low_ms'))} to {_n(p.get('ci_t_high_ms'))} ms (t), "
        f"{_n(p.get('ci_boot_low_ms'))} to {_n(p.get('ci_boot_high_ms'))} ms (bootstrap, BCa)",
        f"  Wilcoxon signed-rank p = {_n(p.get('wilcoxon_p'), '{:.3g}')}; {cand} closer on "
        f"{p.get('candidate_closer', 0)}, {base} on {p.get('baseline_closer', 0)}, {p.get('tied', 0)} tied",
        f"  non-inferiority margin {_n(p.get('margin_ms'), '{:g}')} ms: {p.get('verdict', '')}"
        + (
            f" (about {int(p['clips_needed'])} clips in all would settle it at this spread)"
            if p.get("clips_needed")
            else ""
        ),
    ]
    if p.get("errors") and p.get("errors") != "as measured":
        lines.append(f"  errors: {p['errors']}")
    if k:
        athletes = int(k.get("n_athletes") or 0)
        if athletes == 0:
            lines.append("  athletes: not named in the manifest (add an 'athlete' column)")
        else:
            line = f"  athletes: {athletes}"
            if k.get("n_sessions"):
                line += f", sessions: {k['n_sessions']}"
            most = f"{k.get('largest_clips', 0)} of {k.get('n_clips', 0)}"
            line += f"; most clips from {k.get('largest', '')} ({most})"
            if k.get("ci_low_ms") is not None:
                line += (
                    f"; cluster bootstrap 95 % CI (resampling athletes) {_n(k.get('ci_low_ms'))} to "
                    f"{_n(k.get('ci_high_ms'))} ms"
                )
            else:
                line += "; no cluster CI with one athlete"
            lines.append(line)
    return lines


def paired_frame(verdict) -> pd.DataFrame:
    """The paired comparison as a two-column table (field with its unit, value)."""
    p = verdict.paired if not isinstance(verdict, dict) else verdict.get("paired") or {}
    rows = []
    for key, (unit, meaning) in PAIRED_FIELDS.items():
        if key in p:
            name = f"{key} ({unit})" if unit else key
            rows.append({"statistic": name, "value": p[key], "meaning": meaning})
    return pd.DataFrame(rows, columns=["statistic", "value", "meaning"])


__all__ = ["TARGET_SHOWN", "paired_frame", "paired_lines"]
