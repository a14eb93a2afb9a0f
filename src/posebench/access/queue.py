"""One server-wide queue for the heavy work: upload content checks and benchmark runs.

At most ``slots`` pieces of work run at once (``POSEBENCH_QUEUE_SLOTS``, default: half the
cores, at least 2); the rest wait in the order they came, and each waiting caller is told
its place (``on_wait(place, running)``, place 1 = next). When ``max_waiting`` callers wait
already (``POSEBENCH_QUEUE_WAITING``, default 8), a new one is refused at once with
``ServerBusy``: "the server is busy", never a sentence that blames the file.

Streamlit sessions are threads of one process, so a ``threading.Condition`` is the whole
mechanism; ``server_queue()`` is the one queue of this process.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from posebench.core.env import positive_env
from posebench.core.errors import BenchError, ServerBusy

DEFAULT_WAITING = 8
POLL_S = 0.5  # how often a waiting caller is told its place (and cancel is checked)


__all__ = ["Cancelled", "ServerBusy", "WorkQueue", "place_text", "server_queue"]


class Cancelled(BenchError):
    """The caller gave up while waiting."""


class WorkQueue:
    def __init__(self, slots: int, max_waiting: int = DEFAULT_WAITING):
        self.slots = max(1, int(slots))
        self.max_waiting = max(0, int(max_waiting))
        self._cond = threading.Condition()
        self._running: dict[int, str] = {}
        self._waiting: deque[int] = deque()
        self._tickets = itertools.count(1)

    def status(self) -> tuple[int, int]:
        """(running, waiting) now."""
        with self._cond:
            return len(self._running), len(self._waiting)

    @contextmanager
    def slot(
        self,
        what: str,
        on_wait: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[float]:
        """Hold one slot while the block runs; yields the seconds spent waiting for it.

        Raises ``ServerBusy`` when the queue is full, ``Cancelled`` when ``cancel`` is set
        while waiting.
        """
        started = time.monotonic()
        with self._cond:
            ticket = next(self._tickets)
            if len(self._running) >= self.slots or self._waiting:
                if len(self._waiting) >= self.max_waiting:
                    raise ServerBusy(
                        f"The server is busy: {len(self._running)} check(s) or run(s) are working "
                        f"and {len(self._waiting)} are waiting, the most it takes. Nothing is wrong "
                        "with your file; try again in a few minutes."
                    )
                self._waiting.append(ticket)
                try:
                    while self._waiting[0] != ticket or len(self._running) >= self.slots:
                        if cancel is not None and cancel.is_set():
                            raise Cancelled(f"{what} was cancelled while it waited for the server")
                        if on_wait is not None:
                            place = self._waiting.index(ticket) + 1
                            running = len(self._running)
                            self._cond.release()
                            try:
                                on_wait(place, running)
                            finally:
                                self._cond.acquire()
                        self._cond.wait(POLL_S)
                finally:
                    self._waiting.remove(ticket)
                    self._cond.notify_all()
            self._running[ticket] = what
        try:
            yield time.monotonic() - started
        finally:
            with self._cond:
                self._running.pop(ticket, None)
                self._cond.notify_all()


_QUEUE: WorkQueue | None = None
_QUEUE_LOCK = threading.Lock()


def server_queue() -> WorkQueue:
    """This process's queue, sized from the environment on first use."""
    global _QUEUE
    with _QUEUE_LOCK:
        if _QUEUE is None:
            _QUEUE = WorkQueue(
                positive_env("POSEBENCH_QUEUE_SLOTS", max(2, (os.cpu_count() or 2) // 2), int),
                positive_env("POSEBENCH_QUEUE_WAITING", DEFAULT_WAITING, int),
            )
        return _QUEUE


def reset() -> None:
    """Forget the queue (tests change its size through the environment)."""
    global _QUEUE
    with _QUEUE_LOCK:
        _QUEUE = None


def place_text(place: int, running: int, what: str = "check") -> str:
    """The sentence a waiting user sees."""
    ahead = place - 1
    return (
        f"Waiting for the server: your {what} is number {place} in line "
        f"({running} working now, {ahead} waiting before yours); it starts by itself."
    )
