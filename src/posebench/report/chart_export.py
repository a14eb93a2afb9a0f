"""Charts leave the dashboard as PNG images (for the evidence zip and its HTML page)."""

from __future__ import annotations

import json

import altair as alt
import vl_convert

CHART_SCALE = 1.5  # PNG pixels per chart pixel: sharp when printed, still small


def chart_png(chart: alt.TopLevelMixin, width: int = 760) -> bytes:
    """The chart as a PNG (vl-convert renders Vega-Lite without a browser or network)."""
    with alt.data_transformers.enable("default", max_rows=None):
        spec = chart.to_dict()
    spec["width"] = width
    spec.setdefault("background", "white")
    return vl_convert.vegalite_to_png(json.dumps(spec), scale=CHART_SCALE)


def chart_title(chart, fallback: str) -> str:
    """The chart's own title (Vega-Lite keeps it as text or as {"text": ...})."""
    try:
        title = chart.to_dict().get("title", "")
    except Exception:  # a chart that cannot be written out has no title either
        return fallback
    title = title.get("text", "") if isinstance(title, dict) else title
    return " ".join(title) if isinstance(title, list) else (str(title) or fallback)
