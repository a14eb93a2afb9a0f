"""Studies as a given person sees them: their own, and those shared with them read-only.

On a shared server each user's studies live in ``<results>/users/<name>/studies`` and each
study folder holds ``access.json`` (``store.owners``, the same record runs have). The owner
may share a study with everyone or with named users, read-only; a person it is shared with
finds it in their list as ``<study> · shared by <owner>`` and may open its results and
report, never change it, run it again, add clips or delete it. Every change to a study that
is not one's own is refused by ``owners.require_change``; changes of sharing, deletions and
refused changes are written to the audit log (``store.audit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from posebench.core.errors import InputError
from posebench.store import audit, owners, references, run_store
from posebench.store.owners import Access, Viewer
from posebench.studies import study_folder

SHARED_MARK = " · shared by "  # a shared study's entry in a list: "<study> · shared by <owner>"


def root_of(user: str | None, results_root: Path | None = None) -> Path:
    """The folder of ``user``'s studies (single-user mode: ``<results>/studies``)."""
    return references.root_of(user, results_root) / "studies"


def own_root(viewer: Viewer, results_root: Path | None = None) -> Path:
    return root_of(None if viewer.single else viewer.name, results_root)


def entry(study_id: str, owner: str) -> str:
    """How a study shared by ``owner`` is named in another user's list."""
    return f"{study_id}{SHARED_MARK}{owner}"


@dataclass(frozen=True)
class Opened:
    """Where a study in a person's list is, and whether that person may change it."""

    key: str  # the entry in the list (the study id, or ``entry(...)`` for a shared one)
    study_id: str
    root: Path  # its owner's studies folder
    owner: str | None
    mine: bool

    @property
    def folder(self) -> Path:
        return study_folder.folder_of(self.study_id, self.root)


def shared_with(viewer: Viewer, results_root: Path | None = None) -> pd.DataFrame:
    """``study_folder.list_studies`` rows of other users' studies ``viewer`` may see (read-only),
    with ``study_id`` replaced by their entry (``<study> · shared by <owner>``)."""
    frames = []
    users = Path(results_root or run_store.default_root()) / references.USERS
    if not viewer.single and users.is_dir():
        for folder in sorted(users.iterdir()):
            if folder.name == viewer.name or not owners.USER_NAME.match(folder.name):
                continue
            listed = study_folder.list_studies(folder / "studies")
            keep = [
                viewer.can_see(a) and a.owner == folder.name
                for a in (owners.read(Path(p)) for p in listed["path"])
            ]
            listed = listed[keep]
            if len(listed):
                frames.append(listed.assign(study_id=[entry(s, folder.name) for s in listed["study_id"]]))
    if not frames:
        return pd.DataFrame(columns=list(study_folder.LIST_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def visible_studies(viewer: Viewer, results_root: Path | None = None) -> pd.DataFrame:
    """The viewer's own studies, newest first, then those shared with them."""
    own = study_folder.list_studies(own_root(viewer, results_root))
    shared = shared_with(viewer, results_root)
    return pd.concat([own, shared], ignore_index=True) if len(shared) else own


def locate(viewer: Viewer, key: str, results_root: Path | None = None) -> Opened:
    """The study a list entry names, if ``viewer`` may see it (``InputError`` otherwise, the
    same sentence whether it does not exist or is not shared with them)."""
    mine = own_root(viewer, results_root)
    if SHARED_MARK not in key or viewer.single:
        return Opened(
            key, study_folder.check_study_id(key), mine, None if viewer.single else viewer.name, True
        )
    study_id, owner = key.rsplit(SHARED_MARK, 1)
    refused = InputError(f"there is no saved study named {study_id[:80]} that you can open")
    if not owners.USER_NAME.match(owner) or owner == viewer.name:
        raise refused
    root = root_of(owner, results_root)
    try:
        folder = study_folder.folder_of(study_id, root)
    except InputError:
        raise refused from None
    access = owners.read(folder)
    if access.owner != owner or not viewer.can_see(access):
        raise refused
    if not (folder / study_folder.FILES["definition"]).exists():
        raise refused
    return Opened(key, study_id, root, owner, viewer.can_change(access))


def require_change(viewer: Viewer, folder: Path, what: str, results_root: Path | None = None) -> None:
    """Refuse (``InputError``, audited as ``study-change-refused``) a change to a study folder
    that is not ``viewer``'s own. A folder in the viewer's own studies folder is theirs (one
    made before owners existed gets its record now)."""
    folder = Path(folder)
    if viewer.single:
        return
    mine = own_root(viewer, results_root).resolve()
    if folder.resolve().parent == mine:
        if owners.read(folder).owner is None and folder.is_dir():
            owners.write(folder, Access(viewer.name))
        return
    try:
        owners.require_change(viewer, folder, f"study {folder.name}")
    except InputError:
        access = owners.read(folder)
        audit.record(
            "study-change-refused", viewer.name, folder.name, results_root, owner=access.owner, tried=what
        )
        raise


def set_sharing(
    viewer: Viewer,
    opened: Opened,
    shared: bool,
    readers: tuple[str, ...] = (),
    results_root: Path | None = None,
) -> Access:
    """Share the study read-only with everyone (``shared``) and/or the named ``readers``;
    only its owner may. Audited as ``study-share`` (or ``study-unshare`` when nobody is left)."""
    if viewer.single:
        raise InputError("studies are shared on a shared server only (POSEBENCH_MODE=shared)")
    require_change(viewer, opened.folder, "share", results_root)
    readers = tuple(n for n in readers if n != viewer.name)
    for name in readers:
        owners.check_user_name(name)
    access = Access(viewer.name, bool(shared), readers[: owners.MAX_READERS])
    owners.write(opened.folder, access)
    action = "study-share" if access.shared or access.readers else "study-unshare"
    who = {"everyone": access.shared, "readers": list(access.readers)}
    audit.record(action, viewer.name, opened.study_id, results_root, **who)
    return access


def delete(viewer: Viewer, opened: Opened, results_root: Path | None = None) -> None:
    """Delete a study: its owner only; audited as ``study-delete``."""
    require_change(viewer, opened.folder, "delete", results_root)
    study_folder.delete(opened.study_id, opened.root)
    audit.record("study-delete", viewer.name, opened.study_id, results_root, owner=opened.owner)


__all__ = [
    "SHARED_MARK",
    "Opened",
    "delete",
    "entry",
    "locate",
    "own_root",
    "require_change",
    "set_sharing",
    "shared_with",
    "visible_studies",
]
