"""The registry of estimator families: every layer asks it, none names a family.

Families come from the Python entry-point group ``posebench.families`` (``name =
"package.module:FAMILY"``), so a family can live in another installed package; the
built-in ones are declared there in pyproject.toml and are also loaded from here when
this package's entry points are not installed (a checkout on ``PYTHONPATH``).
``register`` adds a family in-process (like lm-evaluation-harness's ``@register_model``).
Loading is lazy: the first question loads the families, ``refresh`` forgets them.
"""

from __future__ import annotations

import threading
import warnings
from importlib import import_module, metadata
from typing import Any

from posebench.core.errors import BenchError

from .family import Family, Preset

GROUP = "posebench.families"
# name -> "module:attribute"; listed first, in this order (presets keep their order).
BUILT_IN: dict[str, str] = {
    "mediapipe": "posebench.backends.families.mediapipe:FAMILY",
    "rtmpose": "posebench.backends.families.rtmpose:FAMILY",
}

_LOCK = threading.RLock()
_added: dict[str, Family] = {}  # by register()
_loaded: dict[str, Family] | None = None
_generation = 0  # changes whenever the set of families may have changed


def _as_family(obj: Any, where: str) -> Family:
    family = obj() if isinstance(obj, type) else obj
    if not isinstance(family, Family) or not family.name:
        raise BenchError(f"{where} is not a posebench Family with a name")
    return family


def _load(target: str) -> Family:
    module, _, attr = target.partition(":")
    obj: Any = import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return _as_family(obj, target)


def _discover() -> dict[str, Family]:
    targets = dict(BUILT_IN)
    for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
        targets.setdefault(ep.name, ep.value)  # built-ins stay first; a duplicate path counts once
    found: dict[str, Family] = {}
    for name, target in targets.items():
        try:
            found[name] = _load(target)
        except Exception as exc:  # one broken plugin must not take the others down
            if BUILT_IN.get(name) == target:
                raise
            warnings.warn(f"estimator family '{name}' ({target}) did not load: {exc}", stacklevel=3)
    for family in _added.values():
        found.setdefault(family.name, family)
    return {f.name: f for f in found.values()}


def _families() -> dict[str, Family]:
    global _loaded, _generation
    with _LOCK:
        if _loaded is None:
            _loaded = _discover()
            _generation += 1
        return _loaded


def register(family: Any) -> Any:
    """Add a family (an instance or a ``Family`` subclass) in this process; usable as a
    class decorator. The entry point is the way for a family in another package."""
    found = _as_family(family, repr(family))
    global _loaded
    with _LOCK:
        _added[found.name] = found
        _loaded = None
    return family


def refresh() -> None:
    """Forget the loaded families: the next question reads the entry points again."""
    global _loaded
    with _LOCK:
        _loaded = None


def generation() -> int:
    """A number that changes whenever the families are loaded afresh (for caches over them)."""
    _families()
    return _generation


def families() -> list[Family]:
    """Every family, built-ins first."""
    return list(_families().values())


def get(name: str) -> Family:
    """The family called ``name``."""
    found = _families().get(name)
    if found is None:
        raise BenchError(f"unknown estimator family '{name}'; families: {', '.join(_families())}")
    return found


def presets() -> dict[str, tuple[Family, Preset]]:
    """Preset name -> (its family, the preset), in family order."""
    out: dict[str, tuple[Family, Preset]] = {}
    for family in families():
        for preset in family.presets:
            out.setdefault(preset.name, (family, preset))
    return out


__all__ = ["GROUP", "BUILT_IN", "register", "refresh", "families", "generation", "get", "presets"]
