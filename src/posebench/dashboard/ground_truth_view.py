"""The Accuracy page's ground truth: each backend scored against annotated images (COCO
keypoint format), inside the annotated boxes; kept in the session for the run it was scored for."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from posebench.analysis import keypoint_accuracy
from posebench.core.errors import BenchError
from posebench.dashboard import parsing, safe_text, tables

RESULT = "accuracy-result"  # session key: (run id, summary, per-landmark table)


def section(run, labels: list[str], busy_help: str | None) -> None:
    st.caption(
        "With annotated images (COCO keypoint format) each backend is scored against the truth. "
        "Each backend estimates the pose inside the annotated box, so person detectors stay out "
        "of it. PCK@0.1 / @0.2: share of labelled keypoints within 0.1 / 0.2 of the box's "
        "longer side; OKS: COCO's keypoint similarity, 1 = perfect."
    )
    with st.expander("Score against annotations"):
        ann_file = st.file_uploader("Annotations (COCO JSON)", type=["json"], key="acc-ann")
        image_files = st.file_uploader(
            "The annotated images", type=["jpg", "jpeg", "png"], accept_multiple_files=True, key="acc-images"
        )
        chosen = st.multiselect("Backends to score", labels, default=labels, key="acc-gt-backends")
        if st.button(
            "Score",
            key="acc-score",
            help=busy_help,
            disabled=busy_help is not None or not (ann_file and image_files and chosen),
        ):
            configs = [c for label in chosen for c in run.configs if c.display == label]
            score(run, ann_file.getvalue(), image_files, configs)  # type: ignore[union-attr]
        kept = st.session_state.get(RESULT)
        if kept is not None and kept[0] == run.run_id:  # scored for this run, not an earlier one
            tables.show_table(kept[1], keypoint_accuracy.ACCURACY_COLUMNS, key="acc-gt-summary")
            st.caption(
                "One row per backend over every annotated person. The same numbers come from "
                "`python -m posebench accuracy IMAGES_DIR ANNOTATIONS.json -b …`."
            )


def score(run, annotations: bytes, image_files: list, configs: list) -> None:
    """Score ``configs`` on the uploaded images and keep (run id, summary, per landmark)."""
    with tempfile.TemporaryDirectory(prefix="posebench-gt-") as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for f in image_files:
            (folder / Path(f.name).name).write_bytes(f.getvalue())
        (Path(tmp) / "ann.json").write_bytes(annotations)
        try:
            with st.spinner("Scoring…"):
                summary, per_landmark = parsing.score_annotations(  # in a worker process
                    folder, Path(tmp) / "ann.json", configs, "the annotated images"
                )
            st.session_state[RESULT] = (run.run_id, summary, per_landmark)
        except BenchError as exc:
            safe_text.error(exc)
