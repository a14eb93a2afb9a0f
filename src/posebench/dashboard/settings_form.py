"""Widgets for a backend's settings, drawn from a table of levers (data, not branches).

Each lever is a field of the family's levers dataclass; the form returns
the changed values and ``backends.backend_config.override`` makes the configuration,
so the dashboard, the CLI and the results table speak of the same settings.
"""

from __future__ import annotations

import streamlit as st

from posebench import backends
from posebench.backends import backend_config
from posebench.backends.family import Lever, lever_of

from .state import KEEP


# What each lever means (the widget's help), its label, its widget and the values a select
# offers live with the lever in its family's levers dataclass (``backends.family.lever``),
# one place for the CLI and the dashboard. The first ones are what a coach decides; the
# engine's levers (threads, graph optimisation, execution mode, spinning, batching, ...) sit
# under an "Advanced" expander.
def _lever(base: backends.BackendConfig, field_name: str) -> Lever:
    return lever_of(type(base.levers), field_name)


def _help(spec: Lever) -> str:
    return spec.help[:1].upper() + spec.help[1:] + "."


def lever_widget(lever: Lever, current, key: str):
    """One widget for one lever, showing ``current``; returns the chosen value."""
    help_text = _help(lever)
    if lever.kind == "select":
        options = list(lever.options())
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
    left.markdown(f"**{base.preset}**: {backend_config.describe(base)}")
    with right.popover("Exact settings", icon=":material/tune:", width="stretch"):
        st.code(backend_config.format_settings(base).replace(", ", "\n"), language=None, wrap_lines=True)
    names = [n for n in backend_config.FAMILY_FIELDS[base.family] if _lever(base, n).kind]
    plain = [n for n in names if not _lever(base, n).advanced]
    advanced = [n for n in names if _lever(base, n).advanced]
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
            value = lever_widget(_lever(base, name), getattr(base.levers, name), f"{key_prefix}-{name}")
        if value != getattr(base.levers, name):
            changes[name] = value
    return changes
