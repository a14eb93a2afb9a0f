"""The evidence report as one self-contained HTML page: no script, no link, nothing fetched;
the charts are PNG images inside it."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence

import numpy as np

from posebench.core import schema
from posebench.report.table_export import DECIMALS, DEFAULT_DECIMALS, MISSING, Chart, Table


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


def _chart_html(chart: Chart, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f"<h2>{html.escape(chart.title)}</h2>"
        f"<img alt='{html.escape(chart.title, quote=True)}' src='data:image/png;base64,{data}'>"
        f"<p class='caption'>{html.escape(chart.caption)}</p>"
    )


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
