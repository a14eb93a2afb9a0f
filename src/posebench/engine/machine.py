"""The machine's state during a run: load, and every other run on the machine at the time.

Every run, from any process (the CLI, a dashboard worker, the speed check, a test), enters
itself in a machine-wide registry: one JSON file per run in ``<temp dir>/posebench-runs``
(``POSEBENCH_RUN_REGISTRY`` overrides it), holding the run's id, process id, start and, once
it ends, its end. While the run is going its file is locked (``flock``) and touched now and
then, so a run whose process died is told apart from a running one (its lock is gone; its
end is the file's last touch). When a run ends, every other entry whose time span meets its
own is an overlapping run: its timings shared the CPU and are not comparable with runs made
alone. Entries ended more than an hour ago are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
import time
from pathlib import Path

KEEP_S = 3600  # ended entries older than this are removed
TOUCH_S = 2.0  # a running entry is touched at most this often


def registry_dir() -> Path:
    override = os.environ.get("POSEBENCH_RUN_REGISTRY")
    path = Path(override) if override else Path(tempfile.gettempdir()) / "posebench-runs"
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # shared by every user of the machine
        path.chmod(0o1777)
    return path


def load_1min() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def _locked_by_someone(path: Path) -> bool:
    """True while the run that wrote ``path`` still holds its lock (its process is alive)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops a lock this probe took
    return False


class RunEntry:
    """This run's entry in the registry: ``with RunEntry(run_id, source) as entry: ...``."""

    def __init__(self, run_id: str, source: str = "") -> None:
        self.run_id = run_id
        self.source = source
        self.started = time.time()
        self.ended: float | None = None
        self.load_start = load_1min()
        self.load_end = self.load_start
        self._dir = registry_dir()
        self._path = self._dir / f"{run_id}.json"
        self._fd: int | None = None
        self._touched = 0.0
        self._others: list[dict] | None = None

    def _record(self) -> dict:
        return {
            "run_id": self.run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "source": self.source,
            "started": self.started,
            "ended": self.ended,
        }

    def __enter__(self) -> RunEntry:
        # Written and locked under a temporary name, then renamed: no reader ever sees an
        # unlocked entry of a live run.
        fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=self._dir)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, json.dumps(self._record()).encode())
            os.fchmod(fd, 0o644)
            os.replace(tmp, self._path)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return self  # no registry: the run goes on, it just cannot see others
        self._fd = fd
        return self

    def heartbeat(self) -> None:
        """Touch the entry (cheap; call it between frames, outside the timed part)."""
        now = time.time()
        if self._fd is not None and now - self._touched >= TOUCH_S:
            self._touched = now
            with contextlib.suppress(OSError):
                os.utime(self._path)

    def __exit__(self, *exc) -> None:
        self.ended = time.time()
        self.load_end = load_1min()
        self._others = self._scan()
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            tmp = self._dir / f".end-{self.run_id}"
            tmp.write_text(json.dumps(self._record()), encoding="utf-8")
            os.replace(tmp, self._path)
        with contextlib.suppress(OSError):
            os.close(self._fd)  # the lock goes with it
        self._fd = None

    def _scan(self) -> list[dict]:
        """Other runs whose time span met this one's; stale entries are removed on the way."""
        end = self.ended or time.time()
        found = []
        for path in self._dir.glob("*.json"):
            if path == self._path:
                continue
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                mtime = path.stat().st_mtime
            except (OSError, ValueError):
                continue
            if not isinstance(entry, dict):
                continue
            alive = entry.get("ended") is None and _locked_by_someone(path)
            other_end = time.time() if alive else float(entry.get("ended") or mtime)
            if other_end < time.time() - KEEP_S:
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            other_start = float(entry.get("started") or mtime)
            if other_start < end and other_end > self.started:
                found.append(
                    {
                        "run_id": str(entry.get("run_id", path.stem)),
                        "pid": entry.get("pid"),
                        "source": entry.get("source", ""),
                        "same_process": entry.get("pid") == os.getpid(),
                        "still_running": alive,
                    }
                )
        return found

    def overlapping(self) -> list[dict]:
        """Other runs that shared the machine with this one (complete once the run has ended)."""
        return self._others if self._others is not None else self._scan()

    def state(self) -> dict:
        """The machine's state for run.json."""
        return {
            "load_1min_start": self.load_start,
            "load_1min_end": self.load_end,
            "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "overlapping_runs": self.overlapping(),
            "registry": str(self._dir),
        }


__all__ = ["RunEntry", "registry_dir", "load_1min"]
