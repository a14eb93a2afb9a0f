"""The Scorecard page's own parts: the settings kept per run, the baseline and candidate
pickers, the rules editor, saving, and overriding a measured input. The verdict itself is
``verdict_view``; the older scoring schemes are ``scoring_schemes_view``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from posebench.backends import backend_config
from posebench.dashboard import auth, reference_form, safe_text, state, tables, verdict_view, widgets
from posebench.decision import decision_rules, evaluate, scorecard_settings

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


def pick_pair(run, settings: scorecard_settings.Settings) -> str:
    """Baseline and candidate, side by side; the choice goes into ``settings``. The baseline."""
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
    return baseline


def candidate_settings(run, candidate: str) -> None:
    """Where the judged candidate's exact settings are, and its preset's note."""
    by_label = {c.display: c for c in run.configs}
    if candidate not in by_label:
        return
    st.caption(
        "Its exact settings are in the run's CSV and the evidence report.",
        help=f"As in the CSV: {backend_config.format_settings(by_label[candidate])}",
    )
    note = backend_config.preset_note(by_label[candidate].preset)
    if note:
        st.caption(note)


def reference(run, saved) -> None:
    """The jump's reference, in an expander that edits it (open while there is none)."""
    with st.expander(reference_form.label(saved), expanded=saved is None):
        st.caption(
            "The strongest evidence: what the jump really was. With a reference, accuracy is "
            "judged against it for both backends; without one, only agreement with the baseline "
            "can be judged. Saved with the run; the Accuracy page uses the same reference."
        )
        reference_form.editor(run, key="score-ref", may_change=auth.may_change_run(run))


def rules_table(thresholds: dict[str, float]) -> pd.DataFrame:
    """One row per threshold: its current value, unit, default and meaning."""
    return pd.DataFrame(
        [
            {
                "threshold": k,
                "value": thresholds[k],
                "unit": unit,
                "default": default_value,
                "meaning": meaning,
            }
            for k, (default_value, unit, meaning) in decision_rules.THRESHOLDS.items()
        ]
    )


def changed_thresholds(edited: pd.DataFrame, thresholds: dict[str, float]) -> dict[str, float]:
    """The thresholds the editor changed, with their new values."""
    return {
        row.threshold: float(row.value)
        for row in edited.itertuples()
        if pd.notna(row.value) and float(row.value) != thresholds[row.threshold]
    }


def rules_editor(run, settings: scorecard_settings.Settings) -> None:
    """The thresholds and margins, editable; a change reruns the page with it."""
    with st.expander("Rules: thresholds and margins (editable, saved with the run)"):
        edited = st.data_editor(
            rules_table(settings.thresholds),
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
        changed = changed_thresholds(edited, settings.thresholds)
        if changed:
            settings.thresholds.update(changed)
            st.rerun()


def save_button(run, settings: scorecard_settings.Settings, answer) -> None:
    """Keep the settings and the verdict beside the run (only its owner may)."""
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


def overrides_table(inputs: pd.DataFrame, current: dict[str, float]) -> pd.DataFrame:
    """The candidate's measured inputs in words, with the override typed for each (NaN: none)."""
    out = inputs.copy()
    out["measured input"] = out["input"].map(lambda k: decision_rules.INPUT_TITLES.get(k, k))
    out["override"] = [current.get(k, np.nan) for k in out["input"]]
    return out


def overrides(settings: scorecard_settings.Settings, inputs: pd.DataFrame, chosen: str) -> bool:
    """A toggle and an editor that override the candidate's measured inputs (kept in
    ``settings``); True when the overrides changed (the scores are then computed again)."""
    if not st.toggle(
        f"Override measured inputs of {safe_text.md(chosen)} (marked as overridden)", key="score-override"
    ):
        return False
    current = settings.overrides.get(chosen, {})
    table = overrides_table(inputs, current)
    edited = st.data_editor(
        table[["measured input", "value", "unit", "override", "source"]],
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
    new = {raw: float(value) for raw, value in zip(table["input"], edited["override"]) if pd.notna(value)}
    if new == current:
        return False
    if new:
        settings.overrides[chosen] = new
    else:
        settings.overrides.pop(chosen, None)
    return True
