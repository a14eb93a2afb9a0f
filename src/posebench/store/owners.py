"""Who owns a saved thing (run, study, reference, upload) and who may see or change it.

Each saved folder holds ``access.json``: ``{"owner": NAME, "shared": false}``. Only the
owner may delete the folder or change what is saved in it; the others see it only when
it is shared, and then read-only. On one's own machine (single-user mode) there is one
user, ``LOCAL``, who may do everything; a folder without ``access.json`` (made before
owners existed, or by the command line) belongs to no signed-in user, so on a shared
server it is hidden until ``posebench runs own RUN_ID NAME`` gives it an owner.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from posebench.core.errors import InputError
from posebench.io.files import write_atomic

ACCESS_FILE = "access.json"
LOCAL = "local"  # the one user of single-user mode
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,79}$")


def check_user_name(name: str) -> str:
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise InputError("a user name is 1 to 80 letters, digits or '_.@+-', starting with a letter or digit")
    return name


@dataclass(frozen=True)
class Access:
    owner: str | None  # None: nobody signed-in owns it
    shared: bool = False  # True: everyone signed in may see it (read-only)

    def as_dict(self) -> dict:
        return {"owner": self.owner, "shared": self.shared}


@dataclass(frozen=True)
class Viewer:
    """The person asking: a user name, and whether this is single-user mode."""

    name: str
    single: bool = False

    def can_see(self, access: Access) -> bool:
        return self.single or access.owner == self.name or (access.shared and access.owner is not None)

    def can_change(self, access: Access) -> bool:
        return self.single or (access.owner is not None and access.owner == self.name)


def read(folder: Path) -> Access:
    """The folder's access record; no record (or a damaged one) means no owner, not shared."""
    path = Path(folder) / ACCESS_FILE
    try:
        if path.stat().st_size > 4096:
            return Access(None)
        data = json.loads(path.read_text(encoding="utf-8"))
        owner = data.get("owner")
        owner = owner if isinstance(owner, str) and USER_NAME.match(owner) else None
        return Access(owner, bool(data.get("shared", False)) and owner is not None)
    except (OSError, ValueError, AttributeError):
        return Access(None)


def write(folder: Path, access: Access) -> None:
    if access.owner is not None:
        check_user_name(access.owner)
    write_atomic(Path(folder) / ACCESS_FILE, json.dumps(access.as_dict()).encode("utf-8"))


def require_change(viewer: Viewer, folder: Path, what: str) -> Access:
    """The folder's access record, or ``InputError`` when ``viewer`` may not change it."""
    access = read(folder)
    if not viewer.can_change(access):
        raise InputError(f"only the owner of {what} may change or delete it")
    return access
