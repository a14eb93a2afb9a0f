"""``python -m posebench accuracy IMAGES_DIR ANNOTATIONS.json -b NAME ... [--norm box|torso] [--out DIR]``."""

from __future__ import annotations

from pathlib import Path

from posebench.analysis import keypoint_accuracy
from posebench.backends import backend_config
from posebench.cli.commands.common import add_backend_option, print_table, progress_printer
from posebench.io.files import safe_name, write_csv_atomic
from posebench.store import run_store

DEFAULT_BACKENDS = [backend_config.ACCURACY_BASELINE_PRESET, backend_config.CANDIDATE_PRESET]


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.add_argument("images_dir", help="folder holding the annotated images")
    p.add_argument("annotations", help="COCO-format keypoint annotations (JSON)")
    add_backend_option(p)
    p.add_argument(
        "--norm",
        choices=keypoint_accuracy.NORMS,
        default="box",
        help="PCK reference size: the annotated box's longer side (default) or the annotated torso length",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=keypoint_accuracy.MEDIAPIPE_MARGIN,
        help="MediaPipe only: share of the box size added on each side of its crop "
        f"(default {keypoint_accuracy.MEDIAPIPE_MARGIN})",
    )
    p.add_argument(
        "--out",
        default=None,
        help="folder for accuracy.csv and accuracy_landmarks.csv (default: results/accuracy-<annotations>/)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    summary, landmarks = keypoint_accuracy.evaluate(
        args.images_dir,
        args.annotations,
        args.backends or DEFAULT_BACKENDS,
        norm=args.norm,
        margin=args.margin,
        progress=progress_printer("people", 50),
    )
    print(
        f"keypoint accuracy on {Path(args.annotations).name} "
        f"({int(summary['annotations'].max())} annotated people, boxes from the annotations):"
    )
    print_table(summary, ["backend", "pck_0.1", "pck_0.2", "oks", "keypoints", "found"], floatfmt="{:.3f}")
    size = "the annotated box's longer side" if args.norm == "box" else "the annotated torso length"
    print(
        f"pck_A: share of labelled keypoints within A x {size}; oks: COCO object keypoint "
        "similarity (0-1); found: share of people with a pose."
    )
    for row in summary.itertuples():
        if row.error:
            print(f"{row.backend}: not scored: {row.error}")
    out = (
        Path(args.out)
        if args.out
        else run_store.default_root() / f"accuracy-{safe_name(Path(args.annotations).stem, 'annotations')}"
    )
    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(summary, out / "accuracy.csv")
    if len(landmarks):
        write_csv_atomic(landmarks, out / "accuracy_landmarks.csv")
    print(f"wrote {out / 'accuracy.csv'}")
    return 0 if summary["error"].fillna("").eq("").any() else 1
