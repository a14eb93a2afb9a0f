"""Pose backends behind one interface, created from a ``BackendConfig``."""

from __future__ import annotations

import importlib.util

from posebench.core import catalogue
from posebench.core.errors import BackendUnavailable, BenchError
from posebench.models import store as model_store

from . import sessions
from .base import PoseBackend, PoseResult
from .config import DEFAULT_COMPARISON, PRESETS, BackendConfig, as_config, as_configs, parse
from .sessions import DEFAULT_CACHE, ModelCache, available_providers

# family -> (module, class, packages it needs, model fields of the config)
FAMILIES = {
    "mediapipe": ("posebench.backends.mediapipe_backend", "MediaPipeBackend", ("mediapipe",), ("model",)),
    "rtmpose": (
        "posebench.backends.rtmpose_backend",
        "RTMPoseBackend",
        ("rtmlib", "onnxruntime"),
        ("detector", "pose"),
    ),
}
ENGINE_PACKAGES = {
    "onnxruntime": "onnxruntime",
    "opencv": "cv2",
    "openvino": "openvino",
    "auto": "onnxruntime",
}


def why_unavailable(config: BackendConfig) -> str | None:
    """None when ``config`` can run here, else one sentence saying why not."""
    _module, _cls, packages, model_fields = FAMILIES[config.family]
    for package in packages:
        if importlib.util.find_spec(package) is None:
            return f"the Python package '{package}' is not installed"
    if config.family == "mediapipe" and config.delegate == "GPU":
        reason = sessions.mediapipe_gpu_problem()
        if reason:
            return f"MediaPipe's GPU delegate does not start here ({reason})"
    if config.family == "rtmpose":
        package = ENGINE_PACKAGES[config.engine]
        if importlib.util.find_spec(package) is None:
            return (
                f"the {config.engine} engine needs the '{package}' package "
                f"(installed by set-up; see docs/setup.md)"
            )
        if config.engine == "onnxruntime" and config.provider not in available_providers():
            return (
                f"execution provider {config.provider} is not in this onnxruntime build "
                f"(available: {', '.join(available_providers())})"
            )
    for field_name in model_fields:
        name = getattr(config, field_name)
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


def default_comparison() -> list[str]:
    """The default comparison's presets that can run here (all of them where none can, so the
    caller says why)."""
    usable = [p for p in DEFAULT_COMPARISON if why_unavailable(PRESETS[p]) is None]
    return usable or list(DEFAULT_COMPARISON)


def resolve(config: BackendConfig) -> tuple[BackendConfig, dict | None]:
    """``config`` with ``engine=auto`` replaced by the engine measured fastest here (and that
    measurement, else None); see ``posebench.backends.engines``."""
    from . import engines

    reason = why_unavailable(config)
    if reason:
        raise BackendUnavailable(f"{config.display} cannot run here: {reason}")
    return engines.resolve(config)


def create(config: BackendConfig | str, cache: ModelCache | None = None) -> PoseBackend:
    """A ready backend for one run; raises ``BackendUnavailable`` with the reason."""
    if isinstance(config, str):
        config = parse(config)
    if config.family == "rtmpose" and config.engine == "auto":
        config, _choice = resolve(config)
    reason = why_unavailable(config)
    if reason:
        raise BackendUnavailable(f"{config.display} cannot run here: {reason}")
    module_name, class_name, _packages, _fields = FAMILIES[config.family]
    module = importlib.import_module(module_name)
    try:
        return getattr(module, class_name)(config, cache)
    except BenchError:
        raise
    except Exception as exc:  # a model that will not load is reported, not a traceback
        raise BackendUnavailable(f"{config.display} failed to load: {type(exc).__name__}: {exc}") from exc


def list_presets() -> list[tuple[BackendConfig, str | None]]:
    """Every preset with None or the reason it cannot run here."""
    return [(c, why_unavailable(c)) for c in PRESETS.values()]


__all__ = [
    "PoseBackend",
    "PoseResult",
    "BackendConfig",
    "ModelCache",
    "DEFAULT_CACHE",
    "PRESETS",
    "DEFAULT_COMPARISON",
    "default_comparison",
    "parse",
    "as_config",
    "as_configs",
    "create",
    "resolve",
    "why_unavailable",
    "list_presets",
    "available_providers",
]
