"""Writing result files: safe file names and atomic writes (readers never see half a file)."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from posebench.core.errors import InputError

if TYPE_CHECKING:  # pandas is imported where a table is written: the upload check needs none
    import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")  # a saved run's or study's folder


def safe_name(name: str, fallback: str = "file") -> str:
    """``name`` with anything but letters, digits, '-', '_' and '.' replaced by '_' (60 at most)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:60] or fallback


def folder_name(name: str, what: str) -> str:
    """``name`` when it is a plain folder name (``FOLDER_NAME``), else ``InputError`` that calls
    it a ``what`` name ("run", "study")."""
    if not isinstance(name, str) or not FOLDER_NAME.match(name) or name in (".", ".."):
        raise InputError(f"'{name}' is not a valid {what} name (letters, digits, '-', '_', '.')")
    return name


def folder_in(root: Path, name: str, where: str) -> Path:
    """``root/name`` resolved, refused with ``InputError`` when it would not lie directly in
    ``root`` (``where``: how the message names ``root``, e.g. "the results folder")."""
    root = Path(root).resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise InputError(f"'{name}' would leave {where}")
    return path


CHUNK_BYTES = 1 << 20  # streams are copied 1 MiB at a time


def megabytes(size: float) -> str:
    """A size in MB, one decimal at most (``1 MB``, ``5.3 MB``)."""
    return f"{size / 1024**2:,.1f}".removesuffix(".0") + " MB"


def copy_capped(source, target: Path, limit: int, too_large: str, on_chunk=None) -> int:
    """Copy a readable stream into a new file ``target`` (never an existing one), 1 MiB at a
    time; stop with ``InputError(too_large)`` past ``limit`` bytes. ``on_chunk(bytes)`` sees
    every chunk (a digest). Returns the bytes written; the caller removes ``target`` on error."""
    written = 0
    with open(target, "xb") as out:
        while chunk := source.read(CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                raise InputError(too_large)
            out.write(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    return written


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then move it into place.

    The temporary name is unique, so two writers never share it; the file gets
    the usual permissions (the umask's), unlike ``tempfile.mkstemp``'s 0600.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> None:
    """The table as CSV, spreadsheet formulas neutralised (``to_csv_bytes``), atomically."""
    write_atomic(path, to_csv_bytes(df))


def _is_text(column: pd.Series) -> bool:
    from pandas.api.types import is_string_dtype

    return column.dtype == object or is_string_dtype(column)


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Guard text cells against spreadsheet formula injection; numbers stay numbers.

    A text cell starting with = + - @ (or a tab / carriage return) gets a
    leading apostrophe, so a spreadsheet shows it as text instead of running
    it. Numeric columns are left alone: -3.5 stays the number -3.5.
    """
    out = df.copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].map(_safe_cell)
    return out


def _safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The CSV the user downloads: neutralised, UTF-8."""
    return neutralise(df).to_csv(index=False).encode("utf-8")


def unneutralise(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if _is_text(df[col]):
            df[col] = df[col].map(
                lambda v: v[1:] if isinstance(v, str) and v[:1] == "'" and v[1:2] in FORMULA_START else v
            )
    return df
