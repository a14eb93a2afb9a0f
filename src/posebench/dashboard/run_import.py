"""Import a run made elsewhere: a zip of a run folder, or its files uploaded together.

Nothing the uploader names is used as a path: only the known file names of a
run folder (``posebench.engine.results.FILES``) are taken, by their base name, into a
fresh temporary folder, which ``posebench.engine.results.import_folder`` then checks and
saves under ``results/`` (never overwriting a run of the same id).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from posebench.core.errors import InputError
from posebench.engine import results

MAX_IMPORT_BYTES = 512 * 1024 * 1024  # unpacked size of one imported run
REQUIRED = ("summary.csv", "frames.csv", "run.json")


def _members(files) -> dict[str, bytes]:
    """File name -> bytes, from uploaded zips and loose files; only run-folder names kept."""
    found: dict[str, bytes] = {}
    for upload in files:
        name = PurePosixPath(str(upload.name).replace("\\", "/")).name
        data = upload.getvalue()
        if name.lower().endswith(".zip"):
            found.update(_from_zip(data, name))
        elif name in results.FILES:
            found[name] = data
    return found


def _from_zip(data: bytes, shown: str) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(f"{shown} is not a readable zip file") from None
    found: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if info.is_dir() or base not in results.FILES:
                continue
            if base in found:
                raise InputError(f"{shown} holds more than one run; zip one run folder at a time")
            total += info.file_size
            if total > MAX_IMPORT_BYTES:
                raise InputError(f"{shown} unpacks to more than {MAX_IMPORT_BYTES // 1024**2} MB")
            found[base] = archive.read(info)
    return found


def import_uploads(files, root: Path | None = None) -> Path:
    """Save the uploaded run under ``root``; returns its folder. Raises ``InputError``/``BenchError``."""
    members = _members(files)
    missing = [name for name in REQUIRED if name not in members]
    if missing:
        raise InputError(f"a run needs {', '.join(REQUIRED)}; missing: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="posebench-import-") as tmp:
        folder = Path(tmp)
        for name, data in members.items():
            (folder / name).write_bytes(data)
        try:
            return results.import_folder(folder, root)
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"the uploaded run.json lacks a field PoseBench needs ({exc})") from None


def zip_run(path: Path) -> bytes:
    """A saved run folder as a zip, for moving it to another machine."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in results.FILES:
            if (Path(path) / name).exists():
                archive.write(Path(path) / name, arcname=f"{Path(path).name}/{name}")
    return buffer.getvalue()
