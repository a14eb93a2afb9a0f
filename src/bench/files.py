"""Writing result files: safe file names and atomic writes (readers never see half a file)."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd

from . import results


def safe_name(name: str, fallback: str = "file") -> str:
    """``name`` with anything but letters, digits, '-', '_' and '.' replaced by '_' (60 at most)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:60] or fallback


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
    """The table as CSV, spreadsheet formulas neutralised (``results.to_csv_bytes``), atomically."""
    write_atomic(path, results.to_csv_bytes(df))
