"""Speed evidence for the verdict: a dedicated measurement, the machine it speaks for, and
whether it can be trusted.

Speed depends on the machine; accuracy mostly does not. The verdict's speed criterion
therefore reads a **dedicated** speed measurement: a saved run (``posebench run CLIP
--rounds N`` or a run imported from another machine) whose summary holds each backend's
frames per second over its rounds, and whose ``run.json`` records the machine
(``environment``: host, CPU, cores, GPU) and its state (``machine``: 1-minute load at the
start and end, other work's share of the processor while it was timed, other runs that
overlapped it).

- A measurement taken while the machine was busy is *not measured reliably*
  (``unreliable_reasons``, the one rule for runs, the Scorecard, studies and real time): other
  work took ``decision_rules.BUSY_FOREIGN_CPU_PCT`` % of one core or more while it was timed, the
  1-minute load per usable core **at its start** was at or over ``decision_rules.BUSY_LOAD_PER_CORE``,
  or another benchmark run overlapped it. It never decides, and the sentence says to
  re-measure on a quiet machine. The load at the end counts the measurement's own threads, so
  it is shown but never decides.
- Timings a study takes incidentally (one pass per clip, short clips, any load) are shown
  but never decide.
- Each machine a measurement comes from is a **deployment target**
  (``SpeedSource.target``); the verdict gives one answer per target.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from posebench.core import environment
from posebench.decision import decision_rules
from posebench.decision.numbers import NAN, is_number, number

KINDS = ("run", "none")  # a dedicated measurement, or nothing that may decide
# Said wherever the load at the end is shown: why it never decides.
OWN_THREADS = "includes the measurement's own threads, so it does not decide"


@dataclass
class SpeedSource:
    """One speed measurement (or its absence) and the machine it was taken on."""

    kind: str = "none"  # run | none
    source: str = ""  # "run <id>"
    host: str = ""
    cpu: str = ""
    cores: int = 0
    gpu: str = ""
    busy: list[str] = field(default_factory=list)  # why it is not reliable ([] = a quiet machine)
    rounds: int = 0
    fps: dict[str, dict] = field(default_factory=dict)  # label -> fps, fps_min, fps_max, rounds
    started: str = ""

    @property
    def machine(self) -> str:
        """The machine in words: ``host (CPU, N cores, GPU)``."""
        return machine_words(self.host, self.cpu, self.cores, self.gpu)

    @property
    def target(self) -> str:
        """What tells one deployment target from another: the host, else the hardware."""
        return self.host or f"{self.cpu}|{self.cores}|{self.gpu}"

    @property
    def reliable(self) -> bool:
        return self.kind == "run" and not self.busy

    def to_dict(self) -> dict:
        out = asdict(self)
        out["machine"] = self.machine
        out["reliable"] = self.reliable
        out["fps"] = {
            k: {n: (None if isinstance(v, float) and math.isnan(v) else v) for n, v in d.items()}
            for k, d in self.fps.items()
        }
        return out


def machine_words(host: str, cpu: str, cores, gpu: str) -> str:
    parts = [p for p in (cpu, f"{int(cores)} cores" if is_number(cores) and cores else "", gpu) if p]
    inner = ", ".join(parts)
    if host:
        return f"{host} ({inner})" if inner else host
    return inner or "an unnamed machine"


def this_machine() -> SpeedSource:
    """No measurement, on the machine this process runs on."""
    env = environment.describe()
    return SpeedSource(
        host=str(env.get("host") or ""),
        cpu=str(env.get("cpu") or ""),
        cores=int(env.get("cores") or 0),
        gpu=str(env.get("gpu") or ""),
    )


def busy_reasons(run) -> list[str]:
    """Sentences on what makes the run's timings doubtful (``unreliable_reasons``).

    Reads the machine state the run recorded (``run.extra["machine"]``: 1-minute load average
    at the start and end, cores, other work's share of the processor, the other runs that
    overlapped it) and the run's own count of overlapping runs in this process.
    """
    state = {**dict(run.environment or {}), **dict((run.extra or {}).get("machine") or {})}
    return unreliable_reasons(state, int(getattr(run, "overlapped", 0) or 0))


def unreliable_reasons(state: Mapping, overlapped: int = 0) -> list[str]:
    """**The one rule** for every speed figure (a run, a ``perf``, a real-time stream): why the
    measurement is *not measured reliably*, in sentences ([] = it may count).

    It is not reliable when

    (a) other work took ``R.BUSY_FOREIGN_CPU_PCT`` % of one core or more while it was timed
        (``foreign_cpu_pct``: the machine's busy time less the measurement's own process tree,
        ``engine.foreign_cpu``);
    (b) the 1-minute load average **at the start** (``load_1min_start``, read before any of the
        measurement's own work) was at least ``R.BUSY_LOAD_PER_CORE`` × the usable cores; or
    (c) other benchmark runs overlapped it (``overlapping_runs``, ``overlapped_runs`` or
        ``overlapped``).

    The load at the **end** never decides: a 1-minute average counts the measurement's own
    threads, so a two-thread model run of a minute lifts it to about 2 on its own, quiet
    machine or not. It is still recorded and shown. ``state`` is run.json's ``machine`` (with
    its ``environment``) or a row of ``realtime.csv``.
    """
    notes = []
    others = state.get("overlapping_runs")
    counted = number(state.get("overlapped_runs"))
    overlapped = max(
        int(overlapped or 0),
        len(others) if isinstance(others, list) else 0,
        int(counted) if is_number(counted) else 0,
    )
    if overlapped:
        notes.append(
            f"{overlapped} other benchmark run{'s' if overlapped > 1 else ''} overlapped this one: "
            "its speed figures are not comparable."
        )
    note = start_load_note(state)
    if note:
        notes.append(note)
    note = foreign_cpu_note(state)
    if note:
        notes.append(note)
    return notes


def usable_cores(state: Mapping) -> float:
    """The cores the measurement could use (``usable_cores``, else ``cores``); NaN if unknown."""
    cores = number(state.get("usable_cores"))
    return cores if is_number(cores) and cores > 0 else number(state.get("cores"))


def start_load(state: Mapping) -> float:
    """The 1-minute load average when the measurement started (NaN when not recorded)."""
    return load_averages(dict(state)).get("at the start", NAN)


def start_load_note(state: Mapping) -> str:
    """The busy-machine sentence when the load **at the start** was at or over
    ``R.BUSY_LOAD_PER_CORE`` per usable core, else "" (the end load never decides)."""
    cores, load = usable_cores(state), start_load(state)
    if (
        not (is_number(load) and is_number(cores) and cores > 0)
        or load / cores < decision_rules.BUSY_LOAD_PER_CORE
    ):
        return ""
    return (
        f"The machine was busy: 1-minute load average {load:.1f} on {cores:.0f} cores when the "
        f"measurement started, at or over the bar of {decision_rules.BUSY_LOAD_PER_CORE:g} per core; speed "
        "figures measured on a busy machine are doubtful, so re-measure on a quiet machine."
    )


def end_load_words(state: Mapping) -> str:
    """The end load, shown with what it includes: '2.1 at the end (includes its own threads)'."""
    end = load_averages(dict(state)).get("at the end", NAN)
    return f"{end:.1f} at the end ({OWN_THREADS})" if is_number(end) else ""


def foreign_cpu_note(state: Mapping) -> str:
    """The busy-machine sentence when other work took ``R.BUSY_FOREIGN_CPU_PCT`` or more of
    the processor while the run was timed (``engine.foreign_cpu``), else ""."""
    share = number(state.get("foreign_cpu_pct"))
    if not is_number(share) or share < decision_rules.BUSY_FOREIGN_CPU_PCT:
        return ""
    low, high = number(state.get("foreign_cpu_pct_min")), number(state.get("foreign_cpu_pct_max"))
    spread = f", {low:.0f}-{high:.0f} % from pass to pass" if is_number(low) and is_number(high) else ""
    return (
        f"The machine was busy: other work (the web server, a browser or another program) used "
        f"{share:.0f} % of one core while the speeds were timed{spread}, above the "
        f"{decision_rules.BUSY_FOREIGN_CPU_PCT:.0f} % bar; "
        "speed figures measured beside other work are doubtful, "
        "so re-measure on a quiet machine."
    )


def load_averages(env: dict) -> dict[str, float]:
    """The run's recorded 1-minute load averages ('at the start', 'at the end')."""
    found = {}
    for key, value in env.items():
        if "load" not in str(key).lower():
            continue
        if isinstance(value, Mapping):
            for k, v in value.items():
                if is_number(v):
                    found[f"at the {k}" if k in ("start", "end") else str(k)] = number(v)
        elif isinstance(value, (list, tuple)) and value and is_number(value[0]):
            found[str(key)] = number(value[0])
        elif is_number(value):
            name = "at the start" if "start" in str(key) else "at the end" if "end" in str(key) else str(key)
            found[name] = number(value)
    return found


def from_run(run) -> SpeedSource:
    """The speed measurement a saved or fresh run holds (its summary's speeds, its machine)."""
    env = dict(run.environment or {})
    fps: dict[str, dict] = {}
    summary = run.summary if run.summary is not None else None
    if summary is not None and len(summary) and "backend" in summary.columns:
        for _, row in summary.iterrows():
            if str(row.get("status", "ok")) != "ok":
                continue
            rounds = number(row.get("rounds"))
            fps[str(row["backend"])] = {
                "fps": number(row.get("fps")),
                "fps_min": number(row.get("fps_min")),
                "fps_max": number(row.get("fps_max")),
                "rounds": int(rounds) if is_number(rounds) else 1,
            }
    return SpeedSource(
        kind="run",
        source=f"run {run.run_id}",
        host=str(env.get("host") or ""),
        cpu=str(env.get("cpu") or ""),
        cores=int(number(env.get("cores"))) if is_number(env.get("cores")) else 0,
        gpu=str(env.get("gpu") or ""),
        busy=busy_reasons(run),
        rounds=min((d["rounds"] for d in fps.values()), default=0),
        fps=fps,
        started=str(getattr(run, "started", "") or ""),
    )


def from_folder(folder: str | Path) -> SpeedSource:
    """``from_run`` of a saved run folder (``InputError`` when it is not a readable run)."""
    from posebench.store import run_store

    return from_run(run_store.load(Path(folder)))


def by_target(sources: list[SpeedSource]) -> list[SpeedSource]:
    """One measurement per deployment target, in the order first given: on each machine the
    reliable one with the most rounds (a quiet measurement wins over a busy one)."""
    picked: dict[str, SpeedSource] = {}
    for src in sources:
        have = picked.get(src.target)
        if have is None or (src.reliable, src.rounds) > (have.reliable, have.rounds):
            picked[src.target] = src
    return list(picked.values())


__all__ = [
    "SpeedSource",
    "busy_reasons",
    "by_target",
    "end_load_words",
    "from_folder",
    "from_run",
    "this_machine",
    "unreliable_reasons",
]
