"""Model sessions: built with our own options, shared through a thread-safe cache.

rtmlib builds its ``InferenceSession`` without session or provider options,
so PoseBench builds the sessions itself (every lever in ``BackendConfig``)
and hands them to rtmlib's pre- and post-processing.

Sessions are stateless and ``InferenceSession.run`` is thread-safe, so one
session per (file, engine, provider, options) is shared between runs and
browser sessions. Stateful things (trackers, VIDEO-mode landmarkers) are
never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posebench.core.errors import BackendUnavailable

GRAPH_LEVELS = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
EXEC_MODES = {"sequential": "ORT_SEQUENTIAL", "parallel": "ORT_PARALLEL"}


def available_providers() -> list[str]:
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def ort_session(
    path: str,
    provider: str,
    intra_threads: int = 0,
    inter_threads: int = 0,
    spinning: bool = True,
    graph_opt: str = "all",
    exec_mode: str = "sequential",
):
    """An ONNX Runtime session with exactly these options."""
    import onnxruntime as ort

    if provider not in available_providers():
        raise BackendUnavailable(
            f"execution provider {provider} is not in this onnxruntime build "
            f"(available: {', '.join(available_providers())})"
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(intra_threads)
    opts.inter_op_num_threads = int(inter_threads)
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_LEVELS[graph_opt])
    opts.execution_mode = getattr(ort.ExecutionMode, EXEC_MODES[exec_mode])
    spin = "1" if spinning else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    opts.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=opts, providers=[provider])


def session_settings(session) -> dict:
    """The options an ONNX Runtime session actually runs with, read back from it."""
    import onnxruntime as ort

    opts = session.get_session_options()
    levels = {getattr(ort.GraphOptimizationLevel, v): k for k, v in GRAPH_LEVELS.items()}
    modes = {getattr(ort.ExecutionMode, v): k for k, v in EXEC_MODES.items()}
    return {
        "provider": session.get_providers()[0],
        "intra_threads": opts.intra_op_num_threads,
        "inter_threads": opts.inter_op_num_threads,
        "spinning": opts.get_session_config_entry("session.intra_op.allow_spinning") != "0",
        "graph_opt": levels.get(opts.graph_optimization_level, str(opts.graph_optimization_level)),
        "exec_mode": modes.get(opts.execution_mode, str(opts.execution_mode)),
    }


@dataclass
class Loaded:
    value: Any
    load_ms: float  # time this call waited for the model
    cached: bool  # True when it came from the cache
    cold_ms: float  # time the first (cold) load took


class ModelCache:
    """Thread-safe cache of loaded, stateless model objects.

    ``get(key, loader)`` loads once per key; concurrent callers for the same
    key wait for the one load instead of loading twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple, tuple[Any, float]] = {}
        self._key_locks: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, loader: Callable[[], Any]) -> Loaded:
        start = time.perf_counter()
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._items:
                value, cold_ms = self._items[key]
                return Loaded(value, (time.perf_counter() - start) * 1000.0, True, cold_ms)
            value = loader()
            cold_ms = (time.perf_counter() - start) * 1000.0
            self._items[key] = (value, cold_ms)
            return Loaded(value, cold_ms, False, cold_ms)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._key_locks.clear()

    def __len__(self) -> int:
        return len(self._items)


DEFAULT_CACHE = ModelCache()
