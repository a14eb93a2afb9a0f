"""Runs a server restart interrupted: noted when they start, listed after the restart.

A benchmark run is saved only when it ends (``run_store.save``: atomically, or not at all), so
a server killed mid-run (SIGTERM, SIGKILL, a crash, a reboot) leaves nothing of the run and,
without this note, nothing to tell its user. When a run starts, a small note is written to
``<results>/.running/<run_id>.json``: who started it, the clip, the backends and options, and
the server process (id and start time, so a new process with a reused id is not taken for
it). The note is removed when the run ends, however it ends. A note whose server process is
gone belongs to an interrupted run: ``interrupted(viewer)`` lists those a person may see,
each with a sentence, until they are dismissed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil

from posebench.io.files import write_atomic
from posebench.store import owners, run_store

FOLDER = ".running"


def _folder(root: Path | None) -> Path:
    return Path(root or run_store.default_root()) / FOLDER


def _process_start(pid: int) -> float:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return 0.0


def begin(run_id: str, root: Path | None = None, *, owner: str | None, clip: str, backends, options) -> Path:
    """Note that ``run_id`` is running in this server process."""
    run_store.check_run_id(run_id)
    folder = _folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    note = {
        "run_id": run_id,
        "owner": owner,
        "clip": str(clip),
        "backends": [str(b) for b in backends],
        "options": {k: v for k, v in dict(options).items() if v is None or isinstance(v, (int, float, str))},
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "pid": os.getpid(),
        "process_started": _process_start(os.getpid()),
    }
    path = folder / f"{run_id}.json"
    write_atomic(path, json.dumps(note).encode("utf-8"))
    return path


def end(run_id: str, root: Path | None = None) -> None:
    """The run has ended (saved, failed, cancelled): forget the note."""
    folder = _folder(root)
    try:
        (folder / f"{run_store.check_run_id(run_id)}.json").unlink(missing_ok=True)
        folder.rmdir()  # only when no other run is noted (an empty results folder stays empty)
    except OSError:
        pass


def _alive(note: dict) -> bool:
    pid = note.get("pid")
    if not isinstance(pid, int):
        return False
    started = _process_start(pid)
    return started != 0.0 and abs(started - float(note.get("process_started") or 0)) < 1.0


def interrupted(viewer: owners.Viewer, root: Path | None = None) -> list[dict]:
    """The notes of runs whose server process is gone, that ``viewer`` may see (their own;
    everyone's in single-user mode), oldest first."""
    folder = _folder(root)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            if path.stat().st_size > 64 * 1024:
                continue
            note = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(note, dict) or _alive(note):
            continue
        if viewer.single or note.get("owner") == viewer.name:
            found.append(note)
    return sorted(found, key=lambda n: str(n.get("started", "")))


def sentence(note: dict) -> str:
    """What a person is told about an interrupted run (user text: show it escaped)."""
    options = note.get("options") or {}
    frames = options.get("max_frames")
    return (
        f"The run {note.get('run_id')} of {note.get('clip') or 'a clip'} with "
        f"{', '.join(note.get('backends') or []) or 'its backends'} (started {note.get('started')}) was "
        "interrupted: the server stopped before it finished (a restart or a crash), so nothing of it "
        "was saved. Run it again on the Run page with the same settings"
        + (f" ({frames} frames, {options.get('warmup')} warm-up)" if frames else "")
        + "."
    )


def dismiss(viewer: owners.Viewer, run_id: str, root: Path | None = None) -> None:
    """Forget an interrupted run's note (its owner only)."""
    path = _folder(root) / f"{run_store.check_run_id(run_id)}.json"
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if viewer.single or (isinstance(note, dict) and note.get("owner") == viewer.name):
        path.unlink(missing_ok=True)
