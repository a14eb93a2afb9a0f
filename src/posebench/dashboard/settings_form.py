"""Widgets for a backend's settings, drawn from a table of levers (data, not branches).

Each lever is a field of ``backends.config.BackendConfig``; the form returns
the changed values and ``backends.config.override`` makes the configuration,
so the dashboard, the CLI and the results table speak of the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from posebench import backends
from posebench.backends import config as cfg

from .state import KEEP


@dataclass(frozen=True)
class Lever:
    label: str
    kind: str  # select | slider | number | toggle
    limits: tuple = ()  # slider/number: (min, max, step); select choices come from config
    advanced: bool = False  # an engine lever: shown under "Advanced"


# Labels and widget kinds only: what each lever means (the widget's help) and the
# values a select offers live in backends.config (LEVER_HELP, CHOICES), one place
# for the CLI and the dashboard. The first ones are what a coach decides; the engine's
# levers (threads, graph optimisation, execution mode, spinning, batching, ...) sit
# under an "Advanced" expander.
LEVERS: dict[str, Lever] = {
    "model": Lever("Model size", "select"),
    "running_mode": Lever("Follow the athlete between frames", "select"),
    "min_detection_confidence": Lever("How sure to be that a person is there", "slider", (0.0, 1.0, 0.05)),
    "min_tracking_confidence": Lever("How sure to stay while following", "slider", (0.0, 1.0, 0.05)),
    "delegate": Lever("Run MediaPipe on", "select"),
    "detector": Lever("Person finder model", "select"),
    "pose": Lever("Pose model", "select"),
    "det_every": Lever("Look for the athlete every N frames (0 = only when lost)", "number", (0, 10_000, 1)),
    "person": Lever("Whom to follow", "select"),
    "det_input": Lever("Detector input (px)", "number", (32, 2048, 32), advanced=True),
    "det_score": Lever("Detector min. score", "slider", (0.0, 1.0, 0.05), advanced=True),
    "lost_score": Lever("Tracking lost below", "slider", (0.0, 1.0, 0.05), advanced=True),
    "carry_pad": Lever("Carried-box margin", "slider", (0.0, 0.3, 0.01), advanced=True),
    "carry_motion": Lever("Move the carried box with the athlete", "toggle", advanced=True),
    "engine": Lever("Engine", "select", advanced=True),
    "provider": Lever("Execution provider", "select", advanced=True),
    "intra_threads": Lever("Threads per model", "number", (0, 64, 1), advanced=True),
    "inter_threads": Lever("Threads between ops", "number", (0, 64, 1), advanced=True),
    "spinning": Lever("Spin-wait threads", "toggle", advanced=True),
    "graph_opt": Lever("Graph optimisation", "select", advanced=True),
    "exec_mode": Lever("Execution mode", "select", advanced=True),
    "batch_pose": Lever("One pose run for all crops", "toggle", advanced=True),
    "fused_preprocess": Lever("Fused float32 pre-processing", "toggle", advanced=True),
}


def _choices(field_name: str) -> tuple:
    if field_name == "provider":
        return tuple(backends.available_providers()) or ("CPUExecutionProvider",)
    return cfg.CHOICES[field_name]


def _help(field_name: str) -> str:
    text = cfg.LEVER_HELP[field_name]
    return text[:1].upper() + text[1:] + "."


def lever_widget(field_name: str, current, key: str):
    """One widget for one lever, showing ``current``; returns the chosen value."""
    lever = LEVERS[field_name]
    help_text = _help(field_name)
    if lever.kind == "select":
        options = list(_choices(field_name))
        if current not in options:
            options.insert(0, current)
        return st.selectbox(
            lever.label, options, index=options.index(current), key=key, help=help_text, persist_state=KEEP
        )
    if lever.kind == "slider":
        low, high, step = lever.limits
        return st.slider(
            lever.label, low, high, float(current), step, key=key, help=help_text, persist_state=KEEP
        )
    if lever.kind == "number":
        low, high, step = lever.limits
        return st.number_input(
            lever.label, low, high, int(current), step, key=key, help=help_text, persist_state=KEEP
        )
    if lever.kind == "toggle":
        return st.toggle(lever.label, bool(current), key=key, help=help_text, persist_state=KEEP)
    raise ValueError(f"unknown lever kind {lever.kind}")


def settings_form(base: backends.BackendConfig, key_prefix: str, columns: int = 3) -> dict:
    """Widgets for every lever of ``base``'s family; returns the settings that differ from it.

    The preset in words first with its exact settings one click away, then an expander with
    the levers a coach decides, then one with the engine's levers ("Advanced").
    """
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.markdown(f"**{base.preset}**: {cfg.describe(base)}")
    with right.popover("Exact settings", icon=":material/tune:", width="stretch"):
        st.code(cfg.format_settings(base).replace(", ", "\n"), language=None, wrap_lines=True)
    names = [n for n in cfg.FAMILY_FIELDS[base.family] if n in LEVERS]
    plain = [n for n in names if not LEVERS[n].advanced]
    advanced = [n for n in names if LEVERS[n].advanced]
    with st.expander(f"Change the settings of {base.preset}"):
        changes = _widgets(base, plain, key_prefix, columns)
    if advanced:
        with st.expander(
            f"Advanced: engine settings of {base.preset} (threads, graph optimisation, batching)"
        ):
            st.caption("For engineers: how ONNX Runtime runs the models. The defaults are fine for a coach.")
            changes.update(_widgets(base, advanced, key_prefix, columns))
    return changes


def _widgets(base: backends.BackendConfig, names: list[str], key_prefix: str, columns: int) -> dict:
    cols = st.columns(columns)
    changes = {}
    for i, name in enumerate(names):
        with cols[i % columns]:
            value = lever_widget(name, getattr(base, name), f"{key_prefix}-{name}")
        if value != getattr(base, name):
            changes[name] = value
    return changes
