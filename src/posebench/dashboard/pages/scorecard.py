"""Page 6: the verdict first (replace, keep or not enough evidence), then the detail scores."""

import dataclasses

import streamlit as st

from posebench.dashboard import (
    reference_form,
    safe_text,
    scorecard_view,
    scoring_schemes_view,
    verdict_view,
    widgets,
)
from posebench.decision import evaluate, headline_verdict
from posebench.decision.verdict_evidence import Evidence
from posebench.engine import selection


def render() -> None:
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

    settings = scorecard_view.settings_for(run)
    baseline = scorecard_view.pick_pair(run, settings)
    why_not = selection.why_not_comparable(run.summary, baseline, settings.candidate)
    if why_not:
        safe_text.warning(why_not)
        st.stop()

    reference = reference_form.saved(run)
    jump_table = verdict_view.jump_metrics(run)
    evidence = Evidence.from_run(run, reference, jump_table, baseline)
    answer = headline_verdict.decide(evidence, settings.thresholds, settings.candidate)

    # -- the headline ------------------------------------------------------------------------
    st.subheader("Verdict")
    verdict_view.headline(answer)
    verdict_view.criteria(answer)
    scorecard_view.candidate_settings(run, answer.candidate)
    if jump_table is None or not len(jump_table):
        st.info(
            "No jump metrics: the clip or this run's recorded landmarks are not on this machine, so "
            "no flight time could be measured."
        )
    scorecard_view.reference(run, reference)
    scorecard_view.rules_editor(run, settings)

    chosen = answer.candidate
    detail_settings = dataclasses.replace(settings, candidate=chosen)
    card = evaluate.evaluate(run, detail_settings, jump_table)
    scorecard_view.save_button(run, settings, answer)

    # -- the older schemes, on demand ---------------------------------------------------------
    st.divider()
    if not scoring_schemes_view.shown():
        st.stop()
    if scorecard_view.overrides(settings, card.inputs, chosen):
        card = evaluate.evaluate(run, detail_settings, jump_table)
    scoring_schemes_view.feasibility(card, answer, chosen, baseline)
    scoring_schemes_view.framework(card, answer)
    scoring_schemes_view.all_candidates(card, baseline)
