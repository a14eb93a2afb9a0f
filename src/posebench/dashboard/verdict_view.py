"""The headline verdict on a page: the decision and its sentence, then what it rests on.

A success box only for *replace*; *not enough evidence* is a warning and
*keep* an error box. Unmeasured criteria and the machine's state sit right
under the headline. All text is shown as text, never as markdown.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from posebench.decision.numbers import is_number
from posebench.decision.verdict import Verdict

BOXES = {"replace": st.success, "undecided": st.warning, "keep": st.error}
ICONS = {"replace": ":material/check_circle:", "undecided": ":material/help:", "keep": ":material/block:"}
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def as_text(text: str) -> str:
    """Escape markdown so user text (labels, sources) shows exactly as typed."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def headline(verdict: Verdict) -> None:
    BOXES[verdict.decision](as_text(verdict.reason), icon=ICONS[verdict.decision])
    st.caption(as_text(f"Candidate {verdict.candidate}: {verdict.candidate_words}."))
    for crit in verdict.unmeasured:
        st.warning(as_text(f"Not measured: {crit.title}: {crit.detail}."))
    for note in verdict.notes:
        st.warning(as_text(note), icon=":material/speed:")


def criteria_table(verdict: Verdict) -> pd.DataFrame:
    """One row per criterion, as shown under the headline."""
    rows = []
    for c in verdict.criteria:
        rows.append(
            {
                "criterion": c.title,
                "status": c.status,
                "measured": f"{c.measured:.3g} {c.unit}" if is_number(c.measured) else "not measured",
                "spread": c.spread or "-",
                "rule": c.rule,
                "detail": c.detail,
            }
        )
    return pd.DataFrame(rows)


def criteria(verdict: Verdict) -> None:
    st.dataframe(criteria_table(verdict), hide_index=True, width="stretch")
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
