"""``python -m posebench backends``: what can run here, and why not for the rest."""

from __future__ import annotations

from posebench import backends
from posebench.backends.backend_config import PRESET_HELP, settings_help


def register(p) -> None:
    """Add this command's arguments to its parser ``p``."""
    p.set_defaults(func=run)


def run(args) -> int:
    for family in backends.estimator_families():  # engines, providers, delegates: each family's own lines
        for line in family.notes():
            print(line)
    for config, reason in backends.list_presets():
        mark = "ok  " if reason is None else "n/a "
        note = PRESET_HELP.get(config.preset, "")
        line = f"{mark}{config.preset:28s} {note}"
        if reason:
            line += f"\n      not here: {reason}"
        print(line)
    print("\nSettings are given as NAME:key=value,... ; the settings of each family follow.")
    print("\n".join(["", *settings_help()]))
    return 0
