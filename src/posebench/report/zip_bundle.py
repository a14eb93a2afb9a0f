"""The evidence zip: every table as CSV (units in the headers), ``verdict.json``, the files
given (settings, machine, ...) and a self-contained ``report.html``. ``bundle`` is the generic
door (a title, the verdict sentence, tables, charts, files); ``run_evidence`` and
``study_evidence`` fill it."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence

from posebench.report.chart_export import chart_png
from posebench.report.html_page import html_report
from posebench.report.table_export import Chart, Table, csv_bytes, slug, to_json


def write_zip(
    root: str,
    page: str,
    tables: Sequence[Table],
    verdict: dict,
    files: Mapping[str, bytes],
) -> bytes:
    """The zip: ``report.html``, every table as CSV, ``verdict.json`` and the other files,
    all under the folder ``root``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/report.html", page)
        for table in tables:
            archive.writestr(f"{root}/{table.name}", csv_bytes(table))
        archive.writestr(f"{root}/verdict.json", json.dumps(verdict, indent=2, default=to_json))
        for name, data in files.items():
            archive.writestr(f"{root}/{name}", data)
    return buffer.getvalue()


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
    payload = dict(verdict or {"decision": decision, "sentence": sentence})
    images = {f"charts/{i}-{slug(c.title)}.png": png for i, (c, png) in enumerate(zip(charts, pngs), 1)}
    return write_zip(folder_name.strip("/") or "evidence", page, tables, payload, {**images, **(files or {})})
