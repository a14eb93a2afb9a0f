"""Each user's background jobs and latest uploads, kept by the server, not by one browser tab.

``st.session_state`` belongs to one tab and is gone after a reload; a job started there
would run on unseen. The registry (one per server, ``st.cache_resource``) keeps each
user's jobs under the session key they were started with (``state.JOB``,
``state.EXPLORE_JOB``, ``state.JUMP_JOB``), so every tab of that user shows the running
job with its progress, and a reloaded tab picks it up again. It also keeps the user's
latest uploads (``KEEP_UPLOADS``, by SHA-256), from whichever page they were uploaded on, so
every page that takes a clip offers them, and a reload or a shared link can reopen one.

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
KEEP_UPLOADS = 4  # uploads kept per user, offered on every page that takes a clip


class Job(Protocol):
    """What the registry reads of a job (``dashboard.background_jobs.BackgroundJob``)."""

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
        # user -> [(token, io.uploads.AcceptedClip), ...], newest first
        self._uploads: dict[str, list[tuple[str, Any]]] = {}

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

    def running_everywhere(self) -> list[Entry]:
        """Every user's running jobs (what the upload sweep must not touch)."""
        with self._lock:
            users = list(self._jobs)
        return [e for user in users for e in self.running(user)]

    def kept_uploads(self) -> dict[Path, str]:
        """Every user's kept uploads (offered on every page): file -> user."""
        with self._lock:
            return {Path(clip.path): user for user, kept in self._uploads.items() for _token, clip in kept}

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

    # -- the user's uploads ---------------------------------------------------------------
    def keep_upload(self, user: str, clip, dropped: list | None = None) -> str:
        """Remember an upload of the user's, newest first; returns the token that names it in a
        URL. The same clip keeps its token; the same bytes (SHA-256) uploaded again replace the
        older entry; past ``KEEP_UPLOADS`` the oldest go, appended to ``dropped`` (the caller
        lets their files go once nothing reads them)."""
        sha = _sha(clip)
        with self._lock:
            kept = self._uploads.get(user, [])
            same = next((entry for entry in kept if entry[1] is clip), None)
            if same is not None:
                self._uploads[user] = [same, *(e for e in kept if e is not same)]
                return same[0]
            gone = [e for e in kept if sha and _sha(e[1]) == sha]
            kept = [e for e in kept if e not in gone]
            token = secrets.token_urlsafe(8)
            kept = [(token, clip), *kept]
            gone += kept[KEEP_UPLOADS:]
            self._uploads[user] = kept[:KEEP_UPLOADS]
        if dropped is not None:
            dropped.extend(e[1] for e in gone)
        return token

    def uploads(self, user: str) -> list:
        """The user's uploads whose files are still here, newest first: offered on every page
        that takes a clip, to this user only."""
        with self._lock:
            kept = list(self._uploads.get(user, []))
        return [clip for _token, clip in kept if Path(clip.path).exists()]

    def forget_upload(self, user: str, clip) -> None:
        """No longer offer ``clip`` (to make room for a new upload); its file is the caller's."""
        with self._lock:
            self._uploads[user] = [e for e in self._uploads.get(user, []) if e[1] is not clip]

    def holds(self, user: str, clip) -> bool:
        """True while ``clip`` is one of the user's kept uploads (its file must stay)."""
        with self._lock:
            return any(c is clip for _t, c in self._uploads.get(user, []))

    def upload(self, user: str, token: str):
        """The user's upload named by ``token`` (a URL's), while its file is here, else None."""
        with self._lock:
            kept = list(self._uploads.get(user, []))
        for known, clip in kept:
            if secrets.compare_digest(known, str(token)):
                return clip if Path(clip.path).exists() else None
        return None

    def latest_upload(self, user: str):
        """The user's latest upload while its file is still here, else None."""
        found = self.uploads(user)
        return found[0] if found else None

    def upload_token(self, user: str, clip) -> str | None:
        with self._lock:
            kept = list(self._uploads.get(user, []))
        return next((token for token, c in kept if c is clip), None)


def _sha(clip) -> str:
    return getattr(getattr(clip, "info", None), "sha256", "") or ""


@st.cache_resource(show_spinner=False)
def registry() -> Registry:
    """The server's one registry, shared by every browser session."""
    return Registry()
