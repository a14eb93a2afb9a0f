"""Pose backends behind one interface, created from a ``BackendConfig``.

Which families exist, and everything about each, is asked of ``registry``; this module
only adds what every family shares (packages and model files checked, load failures
reported as ``BackendUnavailable``).
"""

from __future__ import annotations

import importlib.util

from posebench.core import catalogue
from posebench.core.errors import BackendUnavailable, BenchError
from posebench.models import model_store

from . import family_registry
from .backend_config import (
    DEFAULT_COMPARISON,
    PRESETS,
    BackendConfig,
    as_config,
    as_configs,
    family_of,
    parse,
)
from .base import PoseBackend, PoseResult
from .family import BoxEstimator, Family
from .sessions import DEFAULT_CACHE, ModelCache, available_providers


def why_unavailable(config: BackendConfig) -> str | None:
    """None when ``config`` can run here, else one sentence saying why not."""
    family = family_of(config)
    for package in family.packages:
        if importlib.util.find_spec(package) is None:
            return f"the Python package '{package}' is not installed"
    reason = family.why_unavailable(config.levers)
    if reason:
        return reason
    for name in family.model_names(config.levers):
        path, tried = model_store.find_local(name)
        if path is None:
            asset = catalogue.get(name)
            rejected = [t for t in tried if not t.endswith("not there")]  # e.g. a wrong SHA-256
            why = f" ({'; '.join(rejected)})" if rejected else ""
            return (
                f"model file {asset.filename} is not here{why} "
                f"(run `python -m posebench models fetch {name}` or set POSEBENCH_MODEL_DIRS)"
            )
    return None


def model_names(config: BackendConfig) -> list[str]:
    """Catalogue names of the model files ``config`` loads."""
    return family_of(config).model_names(config.levers)


def keypoint_set(config: BackendConfig) -> str | None:
    """The native keypoint set ``config`` yields (``posebench.core.keypoints``), None if unknown."""
    return family_of(config).keypoint_set(config.levers)


def default_comparison() -> list[str]:
    """The default comparison's presets that can run here (all of them where none can, so the
    caller says why)."""
    usable = [p for p in DEFAULT_COMPARISON if why_unavailable(PRESETS[p]) is None]
    return usable or list(DEFAULT_COMPARISON)


def needs_resolving(config: BackendConfig) -> bool:
    """True when ``config`` leaves a choice to this machine (e.g. ``engine=auto``)."""
    return family_of(config).needs_resolving(config.levers)


def resolve(config: BackendConfig) -> tuple[BackendConfig, dict | None]:
    """``config`` with choices left to this machine made (e.g. ``engine=auto`` replaced by the
    engine measured fastest here) and that measurement, else None."""
    reason = why_unavailable(config)
    if reason:
        raise BackendUnavailable(f"{config.display} cannot run here: {reason}")
    family = family_of(config)
    return family.resolve(config) if family.needs_resolving(config.levers) else (config, None)


def _checked(config: BackendConfig | str) -> BackendConfig:
    config = as_config(config)
    if needs_resolving(config):
        config, _choice = resolve(config)
    reason = why_unavailable(config)
    if reason:
        raise BackendUnavailable(f"{config.display} cannot run here: {reason}")
    return config


def create(config: BackendConfig | str, cache: ModelCache | None = None) -> PoseBackend:
    """A ready backend for one run; raises ``BackendUnavailable`` with the reason."""
    config = _checked(config)
    try:
        return family_of(config).create(config, cache)
    except BenchError:
        raise
    except Exception as exc:  # a model that will not load is reported, not a traceback
        raise BackendUnavailable(f"{config.display} failed to load: {type(exc).__name__}: {exc}") from exc


def on_boxes(config: BackendConfig | str, cache: ModelCache | None, margin: float) -> BoxEstimator:
    """The backend run on annotated person boxes (the accuracy check); raises
    ``BackendUnavailable`` with the reason."""
    config = _checked(config)
    try:
        return family_of(config).on_boxes(config, cache, margin)
    except BenchError:
        raise
    except Exception as exc:
        raise BackendUnavailable(f"{config.display} failed to load: {type(exc).__name__}: {exc}") from exc


def list_presets() -> list[tuple[BackendConfig, str | None]]:
    """Every preset with None or the reason it cannot run here."""
    return [(c, why_unavailable(c)) for c in PRESETS.values()]


def estimator_families() -> list[Family]:
    """Every registered estimator family, built-ins first (``families`` is their subpackage)."""
    return family_registry.families()


__all__ = [
    "PoseBackend",
    "PoseResult",
    "BackendConfig",
    "BoxEstimator",
    "Family",
    "ModelCache",
    "DEFAULT_CACHE",
    "PRESETS",
    "DEFAULT_COMPARISON",
    "default_comparison",
    "parse",
    "as_config",
    "as_configs",
    "create",
    "on_boxes",
    "resolve",
    "needs_resolving",
    "why_unavailable",
    "model_names",
    "keypoint_set",
    "family_of",
    "estimator_families",
    "list_presets",
    "available_providers",
]
