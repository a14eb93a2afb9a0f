"""Saved runs as a given person sees them: only their own and shared ones; changes by owners only.

Every operation on a saved run that comes from a person goes through here, so the owner
rules of ``engine.owners`` are applied in one place; deletions, sharing and ownership
changes are written to the audit log.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from posebench.core.errors import InputError
from posebench.store import audit, owners, run_store
from posebench.store.owners import Access, Viewer


def visible_runs(viewer: Viewer, root: Path | None = None) -> pd.DataFrame:
    """``run_store.list_runs`` less the runs ``viewer`` may not see; adds ``mine`` (may change)."""
    return filter_visible(run_store.list_runs(root), viewer)


def filter_visible(runs: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The rows of a ``run_store.list_runs`` table ``viewer`` may see, with ``mine`` (may change)."""
    if not len(runs):
        return runs.assign(mine=pd.Series(dtype=bool))
    pairs = zip(runs["owner"], runs["shared"])
    access = [Access(o if isinstance(o, str) else None, bool(s)) for o, s in pairs]
    keep = [viewer.can_see(a) for a in access]
    mine = [viewer.can_change(a) for a in access]
    return runs.assign(mine=mine)[keep].reset_index(drop=True)


def _folder(viewer: Viewer, run_id: str, root: Path | None) -> tuple[Path, Access]:
    folder = run_store.run_dir(run_id, root)
    access = owners.read(folder)
    if not (folder / "run.json").exists() or not viewer.can_see(access):
        raise InputError(f"there is no saved run named {run_id} that you can open")
    return folder, access


def access_of(viewer: Viewer, run_id: str, root: Path | None = None) -> Access:
    return _folder(viewer, run_id, root)[1]


def may_change(viewer: Viewer, run_id: str, root: Path | None = None) -> bool:
    """True when ``viewer`` may change what is saved with the run (settings, sharing, deletion)."""
    try:
        return viewer.can_change(_folder(viewer, run_id, root)[1])
    except InputError:
        return False


def open_run(viewer: Viewer, run_id: str, root: Path | None = None):
    folder, _access = _folder(viewer, run_id, root)
    return run_store.load(folder)


def delete_run(viewer: Viewer, run_id: str, root: Path | None = None) -> None:
    _path, access = _folder(viewer, run_id, root)
    if not viewer.can_change(access):
        raise InputError(f"{run_id} is shared with you read-only; only its owner may delete it")
    run_store.delete(run_id, root)
    audit.record("delete", viewer.name, run_id, root, owner=access.owner)


def set_shared(viewer: Viewer, run_id: str, shared: bool, root: Path | None = None) -> None:
    folder, access = _folder(viewer, run_id, root)
    if not viewer.can_change(access) or access.owner is None:
        raise InputError(f"only the owner of {run_id} may share it")
    owners.write(folder, Access(access.owner, bool(shared)))
    audit.record("share" if shared else "unshare", viewer.name, run_id, root)


def set_owner(run_id: str, owner: str, by: str | None, root: Path | None = None) -> None:
    """Give a run an owner (the administrator's command ``posebench runs own``)."""
    folder = run_store.run_dir(run_id, root)
    if not (folder / "run.json").exists():
        raise InputError(f"there is no saved run named {run_id}")
    before = owners.read(folder)
    owners.write(folder, Access(owners.check_user_name(owner), before.shared))
    audit.record("own", by, run_id, root, owner=owner, previous_owner=before.owner)
