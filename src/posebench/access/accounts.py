"""Local accounts for shared-server mode: user names with Argon2id password hashes.

The accounts file (``POSEBENCH_ACCOUNTS``, by default ``.accounts.json`` in the results
folder, mode 600) maps each user name to a hash made by argon2-cffi's ``PasswordHasher``
(Argon2id, its default parameters); no password is ever stored. ``posebench users add
NAME`` creates or resets an account. Where an OpenID Connect provider is configured for
Streamlit (``[auth]`` in ``.streamlit/secrets.toml``), sign-in goes there instead and
this file is not used.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from posebench.core.errors import InputError
from posebench.io.files import write_atomic
from posebench.store.owners import check_user_name

MIN_PASSWORD = 8
_HASHER = PasswordHasher()
_LOCK = threading.Lock()
# Checked for unknown users too, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("posebench-no-such-user")


def accounts_path() -> Path:
    override = os.environ.get("POSEBENCH_ACCOUNTS")
    if override:
        return Path(override)
    from posebench.store.run_store import default_root

    return default_root() / ".accounts.json"


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise InputError(f"the accounts file {path.name} is damaged; ask the administrator") from None
    users = data.get("users", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in users.items() if isinstance(k, str) and isinstance(v, str)}


def users(path: Path | None = None) -> list[str]:
    return sorted(_read(path or accounts_path()))


def add(name: str, password: str, path: Path | None = None) -> None:
    """Create the account, or set a new password for it."""
    check_user_name(name)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    path = path or accounts_path()
    with _LOCK:
        found = _read(path)
        found[name] = _HASHER.hash(password)
        _write(path, found)


def remove(name: str, path: Path | None = None) -> None:
    path = path or accounts_path()
    with _LOCK:
        found = _read(path)
        if name not in found:
            raise InputError(f"there is no account named {name}")
        del found[name]
        _write(path, found)


def _write(path: Path, found: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"users": found}, indent=1).encode("utf-8"))
    os.chmod(path, 0o600)


def verify(name: str, password: str, path: Path | None = None) -> bool:
    """True when ``password`` is the account's; the hash is upgraded when parameters changed."""
    path = path or accounts_path()
    found = _read(path)
    stored = found.get(name)
    try:
        _HASHER.verify(stored or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if _HASHER.check_needs_rehash(stored):
        with _LOCK:
            latest = _read(path)
            latest[name] = _HASHER.hash(password)
            _write(path, latest)
    return True
