"""The Study page's form for a new study (or more clips for one): name, clips, backends and
rules, the references of its clips, and the button that runs it."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from posebench import backends
from posebench.core.errors import BenchError
from posebench.dashboard import event_view, safe_text, state, study_draft, study_view, tables
from posebench.store import references
from posebench.studies import study_executor, study_folder


@dataclass
class Choices:
    """The study's backends and rules, as chosen in the form."""

    backends: list[str]  # the first is the baseline
    min_clips: int
    margin_ms: float
    speed_choices: dict[str, str]  # label -> run folder of every run offered as speed evidence
    speed_picked: list[str]  # the labels chosen

    def speed_runs(self) -> list[str]:
        return [self.speed_choices[k] for k in self.speed_picked]


def name_and_clips(open_id: str | None) -> str:
    """The study's name, its jump kind and the clips to add (the server's, own uploads, new
    uploads); adds them to the draft on a click. Returns the name as typed."""
    name = st.text_input(
        "Study name",
        value=open_id or "",
        key="study-name",
        placeholder="e.g. cmj-team-a",
        help="The same name again adds to that study: clips it already has are not run again.",
    )
    kind = st.radio("Jumps", list(references.KINDS), horizontal=True, key="study-kind")
    public = {p.name: p for p in study_draft.public_clips()}
    mine = study_draft.own_uploads()
    chosen = st.multiselect(
        "Clips on this server",
        [*mine, *public],
        key="study-public",
        help="Your own uploads (from any page) are offered first (only to you).",
    )
    uploads = st.file_uploader(
        "Or upload clips", type=["mp4", "mov", "avi", "mkv", "webm"], accept_multiple_files=True
    )
    if st.button("Add these clips", key="study-add", disabled=not (chosen or uploads)):
        added = study_draft.add_public([public[n] for n in chosen if n in public], kind)
        added += study_draft.add_own_uploads([mine[n] for n in chosen if n in mine], name, kind)
        more, refused = study_draft.add_uploads(uploads, name, kind)
        for sentence in refused:
            safe_text.error(sentence)
        st.toast(f"{added + more} clips added")
    return name


def choices() -> Choices:
    """Backends (the baseline first), the fewest clips, the accuracy margin and the speed runs."""
    labels = [c.preset for c, why in backends.list_presets() if why is None]
    default = [b for b in backends.backend_config.STUDY_PAIR if b in labels]
    chosen_backends = st.multiselect(
        "Backends (the first is the baseline)", labels, default=default, key="study-backends"
    )
    min_clips = st.number_input(
        "Fewest clips a 'replace' may rest on",
        1,
        1000,
        study_folder.DEFAULT_MIN_CLIPS,
        key="study-min-clips",
        help="With fewer clips the verdict says 'not enough evidence' and how many more are needed.",
    )
    margin_ms = st.number_input(
        "Accuracy margin (ms)",
        0.0,
        200.0,
        study_folder.DEFAULT_MARGIN_MS,
        key="study-margin",
        help="Non-inferiority: the candidate is as accurate when the 95 % CI of its per-clip "
        "|flight-time error| difference from the baseline stays under this margin.",
    )
    speed_choices = study_view.speed_run_choices()
    speed_picked = st.multiselect(
        "Speed evidence (saved runs with rounds, one per machine)",
        list(speed_choices),
        key="study-speed",
        help="The verdict's speed comes from a dedicated run with rounds on a quiet machine; the "
        "study's own timings never decide. Each machine is a deployment target.",
    )
    return Choices(chosen_backends, int(min_clips), margin_ms, speed_choices, speed_picked)


def references_editor(clips: list[study_folder.StudyClip]) -> None:
    """The clips' references, editable, with save, import and export (CSV)."""
    edited = st.data_editor(
        study_draft.clips_table(clips),
        placeholder=tables.MISSING,
        key="study-refs",
        hide_index=True,
        width="stretch",
        disabled=["clip", "sha256"],
        # the SHA-256 that keeps each reference stays out of view: at 1280 px every column a
        # coach fills in fits without a sideways scroll
        column_order=["clip", "kind", *study_draft.REFERENCE_TITLES, "source", "note"],
        column_config={
            "clip": st.column_config.TextColumn("Clip"),
            "kind": st.column_config.SelectboxColumn("Jump", options=list(references.KINDS)),
            **{
                c: st.column_config.NumberColumn(title, help=references.REFERENCE_COLUMNS[c][1])
                for c, title in study_draft.REFERENCE_TITLES.items()
            },
            "source": st.column_config.TextColumn(
                "Source", help="Where the reference comes from: contact mat, force plate, by eye"
            ),
            "note": st.column_config.TextColumn("Note"),
            "sha256": st.column_config.TextColumn("Clip's SHA-256", width="small"),
        },
    )
    st.caption(
        "A known flight time (contact mat, force plate, validated app) or the take-off and landing "
        "frames: take-off = first frame with both feet off the ground, landing = first frame with "
        "ground contact after the flight (0-based). References are kept by the clip's SHA-256."
    )
    cols = st.columns(3)
    if cols[0].button("Save references", key="study-refs-save"):
        for problem in study_draft.apply_edits(clips, edited):
            safe_text.error(problem)
    imported = cols[1].file_uploader("Import references (CSV)", type=["csv"], key="study-refs-import")
    if imported is not None and cols[1].button("Import", key="study-refs-import-go"):
        try:
            st.toast(
                f"{study_draft.import_references(imported.getvalue(), imported.name)} references imported"
            )
        except BenchError as exc:
            safe_text.error(str(exc))
    cols[2].download_button(
        "Export references (CSV)",
        references.export_csv(study_view.reference_root()),
        file_name="references.csv",
        mime="text/csv",
        key="study-refs-export",
    )


def run_button(name: str, clips: list[study_folder.StudyClip], chosen: Choices) -> None:
    """The event setting per backend and the button that starts the study in a worker."""
    busy = state.busy_reason()
    chosen_events = event_view.choose(chosen.backends)
    run_it = st.button(
        f"Run the study ({len(clips)} clips × {len(chosen.backends)} backends)",
        type="primary",
        key="study-run",
        disabled=bool(busy) or not chosen.backends or not name.strip(),
        help=busy or ("Give the study a name first." if not name.strip() else None),
    )
    st.caption(study_executor.where_jobs_run() + " See docs/scale.md to use a Ray cluster.")
    if not run_it:
        return
    try:
        study = study_view.build(
            name,
            clips,
            chosen.backends,
            chosen.min_clips,
            chosen.margin_ms,
            chosen.speed_runs(),
            chosen_events,
        )
        state.set_job_of(state.STUDY_JOB, study_view.start(study))
        st.rerun()
    except BenchError as exc:
        safe_text.error(str(exc))
