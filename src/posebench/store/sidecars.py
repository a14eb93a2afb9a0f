"""Files kept beside a saved run (the run store's sidecars).

A saved run's own files (``run_store.FILES``) are never rewritten. What is
added to a run later lives in small sidecar files next to them, written
atomically, and in ``run.extra`` only while the run is not saved (yet): saving
the run writes those to the sidecar files, not to run.json (``run_store.SIDECARS``):

- ``scorecard.json``: the scorecard settings (baseline, candidate, thresholds, overrides);
- ``jump.csv``: the jump metrics per backend (formula-neutralised);
- ``reference.json``: the clip's reference (known flight time, take-off/landing frames), only
  for a clip without a SHA-256; otherwise the reference lives in the reference store
  (``engine.references``, keyed by the clip's SHA-256) and every run of that clip shares it;
- ``realtime.csv``: the real-time table (``posebench realtime``; ``schema.REALTIME_COLUMNS``);
- ``verdict.json``: the last verdict written for the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from posebench.io.files import unneutralise, write_atomic, write_csv_atomic
from posebench.store import audit, owners, references, run_store

SCORECARD = run_store.SIDECARS["scorecard"]
JUMP = run_store.SIDECARS["jump"]
REFERENCE = run_store.SIDECARS["reference"]
REALTIME = run_store.SIDECARS["realtime"]
VERDICT = "verdict.json"

# sidecar -> the key of run.extra that holds it for a run not saved on disk
EXTRA_KEYS = {name: key for key, name in run_store.SIDECARS.items()}


def run_folder(run, root: Path | None = None) -> Path | None:
    """The saved run's folder, or None when the run is not saved there."""
    try:
        path = run_store.run_dir(run.run_id, root)
    except Exception:
        return None
    return path if (path / "run.json").exists() else None


def read_json(run, name: str, root: Path | None = None) -> dict | None:
    """A JSON sidecar: the file wins over ``run.extra``'s copy; None when neither holds one."""
    folder = run_folder(run, root)
    if folder is not None and (folder / name).exists():
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
        except (OSError, ValueError):
            pass
    kept = run.extra.get(EXTRA_KEYS.get(name, name))
    return kept if isinstance(kept, dict) else None


def write_json(run, name: str, data: dict | None, root: Path | None = None) -> Path | None:
    """Keep ``data`` with the run: the sidecar of a saved run, else ``run.extra`` (one place
    each); None removes it."""
    key = EXTRA_KEYS.get(name, name)
    folder = run_folder(run, root)
    if data is None:
        run.extra.pop(key, None)
        if folder is not None and (folder / name).exists():
            (folder / name).unlink()
        return None
    if folder is None:
        run.extra[key] = data
        return None
    run.extra.pop(key, None)
    path = folder / name
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))
    return path


def save_jump_table(run, table: pd.DataFrame, root: Path | None = None) -> Path | None:
    """Keep a jump analysis of the run's clip beside the saved run (``jump.csv``), or with
    the run while it is not saved."""
    folder = run_folder(run, root)
    if folder is None:
        run.extra["jump"] = table.to_dict(orient="records")
        return None
    run.extra.pop("jump", None)
    path = folder / JUMP
    write_csv_atomic(table, path)
    return path


def load_jump_table(run, root: Path | None = None) -> pd.DataFrame | None:
    folder = run_folder(run, root)
    if folder is not None and (folder / JUMP).exists():
        try:
            return pd.read_csv(folder / JUMP)
        except (OSError, ValueError):
            pass
    records = run.extra.get("jump")
    return pd.DataFrame(records) if records else None


def load_realtime_table(run, root: Path | None = None) -> pd.DataFrame | None:
    """The run's real-time table (``realtime.csv``, ``posebench realtime``), or None."""
    folder = run_folder(run, root)
    if folder is not None and (folder / REALTIME).exists():
        try:
            return unneutralise(pd.read_csv(folder / REALTIME))
        except (OSError, ValueError):
            pass
    records = run.extra.get("realtime")
    return pd.DataFrame(records) if records else None


def reference_owner(run, root: Path | None = None, owner: str | None = None) -> str | None:
    """Whose reference store a run reads: its saved owner's (``access.json``), else ``owner``
    (the session's user, for a run not saved yet)."""
    folder = run_folder(run, root)
    if folder is not None:
        return owners.read(folder).owner
    return owner


def load_reference(run, root: Path | None = None, owner: str | None = None) -> dict | None:
    """The clip's reference: from the run owner's reference store by the clip's SHA-256 (the
    one place a clip's reference lives, shared by that user's runs and studies of those
    bytes), else the one kept beside the run (``reference.json``, for a run whose clip has no
    SHA-256); None when none. On a shared server every user has their own store
    (``references.root_of``): a reference another user saved for the same clip is not seen."""
    sha = str(getattr(run.clip, "sha256", "") or "")
    if sha:
        found = references.get(sha, references.root_of(reference_owner(run, root, owner), root))
        if found is not None:
            return found.as_row()
    return read_json(run, REFERENCE, root)


def save_reference(
    run, reference: dict | None, root: Path | None = None, by: owners.Viewer | None = None
) -> Path | None:
    """Save (or, with None, remove) the clip's reference: in the run owner's reference store
    when the clip's SHA-256 is known, else beside the run. Returns the file written.

    ``by``: the person asking; only the run's owner may change its reference (``InputError``
    otherwise), and the change is written to the audit log.
    """
    folder = run_folder(run, root)
    owner = reference_owner(run, root, by.name if by is not None else None)
    if by is not None and folder is not None:
        owners.require_change(by, folder, f"run {run.run_id}")
    sha = str(getattr(run.clip, "sha256", "") or "")
    written: Path | None
    if not sha:
        written = write_json(run, REFERENCE, reference, root)
    else:
        write_json(run, REFERENCE, None, root)  # one place: the store
        store = references.root_of(owner, root)
        if reference is None:
            if references.get(sha, store) is not None:
                references.delete(sha, store)
            written = None
        else:
            references.save(
                references.from_mapping(
                    {
                        **{k: v for k, v in reference.items() if v is not None},
                        "clip": run.clip.name,
                        "sha256": sha,
                    }
                ),
                store,
                frames=int(getattr(run.clip, "frames", 0) or 0) or None,  # the frames lie within the clip
            )
            written = references.store_path(store)
    if by is not None:
        audit.record(
            "reference-remove" if reference is None else "reference-save",
            by.name,
            run.run_id,
            root,
            owner=owner,
            clip=run.clip.name,
            sha256=sha,
        )
    return written
