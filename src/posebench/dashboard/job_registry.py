"""Each user's background jobs and latest upload, kept by the server, not by one browser tab.

``st.session_state`` belongs to one tab and is gone after a reload; a job started there
would run on unseen. The registry (one per server, ``st.cache_resource``) keeps each
user's jobs under the session key they were started with (``state.JOB``,
``state.EXPLORE_JOB``, ``state.JUMP_JOB``), so every tab of that user shows the running
job with its progress, and a reloaded tab picks it up again. It also keeps the user's
latest upload, so a reload or a shared link can reopen it.

Who "the user" is comes from ``state.user_key()``: the signed-in user when the server asks
for sign-in, else one user per server ("local").
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import streamlit as st

KEEP_FINISHED_S = 3600  # a finished job stays listed this long (to reopen its result)
KEEP_PER_USER = 6  # jobs kept per user (running ones always)


class Job(Protocol):
    """What the registry reads of a job (``dashboard.jobs.BackgroundJob``)."""

    ended_at: float | None

    @property
    def finished(self) -> bool: ...


@dataclass
class Entry:
    key: str  # the session key the job lives under (which page runs it)
    job: Job
    registered: float = field(default_factory=time.time)


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, list[Entry]] = {}
        self._uploads: dict[str, tuple[str, Any]] = {}  # user -> (token, io.uploads.AcceptedClip)

    # -- jobs ---------------------------------------------------------------------------
    def add(self, user: str, key: str, job) -> None:
        with self._lock:
            entries = [e for e in self._jobs.get(user, []) if e.job is not job]
            entries.append(Entry(key, job))
            self._jobs[user] = self._pruned(entries)

    def jobs(self, user: str) -> list[Entry]:
        """The user's jobs, oldest first (running ones and those finished within the hour)."""
        with self._lock:
            entries = self._pruned(self._jobs.get(user, []))
            self._jobs[user] = entries
            return list(entries)

    def running(self, user: str, key: str | None = None) -> list[Entry]:
        return [e for e in self.jobs(user) if not e.job.finished and (key is None or e.key == key)]

    @staticmethod
    def _pruned(entries: list[Entry]) -> list[Entry]:
        """Running jobs always; finished ones for an hour, the newest first, up to the limit."""
        now = time.time()
        running = [e for e in entries if not e.job.finished]
        finished = [
            e
            for e in entries
            if e.job.finished and now - (getattr(e.job, "ended_at", None) or now) < KEEP_FINISHED_S
        ]
        room = max(0, KEEP_PER_USER - len(running))
        finished = finished[-room:] if room else []
        return sorted(running + finished, key=lambda e: e.registered)

    # -- the latest upload ------------------------------------------------------------------
    def keep_upload(self, user: str, clip) -> str:
        """Remember the user's upload; returns the token that names it in a URL."""
        with self._lock:
            previous = self._uploads.get(user)
            if previous is not None and previous[1] is clip:
                return previous[0]
            token = secrets.token_urlsafe(8)
            self._uploads[user] = (token, clip)
            return token

    def upload(self, user: str, token: str):
        with self._lock:
            kept = self._uploads.get(user)
        if kept is None or not secrets.compare_digest(kept[0], str(token)):
            return None
        return kept[1] if kept[1].path.exists() else None

    def latest_upload(self, user: str):
        """The user's latest upload while its file is still here (offered on the pages that
        take a clip, to this user only), else None."""
        with self._lock:
            kept = self._uploads.get(user)
        return kept[1] if kept is not None and Path(kept[1].path).exists() else None

    def upload_token(self, user: str, clip) -> str | None:
        with self._lock:
            kept = self._uploads.get(user)
        return kept[0] if kept is not None and kept[1] is clip else None


@st.cache_resource(show_spinner=False)
def registry() -> Registry:
    """The server's one registry, shared by every browser session."""
    return Registry()
