"""Widgets for a backend's settings, drawn from a table of levers (data, not branches).

Each lever is a field of ``backends.config.BackendConfig``; the form returns
the changed values and ``backends.config.override`` makes the configuration,
so the dashboard, the CLI and the results table speak of the same settings.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import backends
from backends import config as cfg

from .state import KEEP


@dataclass(frozen=True)
class Lever:
    label: str
    kind: str                 # select | slider | number | toggle
    choices: tuple = ()       # select: options; slider/number: (min, max, step)
    help: str = ""


LEVERS: dict[str, Lever] = {
    "running_mode": Lever("Running mode", "select", cfg.RUNNING_MODES,
                          "VIDEO tracks the person from frame to frame, as the jump app runs it; "
                          "IMAGE finds the person afresh on every frame."),
    "min_detection_confidence": Lever("Min. detection confidence", "slider", (0.0, 1.0, 0.05),
                                      "Person detections below this score are dropped (0-1)."),
    "min_tracking_confidence": Lever("Min. tracking confidence", "slider", (0.0, 1.0, 0.05),
                                     "Below this score VIDEO mode runs its detector again (0-1)."),
    "det_every": Lever("Detector every N frames", "number", (0, 10_000, 1), cfg.CADENCE_HELP),
    "person": Lever("People to pose", "select", cfg.PERSON_CHOICES,
                    "all: every detected person; largest / central: one box; tracked: the box "
                    "that overlaps the last one most (one athlete followed)."),
    "det_input": Lever("Detector input (px)", "number", (32, 2048, 32),
                       "Side of the square image the person detector sees, in pixels."),
    "det_score": Lever("Detector min. score", "slider", (0.0, 1.0, 0.05),
                       "Person boxes below this score are dropped (0-1)."),
    "lost_score": Lever("Tracking lost below", "slider", (0.0, 1.0, 0.05),
                        "Mean keypoint score under which the person counts as lost and the "
                        "detector runs again (with det_every = 0 or N)."),
    "engine": Lever("Engine", "select", cfg.ENGINES,
                    "Which runtime runs the models; engines not installed here are refused with "
                    "the reason."),
    "provider": Lever("Execution provider", "select", (),
                      "ONNX Runtime execution provider; only the ones in this build are offered."),
    "intra_threads": Lever("Threads per model", "number", (0, 64, 1),
                           "ONNX Runtime intra-op threads; 0 = its default, one per core."),
    "inter_threads": Lever("Threads between ops", "number", (0, 64, 1),
                           "ONNX Runtime inter-op threads (parallel execution mode only); 0 = default."),
    "spinning": Lever("Spin-wait threads", "toggle", (),
                      "ONNX Runtime threads busy-wait for work: a little faster alone, but they "
                      "burn CPU that decoding or a second model could use."),
    "graph_opt": Lever("Graph optimisation", "select", cfg.GRAPH_OPT,
                       "ONNX Runtime graph optimisation level."),
    "exec_mode": Lever("Execution mode", "select", cfg.EXEC_MODES,
                       "ONNX Runtime runs operators one after another or in parallel."),
}


def _choices(field_name: str) -> tuple:
    if field_name == "provider":
        return tuple(backends.available_providers()) or ("CPUExecutionProvider",)
    return LEVERS[field_name].choices


def lever_widget(field_name: str, current, key: str):
    """One widget for one lever, showing ``current``; returns the chosen value."""
    lever = LEVERS[field_name]
    if lever.kind == "select":
        options = list(_choices(field_name))
        if current not in options:
            options.insert(0, current)
        return st.selectbox(lever.label, options, index=options.index(current), key=key,
                            help=lever.help, persist_state=KEEP)
    if lever.kind == "slider":
        low, high, step = lever.choices
        return st.slider(lever.label, low, high, float(current), step, key=key, help=lever.help,
                         persist_state=KEEP)
    if lever.kind == "number":
        low, high, step = lever.choices
        return st.number_input(lever.label, low, high, int(current), step, key=key,
                               help=lever.help, persist_state=KEEP)
    if lever.kind == "toggle":
        return st.toggle(lever.label, bool(current), key=key, help=lever.help, persist_state=KEEP)
    raise ValueError(f"unknown lever kind {lever.kind}")


def settings_form(base: backends.BackendConfig, key_prefix: str, columns: int = 3) -> dict:
    """Widgets for every lever of ``base``'s family; returns the settings that differ from it."""
    names = [n for n in cfg.FAMILY_FIELDS[base.family] if n in LEVERS]
    cols = st.columns(columns)
    changes = {}
    for i, name in enumerate(names):
        with cols[i % columns]:
            value = lever_widget(name, getattr(base, name), f"{key_prefix}-{name}")
        if value != getattr(base, name):
            changes[name] = value
    return changes
