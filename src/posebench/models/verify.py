"""Whether a file holds a catalogued model: its size and SHA-256 (checked once per file version)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol


class Catalogued(Protocol):
    """A file the catalogue knows: a model asset or the sample clip."""

    @property
    def bytes(self) -> int | None: ...

    @property
    def sha256(self) -> str | None: ...


def sha256_of(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: dict[tuple[str, int, int, int, str], bool] = {}


def verify(asset: Catalogued, path: Path) -> str | None:
    """Return None when ``path`` holds the asset, else why it does not."""
    try:
        stat = path.stat()
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if asset.bytes is not None and stat.st_size != asset.bytes:
        return f"{path} has {stat.st_size:,} bytes, expected {asset.bytes:,}"
    if asset.sha256 is None:
        return None
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, asset.sha256)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_of(path) == asset.sha256
    if not _VERIFIED[key]:
        return f"{path} has the wrong SHA-256 (expected {asset.sha256[:12]}...)"
    return None
