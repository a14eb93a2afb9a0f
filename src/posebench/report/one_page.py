"""The one-page evidence report: what a coach mails to a head coach.

One self-contained HTML page (styles inline, images inside it, no script, nothing fetched)
that opens offline and prints on A4: the decision and its caveats (how many clips and
athletes, the uncertainty, the machine), the per-jump table, one filmstrip per jump, two
charts (the error per jump; Bland-Altman), the settings and the machine in words. The wide
statistics table is in the CSVs and, turned on its side, in an appendix.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence

import pandas as pd

from posebench.analysis import per_jump
from posebench.core import schema

MISSING = per_jump.MISSING

STYLE = """
@page{size:A4;margin:12mm}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:186mm;margin:1.5em auto;
 padding:0 1em;color:#222;line-height:1.4;font-size:10.5pt}
h1{font-size:16pt;margin:0 0 .2em}h2{font-size:12pt;margin:1.2em 0 .3em;break-after:avoid}
.verdict{border-left:6px solid #555;background:#f4f4f4;padding:.6em .9em;font-size:11.5pt;margin:.5em 0}
.verdict strong{display:block;font-size:13pt}
.verdict.replace{border-color:#2e7d32;background:#edf7ed}
.verdict.keep{border-color:#c62828;background:#fdecea}
.verdict.undecided{border-color:#ed6c02;background:#fff4e5}
ul.caveats{margin:.3em 0;padding-left:1.3em}ul.caveats li{margin:.15em 0}
.caption,.meta{color:#555;font-size:9pt}
table{border-collapse:collapse;font-size:8pt;margin:.3em 0;width:100%;table-layout:auto}
th,td{border:1px solid #ccc;padding:.15em .25em;text-align:left;vertical-align:top;overflow-wrap:break-word}
td.n{text-align:right;white-space:nowrap}th{background:#f0f0f0;font-weight:600}
figure{margin:.4em 0 .8em;break-inside:avoid}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:9pt}
dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.3em 0}dt{font-weight:600}
.appendix{break-before:page}
tr{break-inside:avoid}
"""


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{_esc(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"


def text_table(frame: pd.DataFrame, meanings: Mapping[str, str] | None = None, numeric=()) -> str:
    """A table of text cells (already written for people) as HTML; a header's meaning on hover."""
    meanings = meanings or {}
    head = "".join(f"<th title='{_esc(meanings.get(c, ''))}'>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            text = (
                MISSING if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            )
            text = MISSING if text.strip().lower() in ("", "nan", "none", "<na>") else text
            cls = " class='n'" if column in numeric else ""
            cells.append(f"<td{cls}>{_esc(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def per_jump_html(table: pd.DataFrame) -> str:
    """The per-jump table (``analysis.per_jump``) as HTML, with its caption."""
    shown = per_jump.display(table).drop(columns=list(per_jump.COMBINED))
    if not (shown["Status"] != "ok").any():
        shown = shown.drop(columns="Status")
    if shown["Jump"].nunique() <= 1:
        shown = shown.drop(columns="Jump")
    if not per_jump.has_reference(table):
        shown = shown.drop(columns=["Reference flight (ms)", "Reference height (cm)"])
    meanings = {k: v[1] for k, v in per_jump.DISPLAY.items()}
    numeric = [c for c in shown.columns if c not in ("Jump", "Model", "Status")]
    return text_table(shown, meanings, numeric) + f"<p class='caption'>{_esc(per_jump.caption(table))}</p>"


def figure(png: bytes, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{_img(png, alt)}{cap}</figure>"


FILMSTRIP_CAPTION = (
    "The frames around take-off and landing, cropped on the feet. Black frame: the frame marked by "
    "eye. A coloured bar under a frame: the frame that model's landmarks gave (its sub-frame "
    "estimate rounded to a whole frame). Dots: each model's ankles, heels and toes, in its colour."
)


def page(
    title: str,
    decision: str,
    headline: str,
    reason: str,
    *,
    caveats: Sequence[str] = (),
    per_jump_table: pd.DataFrame | None = None,
    filmstrips: Sequence[tuple[str, bytes]] = (),
    charts: Sequence[tuple[str, bytes, str]] = (),
    criteria: pd.DataFrame | None = None,
    settings: Sequence[tuple[str, str]] = (),
    appendix: Sequence[tuple[str, str]] = (),
    note: str = "",
) -> str:
    """The page: ``charts`` as (title, PNG, caption); ``settings`` as (term, words);
    ``appendix`` as (heading, HTML)."""
    kind = decision.split()[0].lower() if decision else ""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f"<div class='verdict {_esc(kind)}' id='verdict'><strong>{_esc(headline or decision)}</strong>"
        f"{_esc(reason)}</div>",
    ]
    if note:
        parts.append(f"<p><strong>Note:</strong> {_esc(note)}</p>")
    if caveats:
        parts.append("<h2>What it rests on</h2><ul class='caveats'>")
        parts += [f"<li>{_esc(c)}</li>" for c in caveats]
        parts.append("</ul>")
    if criteria is not None and len(criteria):
        parts.append("<h2>The criteria of the decision</h2>")
        parts.append(text_table(criteria))
    if per_jump_table is not None and len(per_jump_table):
        parts.append("<h2 id='per-jump'>Jump by jump</h2>")
        parts.append(per_jump_html(per_jump_table))
    if filmstrips:
        parts.append("<h2 id='filmstrips'>The frames each model chose</h2>")
        parts.append(f"<p class='caption'>{_esc(FILMSTRIP_CAPTION)}</p>")
        parts += [
            f"<figure class='filmstrip'>{_img(png, f'Filmstrip of {name}')}</figure>"
            for name, png in filmstrips
        ]
    for chart_title, png, caption in charts:
        parts.append(f"<h2>{_esc(chart_title)}</h2>{figure(png, chart_title, caption)}")
    if settings:
        parts.append("<h2>Settings and machine</h2><dl class='meta'>")
        parts += [f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in settings]
        parts.append("</dl>")
    for i, (heading, block) in enumerate(appendix):
        cls = " class='appendix'" if i == 0 else ""
        parts.append(f"<h2{cls}>{_esc(heading)}</h2>{block}")
    parts.append(
        "<p class='caption'>Made by PoseBench. Every table is in the zip as CSV, with the unit in "
        "each header (raw column names there); this page needs no network.</p></body></html>"
    )
    return "".join(parts)


RESULT_WORDS = {"met": "met", "unmet": "not met", "not measured": "not measured"}


def criteria_table(verdict) -> pd.DataFrame:
    """The verdict's criteria in words: one row each."""
    rows = []
    for c in getattr(verdict, "criteria", []) or []:
        rows.append(
            {
                "Criterion": c.title,
                "Result": {"met": "met", "unmet": "not met", "not measured": "not measured"}.get(
                    c.status, c.status
                ),
                "Rule": c.rule,
                "What was measured": (c.detail[:1].upper() + c.detail[1:]) if c.detail else MISSING,
            }
        )
    return pd.DataFrame(rows, columns=["Criterion", "Result", "Rule", "What was measured"])


def sideways(summary: pd.DataFrame, units: schema.Described) -> str:
    """The wide pooled table turned on its side: one row per statistic (words, unit), one
    column per backend; the raw column name is on hover, as in the CSV."""
    if summary is None or not len(summary):
        return "<p class='caption'>No statistics yet.</p>"
    labels = [str(b) for b in summary["backend"]]
    head = "<th>Statistic</th>" + "".join(f"<th>{_esc(b)}</th>" for b in labels)
    rows = []
    for name in summary.columns:
        if name == "backend":
            continue
        column = schema.entry(name, units)
        unit, meaning = column.unit, column.meaning
        words = _words(name, unit)
        cells = "".join(f"<td class='n'>{_esc(_value(v, unit))}</td>" for v in summary[name])
        rows.append(
            f"<tr><td title='{_esc(meaning + ' As in the CSV: ' + name)}'>{_esc(words)}</td>{cells}</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


WORDS = (
    ("loa", "limit of agreement"),
    ("icc", "ICC"),
    ("mae", "mean abs. error"),
    ("ci ", "95 % CI "),
    ("fps", "speed"),
    ("sd", "SD"),
    ("takeoff", "take-off"),
    ("n paired", "clips paired with the"),
)


def _words(name: str, unit: str) -> str:

    column = schema.describe(name, {name: (unit, "")})
    text = schema.title(name, column).replace("_", " ")
    for raw, plain in WORDS:
        text = text.replace(raw, plain)
    return text[:1].upper() + text[1:]


def _value(value, unit: str) -> str:
    if value is None or _missing(value):
        return MISSING
    if isinstance(value, str):
        return value or MISSING
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value) or MISSING
    if not math.isfinite(number):
        return MISSING
    if unit == "share":
        return f"{number * 100:.0f} %"
    if unit in ("clips", "frames/s"):
        return f"{number:.0f}"
    if unit in ("ms", "frames"):
        text = f"{number:.0f}" if unit == "ms" else f"{number:.1f}"
        return "0" if text in ("-0", "-0.0") else text
    if unit == "cm":
        return f"{number:.1f}"
    return f"{number:.2f}"


__all__ = ["FILMSTRIP_CAPTION", "criteria_table", "page", "per_jump_html", "sideways", "text_table"]
