"""The paired accuracy, its athletes and the per-target matrix in words: one place for the
command line, the Study page and the evidence report.

Everything here reads a ``headline_verdict.Verdict`` (or its ``verdict.json``); nothing is computed.
"""

from __future__ import annotations

import math

import pandas as pd

from posebench.analysis.paired_comparison import PAIRED_FIELDS

# The matrix's columns shown first (all are in verdict.json's ``targets``).
TARGET_SHOWN = ("target", "speed_source", "speed", "speed_holds", "accuracy", "decision")


MISSING = "—"  # a value that is not known


def _n(value, fmt: str = "{:+.0f}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    return fmt.format(value)


def _range(low, high, unit: str = "ms") -> str:
    """'-12 to +3 ms', or 'not known' when either end is missing."""
    if MISSING in (_n(low), _n(high)):
        return "not known (too few clips)"
    return f"{_n(low)} to {_n(high)} {unit}"


def p_value(value) -> str:
    """A p-value a reader can take in: 'p = 0.03', 'p < 0.001', 'p = 1.00 (no sign of a difference)'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "p not computed (too few clips with a difference)"
    if value < 0.001:
        return "p < 0.001"
    if value >= 0.995:
        return "p = 1.00 (no sign of a difference)"
    return f"p = {value:.3f}" if value < 0.01 else f"p = {value:.2f}"


def _clips(n) -> str:
    return f"{n} clip{'' if n == 1 else 's'}"


def paired_lines(verdict) -> list[str]:
    """Sentences on the paired comparison (empty when the verdict has none): the first one
    says what is compared, the others each state one result with its unit."""
    p = verdict.paired if not isinstance(verdict, dict) else verdict.get("paired") or {}
    k = verdict.clusters if not isinstance(verdict, dict) else verdict.get("clusters") or {}
    if not p:
        return []
    base = verdict.baseline if not isinstance(verdict, dict) else verdict.get("baseline", "")
    cand = verdict.candidate if not isinstance(verdict, dict) else verdict.get("candidate", "")
    mean = _n(p.get("mean_ms"))
    lines = [
        f"Paired accuracy, {cand} minus {base}: per clip, the difference of their flight-time "
        f"errors against the reference (negative = {cand} closer), over {p.get('n', 0)} clips.",
        f"Mean difference {mean}{' ms' if mean != MISSING else ''}, "
        f"SD {_n(p.get('sd_ms'), '{:.0f}')}{' ms' if _n(p.get('sd_ms')) != MISSING else ''}; "
        f"95 % confidence interval {_range(p.get('ci_t_low_ms'), p.get('ci_t_high_ms'))} (t-test); "
        f"bootstrap (BCa): {_range(p.get('ci_boot_low_ms'), p.get('ci_boot_high_ms'))}.",
        f"Wilcoxon signed-rank test: {p_value(p.get('wilcoxon_p'))}; {cand} closer on "
        f"{_clips(p.get('candidate_closer', 0))}, {base} on {_clips(p.get('baseline_closer', 0))}, "
        f"{p.get('tied', 0)} tied.",
        f"Non-inferiority margin {_n(p.get('margin_ms'), '{:g}')} ms: {p.get('verdict', '') or MISSING}"
        + (
            f" (about {int(p['clips_needed'])} clips in all would settle it at this spread)"
            if p.get("clips_needed")
            else ""
        )
        + ".",
    ]
    if p.get("errors") and p.get("errors") != "as measured":
        lines.append(f"Errors: {p['errors']}.")
    if k:
        athletes = int(k.get("n_athletes") or 0)
        if athletes == 0:
            lines.append("Athletes: not named in the manifest (add an 'athlete' column).")
        else:
            line = f"Athletes: {athletes}"
            if k.get("n_sessions"):
                line += f", sessions: {k['n_sessions']}"
            most = f"{k.get('largest_clips', 0)} of {k.get('n_clips', 0)}"
            line += f"; most clips from {k.get('largest', '')} ({most})"
            if k.get("ci_low_ms") is not None:
                line += (
                    "; cluster bootstrap 95 % confidence interval (resampling athletes) "
                    f"{_range(k.get('ci_low_ms'), k.get('ci_high_ms'))}"
                )
            else:
                line += "; no cluster confidence interval with one athlete"
            lines.append(line + ".")
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


__all__ = ["MISSING", "TARGET_SHOWN", "p_value", "paired_frame", "paired_lines"]
