"""Who owns a saved thing (run, study, reference, upload) and who may see or change it.

Each saved folder holds ``access.json``: ``{"owner": NAME, "shared": false}``, and
``"readers": [NAME, ...]`` when it is shared with named users only. Only the owner may
delete the folder or change what is saved in it; the others see it only when it is shared
(with everyone, or with them by name), and then read-only. On one's own machine
(single-user mode) there is one user, ``LOCAL``, who may do everything; a folder without
``access.json`` (made before owners existed, or by the command line) belongs to no
signed-in user, so on a shared server it is hidden until ``posebench runs own RUN_ID NAME``
gives it an owner.
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
MAX_READERS = 50  # named users one folder may be shared with
RECORD_BYTES = 8192  # a larger access.json is damaged (or hostile): no owner


def check_user_name(name: str) -> str:
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise InputError("a user name is 1 to 80 letters, digits or '_.@+-', starting with a letter or digit")
    return name


@dataclass(frozen=True)
class Access:
    owner: str | None  # None: nobody signed-in owns it
    shared: bool = False  # True: everyone signed in may see it (read-only)
    readers: tuple[str, ...] = ()  # named users who may see it (read-only) when not shared

    def as_dict(self) -> dict:
        out: dict = {"owner": self.owner, "shared": self.shared}
        if self.readers:
            out["readers"] = list(self.readers)
        return out


@dataclass(frozen=True)
class Viewer:
    """The person asking: a user name, and whether this is single-user mode."""

    name: str
    single: bool = False

    def can_see(self, access: Access) -> bool:
        if self.single or access.owner == self.name:
            return True
        return access.owner is not None and (access.shared or self.name in access.readers)

    def can_change(self, access: Access) -> bool:
        return self.single or (access.owner is not None and access.owner == self.name)


def read(folder: Path) -> Access:
    """The folder's access record; no record (or a damaged one) means no owner, not shared."""
    path = Path(folder) / ACCESS_FILE
    try:
        if path.stat().st_size > RECORD_BYTES:
            return Access(None)
        data = json.loads(path.read_text(encoding="utf-8"))
        owner = data.get("owner")
        owner = owner if isinstance(owner, str) and USER_NAME.match(owner) else None
        named = data.get("readers", [])
        named = named if isinstance(named, list) else []
        readers = tuple(dict.fromkeys(n for n in named if isinstance(n, str) and USER_NAME.match(n)))
        if owner is None:
            return Access(None)
        return Access(owner, bool(data.get("shared", False)), readers[:MAX_READERS])
    except (OSError, ValueError, AttributeError):
        return Access(None)


def parse_readers(text: str, owner: str | None = None) -> tuple[str, ...]:
    """User names typed by a person (separated by commas, semicolons or spaces), each
    checked; the owner is left out. ``InputError`` names the first that is not a user name."""
    names = [n for n in re.split(r"[,;\s]+", str(text or "")) if n]
    for name in names:
        if not USER_NAME.match(name):
            raise InputError(f"'{name[:40]}' is not a user name (letters, digits or '_.@+-')")
    out = tuple(dict.fromkeys(n for n in names if n != owner))
    if len(out) > MAX_READERS:
        raise InputError(f"a study can be shared with at most {MAX_READERS} named users")
    return out


def write(folder: Path, access: Access) -> None:
    if access.owner is not None:
        check_user_name(access.owner)
    for name in access.readers:
        check_user_name(name)
    write_atomic(Path(folder) / ACCESS_FILE, json.dumps(access.as_dict()).encode("utf-8"))


def require_change(viewer: Viewer, folder: Path, what: str) -> Access:
    """The folder's access record, or ``InputError`` when ``viewer`` may not change it."""
    access = read(folder)
    if not viewer.can_change(access):
        raise InputError(f"only the owner of {what} may change or delete it")
    return access
