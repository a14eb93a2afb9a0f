"""The web server steps back while its worker times a run.

A dashboard run is timed in a worker process whose parent is the Streamlit server. The
server keeps working meanwhile (the page's progress, other users), and on a small machine
that takes processor time from the run. While it times, the worker lowers its parent's
priority (a higher "nice" value, every thread of it: on Linux the nice value belongs to each
thread) so the scheduler serves the run first, and puts it back afterwards where the system
allows: an ordinary user may lower a process's priority but not raise it again (only root, or
a raised ``RLIMIT_NICE``, may), so without that right the server stays at the lower priority.
Its work is all for the page, so that costs a reader nothing.

The worker does **not** raise its own priority: the command line runs at the normal priority,
and a dashboard run must be timed as the command line times it. What was done is recorded in
run.json (``machine.priority``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading

import psutil

SERVER_NICE = 10  # the server's nice value while its worker times (0 = normal, 19 = lowest)


def _threads(pid: int) -> list[int]:
    try:
        return [t.id for t in psutil.Process(pid).threads()]
    except psutil.Error:
        return []


def _nice(tid: int) -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return None


def _starter() -> int | None:
    """The process that started this one, while it is still this one's parent; None when it
    has gone (an orphan's parent is the system's first process, or a reaper, never to be
    lowered: that would slow everything on the machine, and nobody would put it back)."""
    parent = multiprocessing.parent_process()
    pid = parent.pid if parent is not None and parent.pid is not None else os.getppid()
    return pid if pid > 1 and os.getppid() == pid else None


class ParentLowered:
    """``with ParentLowered() as record:`` the parent process's threads at ``SERVER_NICE``
    (those already at it or lower are left alone), put back at the end where allowed;
    ``record`` is what went into run.json."""

    def __init__(self, pid: int | None = None, nice: int = SERVER_NICE) -> None:
        self.pid: int | None = pid if pid is not None else _starter()
        self.nice = nice
        self._before: dict[int, int] = {}
        self.record: dict = {"server_pid": self.pid, "server_nice_during": None}

    def __enter__(self) -> dict:
        if self.pid is None:  # the process that started this one is gone: nothing to lower
            self.record["server_lowering_refused"] = ["the process that started the run has ended"]
            return self.record
        before = _nice(self.pid)
        self.record["server_nice_before"] = before
        failed = []
        for tid in _threads(self.pid):
            old = _nice(tid)
            if old is None or old >= self.nice:
                continue
            try:
                os.setpriority(os.PRIO_PROCESS, tid, self.nice)
                self._before[tid] = old
            except OSError as exc:
                failed.append(exc.strerror or type(exc).__name__)
        self.record["server_nice_during"] = _nice(self.pid)
        self.record["server_threads_lowered"] = len(self._before)
        if failed:
            self.record["server_lowering_refused"] = sorted(set(failed))
        return self.record

    def __exit__(self, *exc) -> None:
        """Put every thread back, those the server started meanwhile too (they inherited the
        lower priority from the thread that started them)."""
        if self.pid is None:
            return
        refused = put_back(self.pid, self._before, self.nice)
        self.record["server_nice_after"] = _nice(self.pid)
        self.record["server_restored"] = refused == 0
        if refused:
            self.record["server_restore_note"] = (
                "an ordinary user may not raise a priority again: the server stays at the lower priority"
            )


def thread_nices(pid: int | None = None) -> dict[int, int]:
    """Each thread of process ``pid`` (default: this one) with its nice value now."""
    found = {}
    for tid in _threads(os.getpid() if pid is None else pid):
        nice = _nice(tid)
        if nice is not None:
            found[tid] = nice
    return found


def put_back(pid: int, before: dict[int, int], nice: int = SERVER_NICE) -> int:
    """Threads of ``pid`` back to their value in ``before``; a thread not in it that is at
    ``nice`` (started since, it inherited that) takes the process's own (main thread's) value.
    Returns how many the system refused to raise again (an ordinary user may not)."""
    main = before.get(pid)
    refused = 0
    for tid in _threads(pid):
        now = _nice(tid)
        old = before.get(tid, main if now == nice else None)
        if old is None or now is None or now == old:
            continue
        try:
            os.setpriority(os.PRIO_PROCESS, tid, old)
        except PermissionError:
            refused += 1
        except OSError:
            continue  # the thread has ended
    return refused


class ServerSide:
    """The server's own record, for ``worker_started()`` / ``worker_ended()`` (called for the
    workers that lower it). A worker that dies while it times (a backend crashed, it was
    killed) never puts its parent back; so when the last of the server's timing workers has
    ended, the server puts its threads back itself, to what they were before the first
    started, where the system allows (root, or a raised ``RLIMIT_NICE``). Otherwise it would
    stay at the lower priority, and so would every worker it starts afterwards (a child
    inherits its parent's nice value), timing dashboard runs at a lower priority than the
    command line's. While another timing worker still runs the server stays lowered, as it
    should; a run started meanwhile overlaps that one, which the busy rule already marks."""

    lock = threading.Lock()
    running = 0
    before: dict[int, int] = {}


def worker_started() -> None:
    with ServerSide.lock:
        if ServerSide.running == 0:
            ServerSide.before = {tid: n for tid, n in thread_nices().items() if n < SERVER_NICE}
        ServerSide.running += 1


def worker_ended() -> None:
    with ServerSide.lock:
        ServerSide.running = max(0, ServerSide.running - 1)
        if ServerSide.running == 0:
            put_back(os.getpid(), ServerSide.before, SERVER_NICE)


__all__ = ["SERVER_NICE", "ParentLowered", "put_back", "thread_nices", "worker_ended", "worker_started"]
