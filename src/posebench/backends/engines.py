"""``engine=auto``: the fastest engine and execution provider on this machine, measured.

An engine or provider may be faster or slower than another on a given machine (CoreML is
often slower than the CPU; OpenVINO computes in bfloat16 on CPUs with AMX and is faster
there), so the choice is measured, never assumed:

1. the candidates are every engine present here: ONNX Runtime with each of its local
   execution providers (CPU, and CUDA / TensorRT / ROCm / CoreML where the build has them),
   and OpenVINO on the CPU when it is installed;
2. each candidate loads the configuration's two models with its thread settings and runs
   them on fixed inputs, interleaved over a few rounds (the order rotates each round), after
   a warm-up round;
3. its cost per frame is the pose model's time plus the detector's time times the share of
   frames the detector runs on (``det_every``: 1 on every frame, 1/N, or 5 % when it runs
   only once tracking is lost); the cheapest wins.

A choice measured while the machine was busier than its core count is taken again once it
is quieter. The measurement is cached in ``<POSEBENCH_CACHE>/engine-choice.json`` under a key made of
the machine (CPU model and count), the engine versions, the providers, the model files and
the thread settings, so it runs once per machine and configuration. The run records it.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from posebench.core import catalogue, environment
from posebench.core.errors import BackendUnavailable, BenchError
from posebench.models import model_store

from .backend_config import BackendConfig
from .sessions import local_providers, openvino_devices, ort_session, ov_model

CACHE_FILE = "engine-choice.json"
ROUNDS = 3  # timed rounds after one warm-up round
REPEATS = {"detector": 3, "pose": 10}  # model runs per candidate and round
LOST_SHARE = 0.05  # det_every=0: the detector's nominal share of frames (only when tracking is lost)
_LOCK = threading.Lock()


def candidates(
    providers: list[str] | None = None, ov_devices: list[str] | None = None
) -> list[tuple[str, str]]:
    """(engine, provider or device) pairs present here; ``providers`` / ``ov_devices`` are given
    lists for tests, else what this machine has."""
    out = [("onnxruntime", p) for p in local_providers(providers)]
    devices = openvino_devices() if ov_devices is None else ov_devices
    if "CPU" in devices:
        out.append(("openvino", "CPU"))
    return out


def detector_share(config: BackendConfig) -> float:
    """Share of frames the detector runs on, as the cost model counts it."""
    if config.det_every == 1:
        return 1.0
    return 1.0 / config.det_every if config.det_every > 1 else LOST_SHARE


def apply(config: BackendConfig, engine: str, provider: str) -> BackendConfig:
    """``config`` on ``engine`` / ``provider``, keeping its label (so tables keep their names)."""
    changes: dict[str, Any] = {"engine": engine}
    if engine == "onnxruntime":
        changes["provider"] = provider
    return replace(config.with_levers(**changes), label=config.display)


def _runner(engine: str, provider: str, path: str, config: BackendConfig) -> Callable[[np.ndarray], object]:
    if engine == "onnxruntime":
        session = ort_session(
            path,
            provider,
            config.intra_threads,
            config.inter_threads,
            config.spinning,
            config.graph_opt,
            config.exec_mode,
        )
        name = session.get_inputs()[0].name
        return lambda feed: session.run(None, {name: feed})
    compiled = ov_model(path, config.intra_threads)
    request = compiled.create_infer_request()
    return lambda feed: request.infer({0: feed})


def _feeds(config: BackendConfig) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    size = catalogue.get(config.pose).input_size
    if size is None:
        raise BenchError(f"{config.pose} is not a pose model (it has no input size)")
    pw, ph = size
    side = config.det_input
    return {
        "detector": rng.uniform(0, 255, (1, 3, side, side)).astype(np.float32),
        "pose": rng.normal(0, 1, (1, 3, ph, pw)).astype(np.float32),
    }


def measure(config: BackendConfig, pairs: list[tuple[str, str]], rounds: int = ROUNDS) -> list[dict]:
    """Time each candidate's two models, interleaved; one row per candidate (ms are medians
    of the rounds' means). A candidate that fails to load gets its error instead."""
    paths = {
        "detector": str(model_store.resolve(config.detector, fetch=False)),
        "pose": str(model_store.resolve(config.pose, fetch=False)),
    }
    feeds = _feeds(config)
    runners: dict[tuple[str, str], dict] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {
        pair: {"engine": pair[0], "provider": pair[1]} for pair in pairs
    }
    for pair in pairs:
        try:
            runners[pair] = {role: _runner(*pair, path, config) for role, path in paths.items()}
        except Exception as exc:  # e.g. a GPU provider without its driver
            rows[pair]["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:160]}"
    times: dict[tuple[str, str], dict[str, list[float]]] = {p: {"detector": [], "pose": []} for p in runners}
    order = list(runners)
    for rnd in range(rounds + 1):  # round 0 warms up, untimed
        shift = rnd % max(1, len(order))
        for pair in order[shift:] + order[:shift]:
            for role in ("detector", "pose"):
                run = runners[pair][role]
                t0 = time.perf_counter()
                for _ in range(REPEATS[role]):
                    run(feeds[role])
                if rnd:
                    times[pair][role].append((time.perf_counter() - t0) * 1e3 / REPEATS[role])
    share = detector_share(config)
    for pair, t in times.items():
        det, pose = statistics.median(t["detector"]), statistics.median(t["pose"])
        rows[pair].update(
            detector_ms=round(det, 3), pose_ms=round(pose, 3), cost_ms=round(pose + share * det, 3)
        )
    return list(rows.values())


def _key(config: BackendConfig, pairs: list[tuple[str, str]]) -> str:
    env = environment.describe()
    versions = {}
    for package in ("onnxruntime", "onnxruntime-gpu", "openvino"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    parts = {
        "cpu": env.get("cpu"),
        "cores": env.get("cores"),
        "versions": versions,
        "candidates": pairs,
        "models": [catalogue.get(config.detector).filename, catalogue.get(config.pose).filename],
        "det_input": config.det_input,
        "threads": [config.intra_threads, config.inter_threads, config.spinning],
        "ort": [config.graph_opt, config.exec_mode],
        "detector_share": detector_share(config),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def cache_path() -> Path:
    return model_store.cache_root() / CACHE_FILE


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader sees the old file or the new one


def _stale(entry: dict) -> bool:
    """A choice measured while the machine was busier than its cores is measured again once
    the machine is quieter than that (a busy moment must not decide for good)."""
    cores = entry.get("cores") or os.cpu_count() or 1
    if "load_1min" not in entry:  # measured by a version that did not record the load: unknown
        return True
    busy_then = float(entry["load_1min"]) > cores
    return busy_then and os.getloadavg()[0] <= cores


def choose(config: BackendConfig, pairs: list[tuple[str, str]] | None = None) -> dict:
    """The measured choice for ``config`` (cached): ``engine``, ``provider``, ``candidates``
    (each with its times), ``measured_at``, ``cached``."""
    pairs = candidates() if pairs is None else pairs
    if not pairs:
        raise BackendUnavailable("no engine is installed for the RTMPose models (onnxruntime or openvino)")
    key = _key(config, pairs)
    path = cache_path()
    with _LOCK:
        entry = _read_cache(path).get(key)
        if isinstance(entry, dict) and entry.get("engine") and not _stale(entry):
            return {**entry, "cached": True}
        rows = measure(config, pairs)
        timed = [r for r in rows if "cost_ms" in r]
        if not timed:
            raise BackendUnavailable(
                "no engine could load the RTMPose models: " + "; ".join(r.get("error", "") for r in rows)
            )
        best = min(timed, key=lambda r: r["cost_ms"])
        entry = {
            "engine": best["engine"],
            "provider": best["provider"],
            "candidates": rows,
            "detector_share": detector_share(config),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_1min": round(os.getloadavg()[0], 2),
            "cores": os.cpu_count(),
            "how": "each engine's two models on fixed inputs, interleaved, 3 rounds after a warm-up "
            "round; cost per frame = pose ms + detector ms x share of frames the detector runs on",
        }
        data = _read_cache(path)
        data[key] = entry
        try:
            _write_cache(path, data)
        except OSError:
            pass  # a read-only cache only means measuring again next time
        return {**entry, "cached": False}


def cached_choice(config: BackendConfig) -> dict | None:
    """The choice measured earlier for ``config`` on this machine, without measuring."""
    entry = _read_cache(cache_path()).get(_key(config, candidates()))
    return entry if isinstance(entry, dict) and entry.get("engine") else None


def describe() -> list[str]:
    """Lines for ``python -m posebench backends``: the engines installed here."""
    lines = []
    for package, label in (("onnxruntime", "ONNX Runtime"), ("onnxruntime-gpu", "ONNX Runtime (GPU build)")):
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
        lines.append(f"  {label} {version}: execution providers {', '.join(local_providers())}")
    try:
        lines.append(f"  OpenVINO {metadata.version('openvino')}: devices {', '.join(openvino_devices())}")
    except metadata.PackageNotFoundError:
        lines.append("  OpenVINO: not installed (set-up installs it)")
    return lines


def resolve(config: BackendConfig) -> tuple[BackendConfig, dict | None]:
    """``config`` with ``engine=auto`` replaced by the measured choice (and the choice),
    or ``config`` unchanged (and None) when it names its engine."""
    if getattr(config.levers, "engine", None) != "auto":
        return config, None
    choice = choose(config)
    return apply(config, choice["engine"], choice["provider"]), choice


__all__ = [
    "candidates",
    "cached_choice",
    "describe",
    "choose",
    "resolve",
    "measure",
    "apply",
    "detector_share",
    "cache_path",
]
