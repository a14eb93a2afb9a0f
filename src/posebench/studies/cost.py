"""What a study will cost on N workers, from the job times a study records.

The model (docs/scale.md): a study is a list of independent jobs (clip x backend) and
each of N workers takes the next job as soon as it is free (what Ray and the local
executor both do). Its wall time is then

    start-up + the greedy schedule of (job time + per-job overhead) on N workers

where the job times are the ``job_seconds`` a study records per row, repeated in turn to
reach a larger study (500 clips x the same backends), each worker first pays a warm-up
once (imports and model loads: what its first job took beyond the others), and the
overhead is what an executor adds per job (Ray: shipping the job, the result back).
The schedule is simulated, not approximated by sum / N, so one long job at the end
shows up as the tail it is.
"""

from __future__ import annotations

import heapq
import itertools
import math
import statistics
from collections.abc import Sequence


def schedule_s(job_seconds: Sequence[float], workers: int, warmup_s: float = 0.0) -> float:
    """Wall time of the jobs, in order, on ``workers`` workers that each take the next free job.

    ``warmup_s``: what each worker pays once before its first job (imports, model loads).
    """
    if workers < 1:
        raise ValueError("at least one worker")
    free_at = [float(warmup_s)] * min(workers, max(1, len(job_seconds)))
    heapq.heapify(free_at)
    for seconds in job_seconds:
        heapq.heappush(free_at, heapq.heappop(free_at) + float(seconds))
    return max(free_at)


def expected_wall_s(
    job_seconds: Sequence[float],
    workers: int,
    *,
    jobs: int | None = None,
    overhead_s: float = 0.0,
    startup_s: float = 0.0,
    warmup_s: float = 0.0,
) -> float:
    """Expected wall time of a study of ``jobs`` jobs (default: the measured ones) on ``workers``.

    ``job_seconds`` are measured job times of warm workers; a larger study repeats them in
    turn. ``warmup_s`` is paid once per worker (see ``split_warmup``).
    """
    measured = [float(s) for s in job_seconds if s is not None and math.isfinite(float(s))]
    if not measured:
        raise ValueError("no measured job times")
    count = len(measured) if jobs is None else jobs
    times = [s + overhead_s for s in itertools.islice(itertools.cycle(measured), count)]
    return startup_s + schedule_s(times, workers, warmup_s)


def split_warmup(job_seconds: Sequence[float]) -> tuple[float, list[float]]:
    """(warm-up, warm job times) from the job times of one worker, first job first.

    The first job of a fresh worker also pays its imports and model loads; that extra is
    its time less the median of the others, and the warm job times take the median in its
    place. Without at least two jobs there is nothing to split.
    """
    times = [float(s) for s in job_seconds]
    if len(times) < 2:
        return 0.0, times
    median = statistics.median(times[1:])
    return max(0.0, times[0] - median), [min(times[0], median), *times[1:]]


def per_job_overhead_s(measured_wall_s: float, job_seconds: Sequence[float], workers: int) -> float:
    """The per-job overhead that makes the model match a measured wall time (>= 0)."""
    base = schedule_s(job_seconds, workers)
    rounds = math.ceil(len(job_seconds) / workers)
    return max(0.0, (measured_wall_s - base) / max(1, rounds))
