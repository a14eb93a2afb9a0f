"""Set-up contract: pinned requirements, one OpenCV, scripts that parse."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]


def requirement_lines():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def test_every_requirement_is_pinned():
    loose = [ln for ln in requirement_lines() if not re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[^\s=]+", ln)]
    assert loose == []


def test_exactly_one_opencv_is_required_and_installed():
    required = [ln for ln in requirement_lines() if "opencv" in ln.lower()]
    assert len(required) == 1, required
    installed = sorted(
        {
            d.metadata["Name"].lower()
            for d in importlib.metadata.distributions()
            if "opencv" in (d.metadata["Name"] or "").lower()
        }
    )
    assert installed == [required[0].split("==")[0].lower()]


@pytest.mark.parametrize("script", ["scripts/setup.sh", "scripts/install_chromium.sh", ".ci/run"])
def test_shell_scripts_parse(script):
    path = ROOT / script
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=60).returncode == 0


def test_ci_entry_point_is_executable_and_runs_make_test():
    run = ROOT / ".ci" / "run"
    assert os.access(run, os.X_OK)
    assert "set -euo pipefail" in run.read_text() and "make test" in run.read_text()


def test_make_test_treats_no_tests_as_failure():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "-eq 5" in recipe and "exit 1" in recipe


def _build_choice(tmp_path, nvidia_smi: str | None, env: dict | None = None) -> str:
    """What scripts/onnxruntime_build.sh prints with a stand-in ``nvidia-smi`` (or none) on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    if nvidia_smi is not None:
        tool = bindir / "nvidia-smi"
        tool.write_text("#!/usr/bin/env bash\n" + nvidia_smi + "\n")
        tool.chmod(0o755)
    path = f"{bindir}:/usr/bin:/bin"
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/onnxruntime_build.sh")],
        capture_output=True,
        text=True,
        env={"PATH": path, **(env or {})},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_setup_picks_the_gpu_build_only_when_nvidia_smi_lists_a_gpu(tmp_path):
    one = 'echo "GPU 0: NVIDIA H200 (UUID: GPU-1234)"'
    assert _build_choice(tmp_path / "a", one) == "gpu"
    assert _build_choice(tmp_path / "b", None) == "cpu"  # no nvidia-smi
    assert _build_choice(tmp_path / "c", 'echo "NVIDIA-SMI has failed"; exit 9') == "cpu"  # no driver
    assert _build_choice(tmp_path / "d", one, {"POSEBENCH_ORT": "cpu"}) == "cpu"


def test_setup_installs_exactly_one_onnxruntime_build():
    script = (ROOT / "scripts/setup.sh").read_text()
    assert "requirements-gpu.txt" in script and "exactly one ONNX Runtime build" in script
    gpu = [ln for ln in (ROOT / "requirements-gpu.txt").read_text().splitlines() if ln and ln[0] != "#"]
    assert [ln for ln in gpu if ln.startswith("onnxruntime")] == ["onnxruntime-gpu==1.31.1"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[^\s=]+", ln) for ln in gpu)
    required = [ln for ln in requirement_lines() if ln.lower().startswith("onnxruntime")]
    assert required == ["onnxruntime==1.32.0"]
    installed = {
        d.metadata["Name"].lower()
        for d in importlib.metadata.distributions()
        if (d.metadata["Name"] or "").lower() in ("onnxruntime", "onnxruntime-gpu")
    }
    assert len(installed) == 1, installed  # they share the module name `onnxruntime`


def test_openvino_is_an_installed_engine():
    required = {ln.split("==")[0] for ln in requirement_lines()}
    assert {"openvino", "openvino-telemetry"} <= required
    assert importlib.metadata.version("openvino") == "2026.4.1"
