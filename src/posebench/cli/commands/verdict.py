"""``python -m posebench verdict RUN_DIR [--flight-time S] [--takeoff FRAME --landing FRAME]``.

Prints the decision (replace / keep / undecided) and its sentence, the
criteria it rests on, and writes ``verdict.json`` beside the run. A reference
given here is saved with the run, so the dashboard's Scorecard uses it too.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from posebench.cli.commands.common import print_table
from posebench.core.errors import InputError
from posebench.decision import headline_verdict, scorecard_settings
from posebench.decision.verdict_evidence import Evidence, Reference, jump_table_for
from posebench.store import run_store, sidecars


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("run_dir", metavar="RUN_DIR", help="a saved run folder (results/<run_id>)")
    p.add_argument(
        "--flight-time",
        type=float,
        default=None,
        metavar="S",
        help="known flight time in seconds (contact mat, force plate, validated app); saved with the run",
    )
    p.add_argument(
        "--takeoff",
        type=int,
        default=None,
        metavar="FRAME",
        help="reference take-off frame: the first frame with both feet off the ground (0-based decoded)",
    )
    p.add_argument(
        "--landing",
        type=int,
        default=None,
        metavar="FRAME",
        help="reference landing frame: the first frame with ground contact after the flight (0-based)",
    )
    p.add_argument("--source", default="", help="where the reference comes from, e.g. 'contact mat'")
    p.add_argument("--baseline", default=None, help="baseline label (default: the saved one, else MediaPipe)")
    p.add_argument(
        "--candidate", default=None, help="candidate label (default: the best RTMPose configuration)"
    )
    p.add_argument("--out", default=None, help="where to write verdict.json (default: RUN_DIR/verdict.json)")
    p.set_defaults(func=run)


def reference_from(args, run) -> dict | None:
    """The reference given on the command line, checked; None when none was given."""
    if (args.takeoff is None) != (args.landing is None):
        raise InputError("give both --takeoff and --landing (0-based decoded frames), or neither")
    if args.flight_time is not None and not (math.isfinite(args.flight_time) and args.flight_time > 0):
        raise InputError("--flight-time must be a positive number of seconds, e.g. 0.789")
    if args.takeoff is not None:
        last = run.clip.frames - 1
        for name, frame in (("--takeoff", args.takeoff), ("--landing", args.landing)):
            if not 0 <= frame <= last:
                raise InputError(f"{name} {frame} is outside the clip's decoded frames 0-{last}")
        if args.landing <= args.takeoff:
            raise InputError("the landing frame must come after the take-off frame")
    if args.flight_time is None and args.takeoff is None:
        return None
    return {
        "flight_time_s": args.flight_time,
        "takeoff_frame": args.takeoff,
        "landing_frame": args.landing,
        "fps": run.clip.fps,
        "source": args.source,
    }


def run(args) -> int:
    folder = Path(args.run_dir)
    run_ = run_store.load(folder)
    root = folder.resolve().parent
    given = reference_from(args, run_)
    if given is not None:
        sidecars.save_reference(run_, given, root)
    reference = Reference.of(sidecars.load_reference(run_, root), run_.clip.fps)
    jump_table = jump_table_for(run_, root)  # saved, else replayed from the recorded landmarks
    settings = scorecard_settings.settings_for(run_, root)
    labels = run_.summary["backend"].tolist()
    for name, label in (("--baseline", args.baseline), ("--candidate", args.candidate)):
        if label is not None and label not in labels:
            raise InputError(f"{name} {label} is not in this run ({', '.join(labels)})")
    evidence = Evidence.from_run(run_, reference, jump_table, args.baseline or settings.baseline)
    answer = headline_verdict.decide(evidence, settings.thresholds, args.candidate or settings.candidate)
    path = headline_verdict.write_json(answer, Path(args.out) if args.out else folder / sidecars.VERDICT)
    print(answer.reason)
    print(f"decision: {answer.decision}")
    print(f"candidate {answer.candidate}: {answer.candidate_words}")
    for note in answer.notes:
        print(f"note: {note}")
    print()
    print_table(criteria_frame(answer), ["criterion", "status", "measured", "threshold", "spread"])
    if jump_table is None or not len(jump_table):
        print(f"no jump metrics: the clip {run_.clip.name} or the run's recorded landmarks are not here")
    print(f"wrote {path}")
    return 0


def criteria_frame(answer) -> pd.DataFrame:
    def show(value, unit):
        return (
            "-"
            if value is None or (isinstance(value, float) and math.isnan(value))
            else f"{value:.3g} {unit}"
        )

    return pd.DataFrame(
        [
            {
                "criterion": c.title,
                "status": c.status,
                "measured": show(c.measured, c.unit),
                "threshold": show(c.threshold, c.unit),
                "spread": c.spread or "-",
            }
            for c in answer.criteria
        ]
    )
