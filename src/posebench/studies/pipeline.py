"""One benchmark run from start to saved folder: time it, add the jump metrics, save it.

The command line (``posebench run``) and the dashboard's worker process
(``engine.worker``) both call ``run_and_save``, so a run made either way holds the same
tables, the same jump metrics and the same run.json.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from posebench.analysis import jump_metrics
from posebench.core.errors import BenchError
from posebench.engine.runner import ProgressFn, run_benchmark
from posebench.store import run_store
from posebench.store.run_record import BenchmarkRun, RunOptions

JUMP_STATUS = "jump metrics from the recorded landmarks"


@dataclass
class SavedRun:
    run: BenchmarkRun
    saved_to: Path | None  # the run's folder; None when it was not saved
    save_error: str | None  # why it could not be saved, in one sentence
    jump: pd.DataFrame | None  # the jump metrics (also in run.extra["jump"]); None when not computed


def attach_jump_metrics(run: BenchmarkRun, cancel: threading.Event | None = None) -> pd.DataFrame | None:
    """Jump metrics from the recorded landmarks (seconds, no second pose pass); a failure is
    kept as ``run.extra["jump_error"]``, a cancel leaves them out."""
    try:
        return jump_metrics.attach(run, cancel=cancel)
    except jump_metrics.Cancelled:
        return None
    except BenchError as exc:
        run.extra["jump_error"] = str(exc)
        return None


def run_and_save(
    clip_path: str,
    configs: Sequence[Any],
    options: RunOptions,
    *,
    run_id: str | None = None,
    source: str = "",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    results_root: Path | None = None,
    owner: str | None = None,
    extra: dict | None = None,
    on_status: Callable[[str], None] | None = None,
    lowered: Callable[[], contextlib.AbstractContextManager] | None = None,
    save_empty: bool = False,
) -> SavedRun:
    """Run ``configs`` on the clip (``engine.runner.run_benchmark``), attach the jump metrics
    and save the run under ``results_root`` (default: the results folder) for ``owner``.

    ``extra`` (a name, a note) is saved with the run. ``on_status(text)`` hears of the work
    after the frames. ``lowered()``: a context held while the run times (the dashboard's worker
    lowers the server's priority, ``engine.priority.ParentLowered``); what it yields is kept
    as run.json's ``machine.priority``. A run with no frames is saved only if ``save_empty``
    (the command line keeps a record of a run where every backend failed).
    """
    with (lowered or contextlib.nullcontext)() as held:
        run = run_benchmark(
            clip_path, configs, options, progress=progress, cancel=cancel, run_id=run_id, source=source
        )
    if held is not None:
        run.extra.setdefault("machine", {})["priority"] = held
    run.extra.update(extra or {})
    table = None
    if len(run.frames) and not (cancel is not None and cancel.is_set()):
        if on_status is not None:
            on_status(JUMP_STATUS)
        table = attach_jump_metrics(run, cancel)
    saved_to, save_error = None, None
    if len(run.frames) or save_empty:
        try:
            saved_to = run_store.save(run, results_root, owner=owner)
        except BenchError as exc:  # a full disk and its kin: one sentence from run_store.save
            save_error = str(exc)
        except OSError as exc:
            save_error = f"the run could not be saved: {exc}"
    return SavedRun(run, saved_to, save_error, table)


__all__ = ["SavedRun", "run_and_save", "attach_jump_metrics"]
