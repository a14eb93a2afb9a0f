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

import functools
import subprocess
import sys
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


def _openvino():
    """``import openvino``, without its usage telemetry.

    On import, OpenVINO's model converter (``openvino.tools.ovc``) sends an event through the
    ``openvino_telemetry`` package, which forks this process (``multiprocessing``'s fork, from
    a thread, no new program) to post it to Google Analytics. The fork inherits this process's
    standard output and error: a command whose output a caller reads through pipes (a test,
    a script, a service manager) has a second process holding them, one that was copied from
    a process full of ONNX Runtime and TFLite threads and may not end when the command does.
    A benchmark also should not start anything besides what it measures. OpenVINO works
    without that package (it falls back to its own stub), so PoseBench hides it: nothing is
    sent and nothing is forked."""
    if "openvino_telemetry" not in sys.modules:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]  # import fails: the stub is used
    import openvino as ov

    return ov


# Providers that run on a GPU: operators they lack fall back to the CPU provider.
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "ROCMExecutionProvider")
# Providers that are not a local device (the Azure provider calls a remote endpoint).
REMOTE_PROVIDERS = ("AzureExecutionProvider",)


def available_providers() -> list[str]:
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def local_providers(providers: list[str] | None = None) -> list[str]:
    """The execution providers that run on this machine (``providers``: a given list, for tests)."""
    given = available_providers() if providers is None else providers
    return [p for p in given if p not in REMOTE_PROVIDERS]


def openvino_devices() -> list[str]:
    """OpenVINO's devices on this machine (CPU, GPU, NPU), or [] when it is not installed."""
    try:
        ov = _openvino()
    except ImportError:
        return []
    try:
        return list(ov.Core().available_devices)
    except Exception:  # a broken plugin must not break the backend list
        return ["CPU"]


_MP_GPU_PROBE = """
import sys
from mediapipe.tasks.python import BaseOptions, vision
opts = vision.PoseLandmarkerOptions(
    base_options=BaseOptions(model_asset_path=sys.argv[1], delegate=BaseOptions.Delegate.GPU),
    running_mode=vision.RunningMode.VIDEO,
)
vision.PoseLandmarker.create_from_options(opts).close()
"""


@functools.lru_cache(maxsize=1)
def mediapipe_gpu_problem() -> str | None:
    """None when MediaPipe's GPU delegate starts on this machine, else why not (one phrase).

    Checked once per process by starting a landmarker on the GPU delegate in a separate
    process (a GPU driver that crashes must not take this process with it)."""
    import os
    import shutil

    from posebench.models import model_store

    if not (os.path.exists("/dev/dri") or shutil.which("nvidia-smi")):
        return "no GPU device on this machine: no /dev/dri and no nvidia-smi"
    try:
        model = str(model_store.resolve("pose_landmarker_lite", fetch=False))
    except Exception as exc:
        return f"no model to try it with: {exc}"
    try:
        out = subprocess.run(
            [sys.executable, "-c", _MP_GPU_PROBE, model], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the check did not finish: {type(exc).__name__}"
    if out.returncode == 0:
        return None
    lines = [ln for ln in out.stderr.splitlines() if "Error" in ln or "error" in ln]
    last = (lines or out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[-1]
    if "kGpuService" in out.stderr:
        return "this mediapipe build or machine has no GPU service"
    return last.strip()[:160]


def ov_model(path: str, threads: int = 0, device: str = "CPU"):
    """An OpenVINO compiled model for the lowest latency, with ``threads`` inference threads
    (0 = OpenVINO's default). OpenVINO picks its own precision for the device (bfloat16 on
    CPUs with AMX / AVX-512 BF16); ``ov_settings`` reads back what it chose."""
    try:
        ov = _openvino()
    except ImportError:
        raise BackendUnavailable("the openvino engine needs the 'openvino' package") from None
    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    core = ov.Core()
    return core.compile_model(core.read_model(path), device, config)


def ov_settings(compiled) -> dict:
    """The options an OpenVINO compiled model actually runs with, read back from it."""
    out = {}
    for key, name in (
        ("EXECUTION_DEVICES", "device"),
        ("INFERENCE_NUM_THREADS", "threads"),
        ("INFERENCE_PRECISION_HINT", "precision"),
        ("PERFORMANCE_HINT", "hint"),
    ):
        try:
            value = compiled.get_property(key)
        except Exception:
            continue
        out[name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


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
    if provider in GPU_PROVIDERS and hasattr(ort, "preload_dlls"):
        _preload_cuda(ort)  # the CUDA / cuDNN libraries set-up installs as pip packages
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(intra_threads)
    opts.inter_op_num_threads = int(inter_threads)
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_LEVELS[graph_opt])
    opts.execution_mode = getattr(ort.ExecutionMode, EXEC_MODES[exec_mode])
    spin = "1" if spinning else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    opts.log_severity_level = 3
    # A GPU provider hands the operators it lacks to the CPU; the CPU provider runs alone.
    providers = [provider, "CPUExecutionProvider"] if provider in GPU_PROVIDERS else [provider]
    return ort.InferenceSession(path, sess_options=opts, providers=providers)


@functools.lru_cache(maxsize=1)
def _preload_cuda(ort) -> None:
    try:
        ort.preload_dlls()
    except Exception:  # the session below then says what is missing
        pass


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
