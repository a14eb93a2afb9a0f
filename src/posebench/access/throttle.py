"""Sign-in throttling kept by the server: per account name and per client, growing delays.

Every browser session of a Streamlit server is a thread of one process, so one table here
is seen by all of them: a reload or a new tab does not reset it (the session state would).
Each key (``("account", name)``, ``("client", address)``) counts its wrong passwords; the
first ``FREE`` cost nothing, then every further one makes the next try wait ``BASE_S``,
twice that, four times that ... up to ``MAX_S``. While a key waits, a try is refused before
the password is checked, the right one included. Unknown names are counted like real ones,
so the answer never says whether an account exists. A success clears the account's count
and the client's; failures older than ``FORGET_S`` are forgotten. The table holds at most
``MAX_KEYS`` keys (the oldest go first), so a spray of made-up names cannot grow it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FREE = 5  # wrong passwords per key before the delays start
BASE_S = 10.0  # the first delay; each further failure doubles it
MAX_S = 900.0  # the longest delay (15 minutes)
FORGET_S = 3600.0  # a key quiet this long starts again from zero
MAX_KEYS = 10_000

Key = tuple[str, str]


def keys(name: str, client: str | None) -> list[Key]:
    """The keys one try counts against: the account name given, and the client."""
    out = [("account", str(name or "").strip().lower()[:80])]
    if client:
        out.append(("client", str(client)[:100]))
    return out


def delay_after(failures: int) -> float:
    """Seconds the next try must wait after ``failures`` wrong passwords."""
    if failures < FREE:
        return 0.0
    return min(BASE_S * 2 ** (failures - FREE), MAX_S)


@dataclass
class _Entry:
    failures: int
    last: float


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Key, _Entry] = {}

    def _live(self, key: Key, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and now - entry.last > FORGET_S:
            del self._entries[key]
            return None
        return entry

    def wait_s(self, tried: Iterable[Key]) -> float:
        """Seconds before a try counted against ``tried`` is heard (0: now)."""
        now = self._clock()
        with self._lock:
            waits = []
            for key in tried:
                entry = self._live(key, now)
                if entry is not None:
                    waits.append(entry.last + delay_after(entry.failures) - now)
            return max([0.0, *waits])

    def failed(self, tried: Iterable[Key]) -> float:
        """Count a wrong password; returns the seconds the next try must wait."""
        now = self._clock()
        with self._lock:
            waits = []
            for key in tried:
                entry = self._live(key, now) or _Entry(0, now)
                entry.failures += 1
                entry.last = now
                self._entries[key] = entry
                waits.append(delay_after(entry.failures))
            self._prune(now)
            return max([0.0, *waits])

    def succeeded(self, tried: Iterable[Key]) -> None:
        with self._lock:
            for key in tried:
                self._entries.pop(key, None)

    def failures(self, key: Key) -> int:
        with self._lock:
            entry = self._live(key, self._clock())
            return entry.failures if entry else 0

    def _prune(self, now: float) -> None:
        if len(self._entries) <= MAX_KEYS:
            return
        for key in [k for k, e in self._entries.items() if now - e.last > FORGET_S]:
            del self._entries[key]
        while len(self._entries) > MAX_KEYS:
            oldest = min(self._entries, key=lambda k: self._entries[k].last)
            del self._entries[oldest]


SIGN_IN = Throttle()  # the server's one table
