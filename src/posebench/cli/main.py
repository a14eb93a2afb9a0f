"""The command line: ``python -m posebench <command>``.

Each command lives in its own module under ``posebench.cli.commands`` with
``register(subparsers)`` that adds its parser and sets ``func``. Errors a
person can act on (``BenchError``) print one line and exit with status 2;
nothing prints a traceback unless ``POSEBENCH_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading

from posebench.core.errors import BenchError
from posebench.io import native_log

COMMANDS = (
    "backends",
    "models",
    "run",
    "sample",
    "accuracy",
    "jump",
    "verdict",
    "explore",
    "perf",
    "runs",
    "users",
    "study",
    "events",
    "realtime",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m posebench",
        description="PoseBench: a fair CPU benchmark of MediaPipe Pose and RTMPose.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"posebench.cli.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    noise_filter = native_log.filter_stderr()
    try:
        with _terminate_unwinds():
            return _run(args)
    finally:
        native_log.stop(noise_filter)


class Terminated(SystemExit):
    """SIGTERM, turned into an exception so that every ``finally`` runs on the way out: the
    worker processes are stopped, a Ray instance this command started is shut down, nothing
    the command started outlives it."""


@contextlib.contextmanager
def _terminate_unwinds():
    """While a command runs, SIGTERM unwinds it (exit status 143) instead of killing it on
    the spot. Only the main thread can handle signals; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame) -> None:
        raise Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args) -> int:
    try:
        return int(args.func(args) or 0)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except Terminated as exc:
        print("error: stopped (SIGTERM); nothing half-written was kept", file=sys.stderr)
        return int(exc.code or 143)
    except Exception as exc:  # last resort: one line, not a traceback
        if os.environ.get("POSEBENCH_DEBUG"):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (set POSEBENCH_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
