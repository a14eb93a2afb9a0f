"""The one table renderer of the dashboard.

Every table a page shows goes through ``show_table``: headers are words with the unit
in brackets (from ``core.schema`` or an analysis's ``{column: (unit, meaning)}`` table),
each column's meaning is on hover, numbers are rounded to what they can mean, frame
numbers are whole, missing values read "—" (with the reason on hover when it is
known), and only the key columns are shown at first, so nothing important needs a
sideways scroll at 1280 px: the rest are listed, with their meanings, in an expander
that can add them to the table.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import streamlit as st

from posebench.core import schema

MISSING = "—"
KEY_LIMIT = 7  # key columns shown when the caller names none
# What fits without a sideways scroll: the main column is 820 px wide at 1280 px with the
# sidebar open. A grid column is as wide as its longest header or cell plus 16 px of padding,
# and the grid caps a column it sizes itself. The font is proportional, so a text's width is
# the sum of its characters' (``text_px``; measured in Chromium: "Peak memory (MB)" 127 px,
# "Time per frame (ms)" 134 px, "cmj_side_dhruvrahuja_3" 163 px, with the padding).
FIT_PX = 820
PAD_PX = 16
_NARROW = frozenset("il.,:;|!'`")  # about 3.2 px at the grid's 14 px font
_THIN = frozenset("fjrt()[]{}- /\\")  # about 4.2 px
_WIDE = frozenset("mwMW%@")  # about 10.5 px
CHAR_PX = 6.5  # most lower-case letters, "_", "±"
MAX_COLUMN_PX = 320

# unit -> how a number in that unit is written
_FIXED: dict[str, str] = {
    "frames/s": "{:.1f}",
    "MB": "{:.0f}",
    "s": "{:.3f}",
    "m": "{:.3f}",
    "cm": "{:+.1f}",
    "px": "{:.1f}",
    "frame": "{:.1f}",  # sub-frame estimates (take-off, landing); whole frames are "int"
    "torso lengths": "{:.3f}",
    "R²": "{:.3f}",
    "r": "{:.2f}",
    "score": "{:.2f}",
    "ratio": "{:.2f}",
    "0-1": "{:.3f}",
    "torso lengths/s": "{:.3f}",
    "torso lengths/s²": "{:.1f}",
    "torso lengths/s³": "{:.0f}",
    "people": "{:.2f}",
    "runs/frame": "{:.2f}",
    "% of one core": "{:.0f}",
}
_WHOLE_UNITS = {"runs", "keypoints", "count", "clips"}


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _general(value: float) -> str:
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def formatter(
    column: schema.Column, series: pd.Series | None = None, name: str = ""
) -> Callable[[object], str]:
    """How one column's values are written: rounded to what they can mean, "—" when missing;
    differences, errors and biases (``*_diff*``, ``*_error*``, ``*_bias*``) carry their sign."""
    signed = any(word in name for word in ("_diff", "_error", "_bias"))
    whole = column.dtype == "int" or column.unit in _WHOLE_UNITS
    if series is not None and pd.api.types.is_integer_dtype(series):  # frame numbers, counts
        whole = True

    def number(value: float) -> str:
        if column.dtype == "bool" or isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if whole or (column.unit == "frames" and float(value).is_integer()):
            return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.0f}"
        if column.unit == "frames":  # a mean or a sub-frame estimate
            return f"{value:.1f}"
        if column.unit == "share":
            return f"{value:.1%}"
        if column.unit == "ms":
            return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"
        if column.unit in _FIXED:
            return _FIXED[column.unit].format(value)
        return _general(value)

    def write(value) -> str:
        if _is_missing(value):
            return MISSING
        if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
            if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
                return MISSING
            text = number(value)  # type: ignore[arg-type]
            return f"+{text}" if signed and float(value) > 0 and not text.startswith("+") else text
        return str(value)

    return write


def _key(key: str | None, columns: Sequence[str]) -> str:
    return key or "table-" + hashlib.sha1(",".join(columns).encode()).hexdigest()[:10]


def _heading(text: str) -> str:
    """A header reads like the start of a sentence: its first letter upper-case."""
    return text[:1].upper() + text[1:]


def _plain(text: str) -> str:
    """Our own text, shown as text inside markdown (no emphasis from ``_`` or ``*``)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", text)


def text_px(text: str) -> float:
    """About how wide the grid writes ``text``, in pixels (without the padding)."""
    total = 0.0
    for ch in text:
        if ch in _NARROW:
            total += 3.2
        elif ch in _THIN:
            total += 4.2
        elif ch in _WIDE:
            total += 10.5
        elif ch.isdigit():
            total += 7.0
        elif ch.isupper():
            total += 8.2
        else:
            total += CHAR_PX
    return total


def width_px(header: str, cells: Sequence[str]) -> float:
    """About how wide the grid draws a column with this header and these cells, in pixels."""
    longest = max([text_px(header), *(text_px(c) for c in cells)])
    return min(MAX_COLUMN_PX, longest + PAD_PX)


def fit(keys: Sequence[str], widths: Mapping[str, float], budget: float = FIT_PX) -> list[str]:
    """The key columns that fit in ``budget`` pixels, in order; the first two always stay
    (what a row is and its main number), the others only while they fit."""
    kept: list[str] = []
    used = 0.0
    for i, name in enumerate(keys):
        width = widths.get(name, 0.0)
        if i >= 2 and used + width > budget:
            continue  # a narrower one after it may still fit
        kept.append(name)
        used += width
    return kept


def show_table(
    df: pd.DataFrame,
    columns: schema.Described | None = None,
    key_columns: Sequence[str] | None = None,
    *,
    show: Sequence[str] | None = None,
    titles: Mapping[str, str] | None = None,
    missing: Mapping[str, str] | None = None,
    key: str | None = None,
    more_label: str = "More columns",
) -> None:
    """Show ``df`` as a read-only table.

    ``columns`` describes the columns (a ``core.schema`` table or ``{name: (unit, meaning)}``);
    names it lacks are looked up in the summary and frames tables. ``show`` chooses and
    orders the columns (default: all of ``df``); ``key_columns`` are the ones shown at first
    (default: the first few), the others are behind ``more_label``. ``titles`` overrides a
    header; ``missing`` gives, per column, why a value can be missing ("—").
    """
    shown = [c for c in (show or df.columns) if c in df.columns]
    key = _key(key, shown)
    described = {name: schema.describe(name, columns) for name in shown}
    headers = {
        name: _heading((titles or {}).get(name) or schema.title(name, described[name])) for name in shown
    }
    sample = df[shown].head(50)
    widths = {}
    for name in shown:
        write = formatter(described[name], sample[name], name)
        widths[name] = width_px(headers[name], [write(v) for v in sample[name]])
    keys = [c for c in (key_columns or shown[:KEY_LIMIT]) if c in shown]
    if len(shown) - len(keys) == 1 and sum(widths.values()) <= FIT_PX:
        keys = list(shown)  # an expander for one column hides more than it saves
    empty = {c for c in shown if len(df) and df[c].map(_is_missing).all()}
    if any(c not in empty for c in keys):  # a key column with nothing in it gives its room away
        spare = [c for c in shown if c not in keys and c not in empty]
        keys = [c for c in keys if c not in empty] + spare[: len([c for c in keys if c in empty])]
    keys = fit(keys, widths)
    rest = [c for c in shown if c not in keys]

    holder = st.container()
    everything = False
    if rest:
        with st.expander(f"{more_label} ({len(rest)})"):
            everything = st.toggle("Show them in the table", key=f"{key}-all")
            st.markdown(
                "\n".join(
                    f"- **{_plain(_heading(schema.title(n, described[n])))}**: {_plain(described[n].meaning)}"
                    for n in rest
                )
            )
    visible = shown if everything else keys

    data = df[shown].reset_index(drop=True)
    config = {}
    formats = {}
    for name in shown:
        column = described[name]
        header = headers[name]
        help_text = column.meaning
        reason = (missing or {}).get(name)
        if reason:
            help_text = f"{help_text} {MISSING} means: {reason}".strip()
        if pd.api.types.is_bool_dtype(data[name]):
            config[name] = st.column_config.CheckboxColumn(header, help=help_text or None)
            continue
        config[name] = st.column_config.Column(header, help=help_text or None)
        formats[name] = formatter(column, data[name], name)
        if data[name].map(_is_missing).any():  # the grid would write its own grey "None"
            data[name] = data[name].map(formats[name]).astype(object)
    styled = data.style.format(formats, na_rep=MISSING)
    holder.dataframe(
        styled,
        column_config=config,
        column_order=visible,
        hide_index=True,
        width="stretch",
        placeholder=MISSING,
        key=f"{key}-all" if everything else key,  # a fresh grid when the columns change
    )
