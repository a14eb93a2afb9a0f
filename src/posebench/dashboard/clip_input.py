"""Where the dashboard's clips come from: uploads, the bundled sample, clip folders.

``save_upload`` is the one door for uploaded files: it hands the upload to
``posebench.io.uploads.accept_upload``, which streams it to a private temporary file
under the size limit, judges it by its content (a separate process decodes
it) and returns an ``AcceptedClip`` with the notices to show and the
downscale to apply. The page keeps that clip in the session until another
clip replaces it (see ``dashboard.state.set_upload``); a run keeps it while
it reads it (``RunJob(keep=...)``); the file is deleted when nothing does.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
import weakref
from pathlib import Path

from posebench.access import queue
from posebench.core.env import positive_env
from posebench.core.errors import InputError
from posebench.io import uploads, video
from posebench.io.video import VIDEO_SUFFIXES
from posebench.store import references

ACCEPTED_TYPES: tuple[str, ...] = ("mp4", "mov", "avi", "mkv", "webm")
DEFAULT_UPLOAD_MB = uploads.DEFAULT_LIMIT_MB


def upload_limit_mb() -> int:
    """Largest upload in MB: ``POSEBENCH_UPLOAD_MB`` (default 200).

    Streamlit's server refuses bodies above ``server.maxUploadSize`` whatever a
    widget says, so the limit is capped by it; to allow more, raise both
    (``make run`` passes ``POSEBENCH_UPLOAD_MB`` as ``--server.maxUploadSize``).
    """
    wanted = positive_env("POSEBENCH_UPLOAD_MB", DEFAULT_UPLOAD_MB, int)
    try:
        from streamlit import config

        server = int(config.get_option("server.maxUploadSize"))
    except Exception:  # outside a Streamlit server the env value stands
        return wanted
    return min(wanted, server) if server > 0 else wanted


def upload_dir() -> Path:
    """The private folder uploads wait in (``POSEBENCH_UPLOADS`` overrides)."""
    return uploads.default_workdir()


# -- upload storage: per user and for the whole server --------------------------------------
DEFAULT_USER_MB = 2 * DEFAULT_UPLOAD_MB  # env POSEBENCH_UPLOADS_USER_MB
DEFAULT_SERVER_MB = 4096  # env POSEBENCH_UPLOADS_SERVER_MB
_OWNED: dict[str, set[Path]] = {}  # user -> paths of their uploads still on disk
_OWNED_LOCK = threading.Lock()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def user_usage(owner: str) -> int:
    """Bytes of ``owner``'s uploads on disk: those waiting in the upload folder, and the
    clips uploaded into their studies (one cap for every upload path)."""
    with _OWNED_LOCK:
        paths = _OWNED.get(owner, set())
        paths.difference_update([p for p in paths if not p.exists()])
        waiting = sum(_size(p) for p in paths)
    return waiting + study_clips_usage(owner)


def study_clips_usage(owner: str) -> int:
    """Bytes of the clips ``owner`` uploaded into studies (``<their root>/studies/*/clips``)."""
    base = references.root_of(owner) / "studies"
    if not base.is_dir():
        return 0
    return sum(_size(p) for p in base.glob("*/clips/*") if p.is_file())


def server_usage() -> int:
    """Bytes of every upload on disk in the upload folder."""
    folder = upload_dir()
    return sum(_size(p) for p in folder.glob("upload-*")) if folder.is_dir() else 0


def user_cap_bytes() -> int:
    """Each user's share of the upload storage (``POSEBENCH_UPLOADS_USER_MB``)."""
    return positive_env("POSEBENCH_UPLOADS_USER_MB", DEFAULT_USER_MB, int) * 1024**2


def check_storage(owner: str, size: int, label: str) -> None:
    """Refuse an upload that would pass the user's or the server's upload storage cap."""
    user_cap = user_cap_bytes()
    server_cap = positive_env("POSEBENCH_UPLOADS_SERVER_MB", DEFAULT_SERVER_MB, int) * 1024**2
    used = user_usage(owner)
    if used + size > user_cap:
        raise InputError(
            f"{label} would take your uploads on this server to {(used + size) / 1024**2:,.0f} MB, "
            f"above your share of {user_cap / 1024**2:,.0f} MB (your uploads that runs or other tabs "
            "still use are kept); close tabs with other uploads, or choose another clip in them, "
            "and try again."
        )
    total = server_usage()
    if total + size > server_cap:
        raise InputError(
            f"The server's space for uploads is full ({total / 1024**2:,.0f} of "
            f"{server_cap / 1024**2:,.0f} MB in use), so {label} was not taken; nothing is wrong "
            "with the file. Try again later."
        )


def save_upload(uploaded_file, owner: str | None = None, on_wait=None, **options) -> uploads.AcceptedClip:
    """Store and check a Streamlit ``UploadedFile``; ``InputError`` (one sentence) if refused.

    The uploaded name is only a label; the bytes go to a random name in
    ``upload_dir()``. A refused file is deleted at once; an accepted one when
    its ``cleanup()`` is called. ``options`` go to ``accept_upload``.

    ``owner`` is counted against the per-user and server-wide upload caps; the content
    check waits for its turn in the server's queue (``engine.queue``), calling
    ``on_wait(place, running)`` while it waits; a full queue is ``ServerBusy``.
    """
    label = uploads.safe_label(getattr(uploaded_file, "name", None))
    size = getattr(uploaded_file, "size", None)
    owner = owner or "local"
    sweep_uploads()  # uploads of closed sessions go first (they count against the caps)
    check_storage(owner, size if isinstance(size, int) else 0, label)
    clip = uploads.accept_upload(
        getattr(uploaded_file, "name", None),
        uploaded_file,
        limit_bytes=upload_limit_mb() * 1024**2,
        gate=lambda: queue.server_queue().slot("check", on_wait=on_wait),
        **options,
    )
    with _OWNED_LOCK:
        _OWNED.setdefault(owner, set()).add(Path(clip.path))
    with _TAKEN_LOCK:
        _TAKEN[Path(clip.path)] = time.time()
    # When nothing holds the clip any more (its browser session was dropped by the server and
    # no run reads it), its file goes too, instead of waiting for the server to stop.
    weakref.finalize(clip, _delete_file, clip.path)
    return clip


def _delete_file(path: Path) -> None:
    video.forget(path)
    path.unlink(missing_ok=True)


@functools.lru_cache(maxsize=1)
def sweep_stale_uploads() -> int:
    """Once per server: delete uploads a killed server left behind (older than a day), and
    start the sweep of uploads left by closed sessions (``start_sweeper``)."""
    start_sweeper()
    return uploads.sweep(upload_dir())


# -- uploads left by closed sessions ------------------------------------------------------
# A session that closes (its tab closed) is kept by Streamlit for reconnecting (2 minutes),
# and then only dropped when the server next stores a session: its upload stays on disk as
# long as nothing else happens. The sweep removes each upload this server took that no live
# session, running job or recent reload (``job_registry``'s latest upload) still holds.
SWEEP_EVERY_S = 60.0  # the sweeper looks this often (and on every upload)
UPLOAD_GRACE_S = 120.0  # env POSEBENCH_UPLOAD_GRACE_S: a newer upload is never swept
LATEST_KEPT_S = 3600.0  # env POSEBENCH_UPLOAD_TTL_S: a user's latest upload waits this long for a reload
_TAKEN: dict[Path, float] = {}  # uploads this server took -> when (time.time())
_TAKEN_LOCK = threading.Lock()
_SWEEP_LOCK = threading.Lock()
_LAST_SWEEP = [0.0]  # when the last sweep ran (time.time())


def _clip_paths(value, depth: int = 0):
    """Paths of the accepted uploads ``value`` holds: the clip itself, a job's ``keep``, or
    inside dicts, lists, tuples and sets (three levels deep)."""
    if isinstance(value, uploads.AcceptedClip):
        yield Path(value.path)
        return
    if depth >= 3:
        return
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        kept = getattr(value, "keep", None) if hasattr(value, "cancel_event") else None
        items = [kept] if kept is not None else []
    for item in items:
        yield from _clip_paths(item, depth + 1)


def live_sessions():
    """The session states of this server's live sessions (connected, or closed less than
    Streamlit's reconnect time ago); None outside a Streamlit server (nothing is known)."""
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return None
        manager = Runtime.instance()._session_mgr
        storage = getattr(manager, "_session_storage", None)
        reap = getattr(getattr(storage, "_cache", None), "expire", None)
        if callable(reap):
            reap()  # sessions past their reconnect time are dropped now, not at the next store
        return [info.session.session_state for info in manager.list_sessions()]
    except Exception:  # a Streamlit without these internals: say nothing is known
        return None


def _state_values(session_state, tries: int = 3) -> list | None:
    """The values of one session's state (read from another thread while its page may run:
    tried again when it changed meanwhile); None when it cannot be read."""
    for _ in range(tries):
        try:
            if hasattr(session_state, "filtered_state"):
                return list(session_state.filtered_state.values())
            return list(dict(session_state).values())
        except Exception:
            time.sleep(0.01)
    return None


def held_uploads(states=None) -> set[Path] | None:
    """Paths of uploads that live sessions or running jobs hold; None when unknown."""
    states = live_sessions() if states is None else states
    if states is None:
        return None
    held: set[Path] = set()
    for session_state in states:
        values = _state_values(session_state)
        if values is None:
            return None  # a session that cannot be read may hold anything: sweep nothing now
        for value in values:
            held.update(_clip_paths(value))
    try:
        from posebench.dashboard import job_registry

        for entry in job_registry.registry().running_everywhere():
            held.update(_clip_paths(entry.job))
    except Exception:
        pass
    return held


def _latest_uploads() -> dict[Path, object]:
    try:
        from posebench.dashboard import job_registry

        return dict(job_registry.registry().kept_uploads())
    except Exception:
        return {}


def sweep_uploads(states=None, now: float | None = None, force: bool = False) -> list[Path]:
    """Remove the uploads this server took that nothing holds any more (``held_uploads``)
    and that are older than ``UPLOAD_GRACE_S``; a user's latest upload (kept for a reload)
    goes after ``LATEST_KEPT_S`` unless a live session holds it. Uploads of another process
    are left to ``uploads.sweep`` (a day). Kept clips (a study's ``<sha256>`` copies) are
    never in the upload folder. At most once per ``SWEEP_EVERY_S`` unless ``force``;
    returns the removed paths."""
    now = time.time() if now is None else now
    if not _SWEEP_LOCK.acquire(blocking=force):  # a forced sweep waits for one under way
        return []
    try:
        if not force and now - _LAST_SWEEP[0] < SWEEP_EVERY_S:
            return []
        _LAST_SWEEP[0] = now
        held = held_uploads(states)
        if held is None:
            return []  # not a server: the clips' own clean-up (finalizers, atexit) applies
        grace = positive_env("POSEBENCH_UPLOAD_GRACE_S", UPLOAD_GRACE_S, float, zero_ok=True)
        latest_ttl = positive_env("POSEBENCH_UPLOAD_TTL_S", LATEST_KEPT_S, float, zero_ok=True)
        latest = _latest_uploads()
        removed = []
        with _TAKEN_LOCK:
            taken = dict(_TAKEN)
        for path, taken_at in taken.items():
            if not path.exists():
                with _TAKEN_LOCK:
                    _TAKEN.pop(path, None)
                continue
            age = now - taken_at
            if path in held or age < grace:
                continue
            if path in latest and age < latest_ttl:
                continue
            _delete_file(path)
            with _TAKEN_LOCK:
                _TAKEN.pop(path, None)
            removed.append(path)
        return removed
    finally:
        _SWEEP_LOCK.release()


@functools.lru_cache(maxsize=1)
def start_sweeper() -> threading.Thread:
    """Once per server: a thread that runs ``sweep_uploads`` every ``SWEEP_EVERY_S``."""

    def loop() -> None:
        while True:
            time.sleep(SWEEP_EVERY_S)
            try:
                sweep_uploads()
            except Exception:  # the sweeper never stops the server
                continue

    thread = threading.Thread(target=loop, name="posebench-upload-sweeper", daemon=True)
    thread.start()
    return thread


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
        module = importlib.import_module("posebench.models.sample_clip")
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
        found += [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
    return sorted(found, key=lambda p: p.name.lower())


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve() or (a.name == b.name and a.stat().st_size == b.stat().st_size)


def available_clips() -> tuple[list[tuple[Path, str]], str]:
    """(path, label) of the sample first (when set up), then the folder clips; why the sample is missing."""
    sample, why = bundled_sample()
    clips = [(sample, f"{sample.name} (bundled sample)")] if sample else []
    clips += [(p, p.name) for p in folder_clips() if not sample or not _same_file(p, sample)]
    return clips, why
