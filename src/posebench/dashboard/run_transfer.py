"""Import a run made elsewhere (a zip of a run folder, or its files), and zip a run to move it.

The uploads are untrusted data: ``posebench.access.import_runs.import_run`` checks every
member against the schema before anything is loaded, drops every path in the run and
saves it owned by the importing user. ``zip_run`` leaves server paths out of the zip.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from posebench.access import import_runs
from posebench.store import run_store


def import_uploads(files, root: Path | None = None, owner: str | None = None) -> Path:
    """Save the uploaded run under ``root``; returns its folder. Raises ``InputError`` (one sentence)."""
    return import_runs.import_run([(getattr(f, "name", "upload"), f) for f in files], root, owner=owner)


def zip_run(path: Path) -> bytes:
    """A saved run folder as a zip, for moving it to another machine; no server path in it."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in run_store.FILES:
            member = path / name
            if not member.exists():
                continue
            if name == "run.json":
                meta = run_store.read_meta(path)
                if isinstance(meta.get("clip"), dict):
                    meta["clip"]["path"] = ""
                archive.writestr(f"{path.name}/{name}", json.dumps(meta, indent=2))
            else:
                archive.write(member, arcname=f"{path.name}/{name}")
    return buffer.getvalue()
