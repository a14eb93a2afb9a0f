"""Where the dashboard's clips come from: uploads, the bundled sample, clip folders.

``save_upload`` is the one door for uploaded files. For now it writes the
upload to a private temporary file in chunks after checking its size and
extension; the hardening work (``bench.uploads``) takes over behind the same
signature, judging the content rather than the name.
"""
from __future__ import annotations

import importlib
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath

from bench.errors import InputError
from bench.video import VIDEO_SUFFIXES

ACCEPTED_TYPES: tuple[str, ...] = ("mp4", "mov", "avi", "mkv", "webm")
DEFAULT_UPLOAD_MB = 200
CHUNK_BYTES = 1024 * 1024


def upload_limit_mb() -> int:
    """Largest upload in MB: ``POSEBENCH_UPLOAD_MB`` (default 200).

    Streamlit's server refuses bodies above ``server.maxUploadSize`` whatever a
    widget says, so the limit is capped by it; to allow more, raise both
    (``STREAMLIT_SERVER_MAX_UPLOAD_SIZE`` or ``--server.maxUploadSize``).
    """
    raw = os.environ.get("POSEBENCH_UPLOAD_MB", "")
    try:
        wanted = int(raw)
    except ValueError:
        wanted = DEFAULT_UPLOAD_MB
    wanted = wanted if wanted > 0 else DEFAULT_UPLOAD_MB
    try:
        from streamlit import config

        server = int(config.get_option("server.maxUploadSize"))
    except Exception:  # outside a Streamlit server the env value stands
        return wanted
    return min(wanted, server) if server > 0 else wanted


def upload_dir() -> Path:
    """A private folder for uploaded clips (removed with the temp folder)."""
    path = Path(tempfile.gettempdir()) / "posebench-uploads"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def save_upload(uploaded_file) -> Path:
    """Write a Streamlit ``UploadedFile`` to a temporary file and return its path.

    The name the user gave is never used as a path: it is reduced to letters,
    digits, '-' and '_' inside a fresh random folder, so results name the clip.
    Raises ``InputError`` with one sentence when the file is empty, too large
    or of a type that is not accepted.
    """
    size = int(getattr(uploaded_file, "size", 0) or 0)
    limit = upload_limit_mb()
    if size == 0:
        raise InputError(f"{_shown_name(uploaded_file)} is empty (0 bytes)")
    if size > limit * 1024 * 1024:
        raise InputError(f"{_shown_name(uploaded_file)} is {size / 1024 ** 2:.0f} MB; "
                         f"the limit is {limit} MB (POSEBENCH_UPLOAD_MB)")
    suffix = Path(str(getattr(uploaded_file, "name", ""))).suffix.lower().lstrip(".")
    if suffix not in ACCEPTED_TYPES:
        raise InputError(f"{_shown_name(uploaded_file)} is not one of the accepted video types "
                         f"({', '.join(ACCEPTED_TYPES)})")
    folder = upload_dir() / f"upload-{uuid.uuid4().hex}"
    folder.mkdir(mode=0o700)
    target = folder / f"{_safe_stem(uploaded_file)}.{suffix}"
    uploaded_file.seek(0)
    try:
        with open(target, "xb") as out:
            shutil.copyfileobj(uploaded_file, out, CHUNK_BYTES)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


def _safe_stem(uploaded_file) -> str:
    """The uploaded name reduced to letters, digits, '-', '_' (so results name the clip)."""
    stem = Path(PurePosixPath(str(getattr(uploaded_file, "name", "")).replace("\\", "/")).name).stem
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:80]
    return safe or "upload"


def _shown_name(uploaded_file) -> str:
    """The uploaded name, shortened and stripped of anything odd, for messages only."""
    name = "".join(ch for ch in str(getattr(uploaded_file, "name", "the file")) if ch.isprintable())
    return (name[:60] + "…") if len(name) > 61 else (name or "the file")


def remove_upload(path: str | Path | None) -> None:
    """Delete an upload ``save_upload`` wrote, with its folder (and nothing else)."""
    if not path:
        return
    folder = Path(path).parent
    if folder.parent == upload_dir() and folder.name.startswith("upload-"):
        shutil.rmtree(folder, ignore_errors=True)


# -- bundled and configured clips ------------------------------------------------------
def clip_dirs() -> list[Path]:
    """Folders from ``POSEBENCH_CLIP_DIRS`` (colon-separated) that exist."""
    raw = os.environ.get("POSEBENCH_CLIP_DIRS", "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip() and Path(p).is_dir()]


def bundled_sample() -> tuple[Path | None, str]:
    """The default sample clip (Sports2D's demo) when set up, and, when it is missing, why.

    Only a verified local copy is used: the page never downloads anything.
    """
    try:
        module = importlib.import_module("bench.sample_clip")
    except ImportError:
        return None, "the sample clip is not set up (run `make setup`)"
    try:
        path = module.cached_sample()
    except Exception as exc:  # the page says why in one sentence and goes on
        return None, f"the sample clip could not be checked: {exc}"
    if path is None:
        return None, "the sample clip is not set up (run `make setup`)"
    return Path(path), ""


def folder_clips() -> list[Path]:
    """Video files in the configured clip folders, sorted by name."""
    found = []
    for folder in clip_dirs():
        found += [p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
    return sorted(found, key=lambda p: p.name.lower())


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve() or (a.name == b.name and a.stat().st_size == b.stat().st_size)


def available_clips() -> tuple[list[tuple[Path, str]], str]:
    """(path, label) of the sample first (when set up), then the folder clips; and why the sample is missing."""
    sample, why = bundled_sample()
    clips = [(sample, f"{sample.name} (bundled sample)")] if sample else []
    clips += [(p, p.name) for p in folder_clips() if not sample or not _same_file(p, sample)]
    return clips, why
