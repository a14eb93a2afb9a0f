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
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0


def test_ci_entry_point_is_executable_and_runs_make_test():
    run = ROOT / ".ci" / "run"
    assert os.access(run, os.X_OK)
    assert "set -euo pipefail" in run.read_text() and "make test" in run.read_text()


def test_make_test_treats_no_tests_as_failure():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "-eq 5" in recipe and "exit 1" in recipe
