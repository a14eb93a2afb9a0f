"""Keep MediaPipe's and TensorFlow Lite's C++ log lines off the command line's stderr.

Those libraries write straight to file descriptor 2 ("W0000 ... Feedback manager
requires ...", "INFO: Created TensorFlow Lite XNNPACK delegate"), past Python's
``sys.stderr``. ``filter_stderr()`` routes descriptor 2 through a pipe and a
thread that drops such lines and passes every other byte on. Only the CLI uses
it (one process, one user); the dashboard's server log keeps everything.
"""

from __future__ import annotations

import os
import re
import sys
import threading

NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
    rb"|INFO: Created TensorFlow Lite|WARNING: Logging before InitGoogle\(\))"
)


class _Filter(threading.Thread):
    """The forwarding thread, holding a copy of the original stderr to put back."""

    restore_fd: int


def filter_stderr() -> _Filter | None:
    """Start filtering descriptor 2; returns the thread (None when it cannot be done)."""
    if os.environ.get("POSEBENCH_DEBUG"):
        return None
    try:
        sys.stderr.flush()
        original = os.dup(2)
        restore = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
    except OSError:
        return None

    def forward() -> None:
        with os.fdopen(read_end, "rb") as lines, os.fdopen(original, "wb", buffering=0) as out:
            for line in lines:
                if not NOISE.match(line):
                    out.write(line)

    thread = _Filter(target=forward, name="posebench-stderr", daemon=True)
    thread.restore_fd = restore
    thread.start()
    return thread


def stop(thread: _Filter | None) -> None:
    """Put the original stderr back; the pipe's end lets the last lines through."""
    if thread is None:
        return
    sys.stderr.flush()
    os.dup2(thread.restore_fd, 2)  # drops the pipe's last writer; the thread sees the end
    os.close(thread.restore_fd)
    thread.join(timeout=2)
