"""Commands the tests start, so that none can hold a test (and the suite) forever.

``subprocess.run(..., capture_output=True)`` returns only when both output pipes reach their
end, and a pipe ends only when every process holding its writing end has closed it: a process
the command started that outlives it (a worker, a helper it forgot) keeps the test waiting
although the command itself has long exited (a zombie nobody reaps). So ``run`` here:

- sends the command's output to files, not pipes, and waits for the command's own exit (a
  ``pidfd``: the kernel says when it ended, no polling), at most ``timeout`` seconds;
- starts it in a session of its own, so that everything it started (and did not move to a
  session of its own) can be found and ended: on a timeout the whole session is killed, and
  after a normal exit any process of the session still running is reported
  (``Finished.left_behind``) and killed.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil


@dataclass
class Finished:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    left_behind: list[str] = field(default_factory=list)  # "pid name cmdline" of survivors (killed)


def session_members(sid: int) -> list[psutil.Process]:
    """Processes of the session ``sid`` (other than a leader that has exited)."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == sid:
            continue
        with contextlib.suppress(OSError):
            if os.getsid(proc.pid) == sid:
                found.append(proc)
    return found


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {proc.name()} {' '.join(proc.cmdline())[:200]}"
    except psutil.Error:
        return f"{proc.pid} (gone)"


def _kill_all(procs: list[psutil.Process]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=10)


def _wait_for_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """Whether ``proc`` exited within ``timeout`` s; it is left unreaped (its pid stays its own
    while the session's survivors are looked for)."""
    if not hasattr(os, "pidfd_open"):  # not Linux: wait and reap (the session id stays)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    fd = os.pidfd_open(proc.pid)
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[-limit:]


def run(
    args: list[str],
    *,
    timeout: float,
    env: dict | None = None,
    cwd: str | Path | None = None,
    input: str | None = None,  # as subprocess.run names it
) -> Finished:
    """Run ``args`` to its end (at most ``timeout`` s: then it and everything it started are
    killed and the test fails with its output). Output is read back as text."""
    args = [str(a) for a in args]
    with tempfile.TemporaryDirectory(prefix="posebench-test-command-") as tmp:
        out_path, err_path, in_path = Path(tmp, "stdout"), Path(tmp, "stderr"), Path(tmp, "stdin")
        in_path.write_text(input or "", encoding="utf-8")
        with open(out_path, "wb") as out, open(err_path, "wb") as err, open(in_path, "rb") as stdin:
            proc = subprocess.Popen(
                args, stdin=stdin, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
            )
        ended = False
        try:
            ended = _wait_for_exit(proc, timeout)
            survivors = session_members(proc.pid)
            left = [_describe(p) for p in survivors] if ended else []
            _kill_all(survivors)
        finally:
            if not ended:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        if not ended:
            raise AssertionError(
                f"{' '.join(args)[:300]} did not end within {timeout:.0f} s and was killed\n"
                f"--- stdout ---\n{_tail(out_path)}\n--- stderr ---\n{_tail(err_path)}"
            )
        return Finished(args, proc.returncode, _tail(out_path, 10**7), _tail(err_path, 10**7), left)


def wait_for_cancel(progress, cancel) -> None:
    """A ``WorkerCall`` target that reports nothing and ends only when cancelled (a worker busy
    in one long step: it never notices a parent that has gone by failing to report to it)."""
    cancel.wait()


__all__ = ["Finished", "run", "session_members", "wait_for_cancel"]
