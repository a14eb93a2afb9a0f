"""Tables leave the dashboard as CSV: the unit in each header, numbers rounded to what they
can mean, shares as percent. ``Table`` and ``Chart`` are what a report is made of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from posebench.core import schema
from posebench.io.files import neutralise

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
DEFAULT_DECIMALS = 3
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


def to_json(value):
    """``json.dumps``'s ``default``: numpy scalars and paths as plain JSON values."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def slug(text: str) -> str:
    """A file-name-safe short form of a title."""
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:40] or "chart"
