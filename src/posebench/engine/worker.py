"""A benchmark run in its own worker process, as the dashboard starts it.

The dashboard never times a run inside the web server: Streamlit's reruns and the
server's threads would share the GIL and the cores with ONNX Runtime's threads (the
dashboard measured 22 % slower than the command line that way). ``WorkerRun`` starts a
fresh Python process (``multiprocessing`` "spawn": nothing of the server is inherited)
that runs the very code the command line runs (``studies.pipeline.run_and_save``: the run,
its jump metrics, the save) and reports over a pipe:

- ``("progress", label, done, total, elapsed_s)`` now and then;
- ``("status", text)`` for work after the frames (the jump metrics);
- ``("done", run, saved_to, save_error)`` at the end (the saved run, or why it was not saved);
- ``("error", sentence)`` when the run could not happen.

While it times, the worker lowers the server's priority (``engine.priority``; recorded in
run.json's ``machine.priority``), and the run records how much processor time other work used
meanwhile (``engine.foreign_cpu``). Progress goes to the server at most once a second per
backend: the page looks every 2 s, and every message wakes the server.

Cancelling sets an event the runner checks after every frame (``cancel()``, or a caller's own
``threading.Event`` handed to ``follow``): the worker stops, saves what it measured
(atomically: a run folder appears whole or not at all) and exits; if it has not ended
``CANCEL_GRACE_S`` seconds later it is terminated, then killed. A worker that dies (a backend
that segfaults or calls ``os._exit``) ends the run as failed, with a sentence; the server goes
on. Workers ignore SIGINT: a Ctrl-C in a terminal reaches the whole process group, and the
parent (the command line) decides, cancelling its workers through their event.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.spawn
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from posebench.core.errors import BenchError
from posebench.engine import priority

CANCEL_GRACE_S = 15.0  # a cancelled worker has this long to save and exit
PROGRESS_EVERY_S = 1.0  # the worker sends progress at most this often per backend (the page looks every 2 s)
_CTX = multiprocessing.get_context("spawn")
PROCESS_PREFIX = "posebench-"  # every worker process's name starts so


def _preparation_without_main(name: str, _prepare=multiprocessing.spawn.get_preparation_data):
    """What a spawned process is told before it starts, less the parent's ``__main__`` for a
    worker: "spawn" would re-run the parent's main script in the child, and in the Streamlit
    server (and its test harness) that is the page being shown. Re-running a page there costs
    time and fails when the page needs the session (a page that shows a run but has none).
    The worker imports what it needs itself."""
    data = _prepare(name)
    if str(name).startswith(PROCESS_PREFIX):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


if not hasattr(multiprocessing.spawn.get_preparation_data, "posebench"):
    _preparation_without_main.posebench = True  # type: ignore[attr-defined]
    multiprocessing.spawn.get_preparation_data = _preparation_without_main


ORPHANED_EXIT = 75  # a worker's exit status when it ended because its parent had gone


def _ignore_interrupt() -> None:
    """A Ctrl-C is the parent's to handle (it cancels the worker through its event). The
    worker also ends with its parent (``_end_with_parent``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_parent()


def _end_with_parent() -> None:
    """End this worker as soon as the process that started it is gone, however it went (a
    crash, SIGKILL, a SIGTERM it did not handle): an orphaned worker would go on timing for
    nobody, take the processor from the next measurement and hold its parent's output open
    (a caller waiting for that output to end would wait for the orphan). A thread waits on
    the parent's sentinel (``multiprocessing.parent_process()``: readable once the parent's
    end of it is closed, which its exit does) and exits the process at once."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(ORPHANED_EXIT)

    threading.Thread(target=watch, name="posebench-parent-watch", daemon=True).start()


@contextlib.contextmanager
def _reporting(conn, what: str) -> Iterator[None]:
    """A worker's body: a failure goes to the parent as ``("error", sentence)``, never a
    traceback in the page (``what`` names the work in the sentence); the pipe closes at the end."""
    try:
        yield
    except BenchError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # never a traceback in the page
        conn.send(("error", f"{what} stopped unexpectedly: {type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _child(conn, cancel, request: dict) -> None:
    """The worker process: run, save, send the result (``request["pipeline"]``, the
    command line's own ``studies.pipeline.run_and_save``, does the work)."""
    _ignore_interrupt()
    from posebench.io import video

    with _reporting(conn, "the run"):
        if request.get("clip_info") is not None:  # what the server knows of the clip (an
            video.remember(request["clip_info"])  # upload's readable name), as in the server
        sent: dict[str, float] = {}
        held: dict[str, tuple] = {}  # the latest progress not sent yet, per backend

        def progress(label: str, done: int, total: int, elapsed_s: float) -> None:
            now = time.monotonic()
            if done >= total or now - sent.get(label, 0.0) >= PROGRESS_EVERY_S:
                sent[label] = now
                held.pop(label, None)
                conn.send(("progress", label, done, total, elapsed_s))
            else:
                held[label] = ("progress", label, done, total, elapsed_s)

        def send_held() -> None:  # where each backend stopped (a cancel, a failure)
            for message in held.values():
                conn.send(message)
            held.clear()

        def status(text: str) -> None:
            send_held()
            conn.send(("status", text))

        done = request["pipeline"](
            request["clip_path"],
            request["configs"],
            request["options"],
            run_id=request["run_id"],
            source="dashboard",
            progress=progress,
            cancel=cancel,
            results_root=request.get("results_root"),
            owner=request.get("owner"),
            extra=request.get("extra"),
            on_status=status,
            lowered=priority.ParentLowered,  # the server steps back while this times
        )
        send_held()
        conn.send(("done", done.run, done.saved_to, done.save_error))


def _ended_by(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not end"
    if exitcode < 0:
        try:
            return f"it was ended by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"it was ended by signal {-exitcode}"
    return f"it exited with code {exitcode}"


def _likely_cause(exitcode: int | None) -> str:
    """What most likely ended a worker, from how it ended."""
    if exitcode == -signal.SIGKILL:  # nothing in the process sends this to itself
        return (
            "it was killed from outside, most often by the system when memory ran out, or by "
            "someone stopping it"
        )
    if exitcode == ORPHANED_EXIT:
        return "it ended because the process that started it had gone"
    if exitcode == -signal.SIGTERM:
        return "it was asked to stop from outside (the server or the system shutting down)"
    return "a backend most likely crashed"


class WorkerRun:
    """The server's side of one worker process: ``start()``, then ``follow(on_progress)``
    until it returns the run (or raises ``BenchError`` with one sentence); ``cancel()`` from
    any thread."""

    lowers_parent = True  # the worker lowers the server's priority while it times

    def __init__(
        self,
        clip_path: str,
        configs: list,
        options,
        run_id: str,
        *,
        pipeline: Callable,
        results_root: Path | None = None,
        clip_info=None,
        owner: str | None = None,
        extra: dict | None = None,
    ) -> None:
        self.request = {
            "pipeline": pipeline,  # studies.pipeline.run_and_save (a layer above: handed in)
            "extra": dict(extra or {}),  # saved with the run (its name and note)
            "clip_info": clip_info,
            "owner": owner,  # the user the saved run belongs to (access.owners)
            "clip_path": str(clip_path),
            "configs": list(configs),
            "options": options,
            "run_id": run_id,
            "results_root": results_root,
        }
        self.cancel_event = _CTX.Event()
        self.saved_to: Path | None = None
        self.save_error: str | None = None
        self.exitcode: int | None = None
        self._cancel_at: float | None = None
        self._last = ("", 0, 0)  # last progress: label, done, total
        self._recv, send = _CTX.Pipe(duplex=False)
        self._process = _CTX.Process(
            target=_child,
            args=(send, self.cancel_event, self.request),
            name=f"{PROCESS_PREFIX}{run_id}",
            daemon=True,
        )
        self._send = send

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> WorkerRun:
        if self.lowers_parent:  # ``follow`` puts the server back if the worker cannot
            priority.worker_started()
        try:
            self._process.start()
        except BaseException:
            if self.lowers_parent:
                priority.worker_ended()
            raise
        self._send.close()  # the child holds the only sending end: EOF when it dies
        return self

    def cancel(self) -> None:
        self.cancel_event.set()
        if self._cancel_at is None:
            self._cancel_at = time.monotonic()

    def alive(self) -> bool:
        return self._process.is_alive()

    def _stop(self) -> None:
        """End the process: terminate, then kill."""
        self._process.terminate()
        self._process.join(3)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(3)

    def follow(
        self,
        on_progress: Callable[[str, int, int, float], None],
        on_status: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ):
        """Relay progress until the worker ends; return its ``BenchmarkRun``. Setting
        ``cancel`` (from any thread) cancels the worker as ``cancel()`` does."""
        outcome = None
        try:
            while outcome is None:
                if cancel is not None and cancel.is_set() and self._cancel_at is None:
                    self.cancel()
                if self._cancel_at is not None and time.monotonic() - self._cancel_at > CANCEL_GRACE_S:
                    self._stop()
                    raise BenchError(
                        f"the run was cancelled and its worker did not stop within "
                        f"{CANCEL_GRACE_S:.0f} s, so it was ended; nothing of it was saved"
                    )
                if not self._recv.poll(0.2):
                    if not self._process.is_alive() and not self._recv.poll(0):
                        break
                    continue
                try:
                    message = self._recv.recv()
                except (EOFError, OSError):
                    break  # the worker died
                if message[0] == "progress":
                    self._last = message[1:]
                    on_progress(*message[1:])
                elif message[0] == "status":
                    if on_status is not None:
                        on_status(message[1])
                else:
                    outcome = message
        except BaseException:  # SIGTERM, a second Ctrl-C, a callback that raised: end it now
            self._stop()
            raise
        finally:
            self._process.join(5)
            if self._process.is_alive():
                self._stop()
            self.exitcode = self._process.exitcode
            self._recv.close()
            if self.lowers_parent:
                priority.worker_ended()
        if outcome is None:
            raise BenchError(
                f"the benchmark worker process stopped unexpectedly{self._where()} "
                f"({_ended_by(self.exitcode)}); {_likely_cause(self.exitcode)}. Nothing of this "
                f"run was saved; the dashboard itself is unaffected"
            )
        if outcome[0] == "error":
            raise BenchError(outcome[1])
        return self._finish(outcome)

    def _where(self) -> str:
        label, done, total = (*self._last, 0, 0, 0)[:3]
        return f" while {label} was running (last reported: frame {done} of {total})" if label else ""

    def _finish(self, outcome):
        _, run, self.saved_to, self.save_error = outcome
        return run


def _call_child(conn, cancel, func: Callable, kwargs: dict, lower_parent: bool = True) -> None:
    """A worker process for another timing job: ``func(**kwargs, progress=..., cancel=...)``
    (``lower_parent``: the server steps back while it runs; not for work that is not timed)."""
    _ignore_interrupt()
    with _reporting(conn, "it"):

        def progress(fraction: float, text: str) -> None:
            conn.send(("progress", float(fraction), str(text)))

        # the server steps back while this times
        with priority.ParentLowered() if lower_parent else contextlib.nullcontext():
            outcome = func(**kwargs, progress=progress, cancel=cancel)
        conn.send(("done", outcome))


class WorkerCall(WorkerRun):
    """Another timing job (the Explorer's sweep) in its own worker process:
    ``func(**kwargs, progress=report(fraction, text), cancel=event)``, a picklable
    module-level function; ``follow(on_progress)`` returns what it returned. ``daemon=False``
    for a job that starts worker processes of its own (a daemonic process may have none)."""

    def __init__(
        self,
        func: Callable,
        kwargs: dict,
        name: str = "posebench-call",
        daemon: bool = True,
        lower_parent: bool = True,
    ) -> None:
        self.request = {"func": func, "kwargs": kwargs}
        self.lowers_parent = lower_parent
        self.cancel_event = _CTX.Event()
        self.saved_to = None
        self.save_error = None
        self.exitcode = None
        self._cancel_at = None
        self._last = ("", 0, 0)
        self._recv, send = _CTX.Pipe(duplex=False)
        self._process = _CTX.Process(
            target=_call_child,
            args=(send, self.cancel_event, func, kwargs, lower_parent),
            name=name if name.startswith(PROCESS_PREFIX) else PROCESS_PREFIX + name,
            daemon=daemon,
        )
        self._send = send

    def _where(self) -> str:
        return f" while it was at: {self._last[1]}" if len(self._last) > 1 else ""

    def _finish(self, outcome):
        return outcome[1]


__all__ = ["WorkerRun", "WorkerCall", "CANCEL_GRACE_S"]
