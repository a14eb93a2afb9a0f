"""``python -m posebench runs import ZIP`` and ``runs own RUN_ID USER``.

``runs import`` applies the same checks as the dashboard's import (``engine.imports``):
a bad zip prints one line, ``error: …``, and the command exits with status 2.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from posebench.access import import_runs, run_access
from posebench.cli.commands.common import add_results_option


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="check and import a zip of a run folder (untrusted data)")
    imp.add_argument("zip", help="zip of one run folder (summary.csv, frames.csv, run.json, native.npz)")
    imp.add_argument("--owner", help="user who owns the imported run on a shared server")
    add_results_option(imp)
    imp.set_defaults(func=run_import)
    own = actions.add_parser("own", help="make USER the owner of a saved run (shared-server mode)")
    own.add_argument("run_id")
    own.add_argument("user")
    add_results_option(own)
    own.set_defaults(func=run_own)


def run_import(args) -> int:
    saved = import_runs.import_run(Path(args.zip), Path(args.out) if args.out else None, owner=args.owner)
    print(f"imported {saved.name} into {saved.parent}/")
    return 0


def run_own(args) -> int:
    run_access.set_owner(
        args.run_id, args.user, by=getpass.getuser(), root=Path(args.out) if args.out else None
    )
    print(f"{args.run_id} now belongs to {args.user}")
    return 0
