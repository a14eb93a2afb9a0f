"""Numbers as the decision reads and shows them: finite or not measured, with their unit."""

from __future__ import annotations

import math

NAN = float("nan")


def number(value) -> float:
    """A finite float, or NaN for anything else (None, text, inf)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return NAN
    return value if math.isfinite(value) else NAN


def is_number(value) -> bool:
    """True for a finite number: anything else is 'not measured'."""
    return not math.isnan(number(value))


def fmt(value, unit: str = "") -> str:
    """A value with its unit, the way the scorecard shows it ('not measured' when missing)."""
    if not is_number(value):
        return "not measured"
    value = float(value)
    if unit == "share":
        return f"{value * 100:.1f} %"
    if unit in ("× baseline", "× baseline FPS"):
        return f"{value * 100:.0f} % of baseline"
    if unit == "yes=1":
        return "yes" if value >= 1 else "no"
    if unit in ("R²",):
        return f"{value:.3f}"
    text = f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.1f}"
    return f"{text} {unit}".strip()
