"""Costly reading of what a person hands in, in a short-lived worker process.

A references CSV imported on the Study page, the COCO annotations and images scored on the
Accuracy page: their bytes are capped before they are parsed (``io.untrusted``,
``references.CSV_LIMITS``, the pixel limit), and then parsed, decoded and scored in a worker
process (``engine.worker.WorkerCall``: "spawn", the page is not run again there), never in the
web server. The worker has an address-space limit (``RLIMIT_AS``: its size once started plus
``POSEBENCH_PARSE_MEMORY_MB``, default 2048) and a wall-clock limit
(``POSEBENCH_PARSE_TIMEOUT_S``, default 300); a file that runs into either, or crashes the
parser, ends that process, not the server, and the person reads one sentence. The worker does
not lower the server's priority (nothing is timed).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

from posebench.core.errors import BenchError, InputError
from posebench.engine import worker

DEFAULT_TIMEOUT_S = 300.0  # env POSEBENCH_PARSE_TIMEOUT_S: wall clock, start of the process included
DEFAULT_MEMORY_MB = 2048  # env POSEBENCH_PARSE_MEMORY_MB: address space the parse may add


def memory_limit() -> int:
    """Bytes of address space the parse may add to its process (``POSEBENCH_PARSE_MEMORY_MB``)."""
    try:
        mb = float(os.environ.get("POSEBENCH_PARSE_MEMORY_MB", ""))
    except ValueError:
        mb = DEFAULT_MEMORY_MB
    return int((mb if mb > 0 else DEFAULT_MEMORY_MB) * 1024**2)


def timeout_s() -> float:
    try:
        value = float(os.environ.get("POSEBENCH_PARSE_TIMEOUT_S", ""))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB"


def bounded(target: Callable, kwargs: dict, memory: int, what: str, *, progress, cancel):
    """In the worker: ``target(**kwargs)`` with at most ``memory`` bytes of address space
    more than the process has now (its modules are imported: unpickling ``target`` did it)."""
    import resource

    import psutil

    del progress, cancel  # a parse is short; it is stopped from outside when it is not
    limit = psutil.Process().memory_info().vms + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    try:
        return target(**kwargs)
    except MemoryError:
        raise InputError(
            f"Reading {what} needs more memory than this server allows for one file "
            f"({_megabytes(memory)}); it was stopped, and nothing of it was kept."
        ) from None


def call(
    target: Callable,
    kwargs: dict,
    what: str,
    *,
    memory_bytes: int | None = None,
    timeout: float | None = None,
    gate: Callable[[], contextlib.AbstractContextManager] | None = None,
):
    """``target(**kwargs)`` (a picklable module-level function) in a worker process, under
    the limits; returns what it returned, or raises ``InputError`` with one sentence naming
    ``what`` (e.g. "refs.csv"). ``gate``: a context manager held meanwhile (the server's queue)."""
    memory = int(memory_bytes or memory_limit())
    limit = float(timeout or timeout_s())
    with gate() if gate is not None else contextlib.nullcontext():
        process = worker.WorkerCall(
            bounded,
            {"target": target, "kwargs": kwargs, "memory": memory, "what": what},
            name="posebench-parse",
            lower_parent=False,
        )
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            process._stop()

        timer = threading.Timer(limit, stop)
        timer.daemon = True
        process.start()
        timer.start()
        try:
            return process.follow(lambda *_: None)
        except InputError:
            raise
        except BenchError as exc:
            if timed_out.is_set():
                raise InputError(
                    f"Reading {what} took longer than {limit:.0f} s, so it was stopped; "
                    "nothing of it was kept."
                ) from None
            if process.exitcode not in (None, 0):
                raise InputError(
                    f"Reading {what} ended the separate process that reads it "
                    f"({worker._ended_by(process.exitcode)}; most often memory running out at the "
                    f"limit of {_megabytes(memory)}); nothing of it was kept, and the server is unaffected."
                ) from None
            said = str(exc)  # the worker's own sentence (a refusal of the file, a limit)
            if said.startswith("it stopped unexpectedly"):
                said = f"{what} could not be read ({said.removeprefix('it stopped unexpectedly: ')})."
            raise InputError(said) from None
        finally:
            timer.cancel()


__all__ = ["call", "memory_limit", "timeout_s"]
