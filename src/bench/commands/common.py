"""Pieces several commands share."""
from __future__ import annotations

import pandas as pd


def print_table(df: pd.DataFrame, columns: list[str], floatfmt: str = "{:.1f}",
                formats: dict[str, str] | None = None) -> None:
    """Print selected columns as an aligned text table (``formats``: per-column format)."""
    cols = [c for c in columns if c in df.columns]
    shown = df[cols].copy()
    for col in cols:
        fmt = (formats or {}).get(col, floatfmt)
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v, f=fmt: "-" if pd.isna(v) else f.format(v))
    print(shown.to_string(index=False))


def add_backend_option(parser, default=None) -> None:
    parser.add_argument("-b", "--backend", action="append", dest="backends", default=default,
                        metavar="NAME[:key=value,...]",
                        help="backend preset, optionally with settings; repeat for several "
                             "(see `python -m bench backends`)")
