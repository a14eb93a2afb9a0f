"""Which host a study job ran on, and speed compared only within one host.

A study may run on several machines (``posebench.studies.study_executor.RayExecutor``).
Landmarks do not depend on the machine, so accuracy pools over every row; speed
does, so a speed ratio is only ever computed from rows of one host and never
pooled across hosts.

Every study row carries the columns of ``HOST_COLUMNS``.
"""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd

from posebench import backends
from posebench.core import environment

# Column -> (unit, meaning); docs/scale.md lists these.
HOST_COLUMNS: dict[str, tuple[str, str]] = {
    "host": ("", "Machine the job ran on: host name (CPU model, cores)."),
    "host_cpu": ("", "That machine's CPU model."),
    "host_cores": ("cores", "Logical CPU cores of that machine."),
    "provider": ("", "Where the models ran: the ONNX Runtime execution provider, or MediaPipe's CPU."),
    "engine": ("", "Runtime of the models: onnxruntime, opencv, openvino or mediapipe (as its family says)."),
    "job_cpus": ("cores", "CPU cores the job reserved on its host (Ray's num_cpus; 0 = the whole machine)."),
    "job_gpus": ("GPUs", "GPUs the job reserved (1 when its provider runs on a GPU)."),
    "executor": ("", "local (one job after another in this process) or ray (a Ray cluster)."),
    "job_seconds": ("s", "Wall time of the job on its host (the cost model's input, docs/scale.md)."),
}
HOST_KEY = ("host", "host_cpu", "host_cores")  # rows that share these are one host


def runs_on_gpu(spec: str) -> bool:
    """True when the backend configuration's models run on a GPU (its family says)."""
    config = backends.parse(spec)
    return backends.family_of(config).runs_on_gpu(config.levers)


def provider_and_engine(spec: str) -> tuple[str, str]:
    """(provider, engine) the backend configuration's models run on (its family says)."""
    config = backends.parse(spec)
    return backends.family_of(config).host(config.levers)


def host_label() -> str:
    """This machine in one string: ``name (CPU model, N cores)``."""
    env = environment.describe()
    return f"{socket.gethostname()} ({env['cpu']}, {env['cores']} cores)"


def host_record(spec: str) -> dict:
    """The host columns for a job of backend ``spec`` running in this process."""
    env = environment.describe()
    provider, engine = provider_and_engine(spec)
    return {
        "host": host_label(),
        "host_cpu": env["cpu"],
        "host_cores": env["cores"],
        "provider": provider,
        "engine": engine,
    }


def speed_by_host(
    rows: pd.DataFrame,
    baseline: str,
    candidate: str,
    *,
    speed: str = "fps",
    backend: str = "backend",
    clip: str = "sha256",
) -> pd.DataFrame:
    """Candidate speed over baseline speed, one row per host, never pooled across hosts.

    On each host only the clips that both backends ran on that host are paired;
    the ratio is the median over those clips of candidate ``speed`` / baseline
    ``speed`` (above 1 = the candidate is faster there). A host where the two never
    ran the same clip gets no ratio (n_pairs 0).
    """
    out = []
    key_columns = [c for c in HOST_KEY if c in rows.columns]
    if rows.empty or not key_columns:
        return pd.DataFrame(
            columns=[*HOST_KEY, "n_pairs", "baseline_" + speed, "candidate_" + speed, "ratio"]
        )
    for key, group in rows.groupby(key_columns, sort=True, dropna=False):
        base = group[group[backend] == baseline].groupby(clip)[speed].median()
        cand = group[group[backend] == candidate].groupby(clip)[speed].median()
        paired = pd.concat([base.rename("b"), cand.rename("c")], axis=1).dropna()
        paired = paired[(paired["b"] > 0) & (paired["c"] > 0)]
        out.append(
            {
                **dict(zip(key_columns, key)),
                "n_pairs": len(paired),
                "baseline_" + speed: float(paired["b"].median()) if len(paired) else np.nan,
                "candidate_" + speed: float(paired["c"].median()) if len(paired) else np.nan,
                "ratio": float((paired["c"] / paired["b"]).median()) if len(paired) else np.nan,
            }
        )
    return pd.DataFrame(out)


def speed_ratios(clips: pd.DataFrame, baseline: str, *, backend: str = "backend") -> pd.DataFrame:
    """``speed_by_host`` for every backend against the baseline, from a study's rows (status ok)."""
    if clips.empty or backend not in clips.columns:
        return pd.DataFrame()
    ok = clips[clips["status"] == "ok"] if "status" in clips.columns else clips
    tables = []
    for label in dict.fromkeys(ok[backend]):
        if label == baseline:
            continue
        table = speed_by_host(ok, baseline, label, backend=backend)
        table.insert(0, "backend", label)
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


SPEED_SENTENCE = (
    "speed by host: ratio = the backend's frames/s over the baseline's, median over the clips both "
    "ran on that host (above 1 = faster); computed within each host, never pooled across hosts."
)
