"""How much of the machine's processor time went to other work while a run timed its frames.

A run's speed figure is only fair when the run had the machine to itself. The load average
says little about a short run, and nothing about *who* used the processor: the web server
rerunning a page, the browser drawing it, another program. So every timed pass (one backend,
one round) is bracketed by two readings:

- the machine's busy processor time on the cores this process may use (``/proc/stat``
  through ``psutil.cpu_times``: user, nice, system, irq and softirq time; idle, I/O wait and
  time stolen by the hypervisor left out), and
- this process tree's own processor time (this process and its live children, plus the
  children it has already reaped).

Foreign CPU = machine busy time minus own time, over the pass's wall-clock time, in **percent
of one core** (100 % = one core fully used by something else; on 2 cores at most 200 %).
Time stolen by the hypervisor of a virtual machine is kept apart (``steal_cpu_pct``): it also
slows a run but is no process on this machine.

Readings are cheap (a few file reads) and taken outside the timed frames. The kernel counts
machine time in ticks of 10 ms, so a pass shorter than ``MIN_WINDOW_S`` gives no share (it
would be mostly rounding).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass

import psutil

MIN_WINDOW_S = 0.5  # shorter passes give no share: 10 ms ticks make it mostly rounding


@dataclass(frozen=True)
class Reading:
    wall_s: float  # time.monotonic()
    busy_s: float  # the whole machine's busy processor time (all cores)
    steal_s: float  # time the hypervisor gave to other machines
    own_s: float  # this process tree's processor time


def _own_tree_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    with contextlib.suppress(psutil.Error):
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                c = child.cpu_times()
                total += c.user + c.system
    return total


def _usable_cores() -> list:
    """Per-core times of the cores this process may run on (all when that is unknown): work on a
    core the run cannot use does not compete with it."""
    cores = psutil.cpu_times(percpu=True)
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return cores
    mine = [c for i, c in enumerate(cores) if i in allowed]
    return mine or cores


def read(process: psutil.Process | None = None) -> Reading:
    """The machine's and this process tree's processor time now."""
    cores = _usable_cores()
    busy = sum(getattr(c, name, 0.0) for c in cores for name in ("user", "nice", "system", "irq", "softirq"))
    return Reading(
        wall_s=time.monotonic(),
        busy_s=busy,
        steal_s=sum(getattr(c, "steal", 0.0) for c in cores),
        own_s=_own_tree_s(process or psutil.Process()),
    )


def between(start: Reading, end: Reading) -> dict[str, float]:
    """``{"wall_s", "foreign_cpu_s", "foreign_cpu_pct", "steal_cpu_pct"}`` from ``start`` to
    ``end`` (percent of one core; NaN for a window shorter than ``MIN_WINDOW_S``)."""
    wall = end.wall_s - start.wall_s
    foreign = max(0.0, (end.busy_s - start.busy_s) - (end.own_s - start.own_s))
    steal = max(0.0, end.steal_s - start.steal_s)
    long_enough = wall >= MIN_WINDOW_S
    return {
        "wall_s": round(wall, 3),
        "foreign_cpu_s": round(foreign, 3),
        "foreign_cpu_pct": round(100.0 * foreign / wall, 1) if long_enough else math.nan,
        "steal_cpu_pct": round(100.0 * steal / wall, 1) if long_enough else math.nan,
    }


def pooled(windows: list[dict]) -> dict[str, float]:
    """Several windows (a backend's rounds, or a whole run) as one: the time-weighted mean
    share (``foreign_cpu_pct``) and the lowest and highest window's (``_min``, ``_max``)."""
    timed = [w for w in windows if w.get("wall_s", 0.0) >= MIN_WINDOW_S]
    wall = sum(w["wall_s"] for w in timed)
    shares = [w["foreign_cpu_pct"] for w in timed if not math.isnan(w["foreign_cpu_pct"])]
    if not wall or not shares:
        return {"foreign_cpu_pct": math.nan, "foreign_cpu_pct_min": math.nan, "foreign_cpu_pct_max": math.nan}
    return {
        "foreign_cpu_pct": round(100.0 * sum(w["foreign_cpu_s"] for w in timed) / wall, 1),
        "foreign_cpu_pct_min": min(shares),
        "foreign_cpu_pct_max": max(shares),
    }


def run_state(windows: list[dict]) -> dict:
    """The run's figures for run.json's ``machine``: the pooled share over every pass, the
    hypervisor's share, and every pass's own figures (``foreign_cpu_passes``)."""
    timed = [w for w in windows if w.get("wall_s", 0.0) >= MIN_WINDOW_S]
    wall = sum(w["wall_s"] for w in timed)
    steal = [w["steal_cpu_pct"] * w["wall_s"] for w in timed if not math.isnan(w["steal_cpu_pct"])]
    state = {
        **pooled(windows),
        "steal_cpu_pct": round(sum(steal) / wall, 1) if wall and steal else None,
        "foreign_cpu_passes": [{k: _json(v) for k, v in w.items()} for w in windows],
    }
    return {k: _json(v) for k, v in state.items()}


def _json(value):
    """NaN as null: run.json stays standard JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


__all__ = ["MIN_WINDOW_S", "Reading", "read", "between", "pooled", "run_state"]
