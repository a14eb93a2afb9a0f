"""The audit log: one JSON line per deletion, import, ownership or sharing change.

The file is only ever appended to (``O_APPEND``; each line is written with one
``write`` call, so lines of concurrent writers never interleave). It lives at
``POSEBENCH_AUDIT_LOG``, by default ``.audit.jsonl`` in the results folder.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path


def log_path(root: Path | None = None) -> Path:
    override = os.environ.get("POSEBENCH_AUDIT_LOG")
    if override:
        return Path(override)
    from posebench.store.run_store import default_root

    return Path(root or default_root()) / ".audit.jsonl"


def record(action: str, user: str | None, target: str, root: Path | None = None, **detail) -> None:
    """Append ``{"time", "user", "action", "target", ...detail}`` to the log."""
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "action": action,
        "target": target,
        **detail,
    }
    path = log_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, default=str, ensure_ascii=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(root: Path | None = None) -> list[dict]:
    path = log_path(root)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
