"""What the command line prints: native log noise filtered, numbers with their meaning."""

from __future__ import annotations

import subprocess
import sys

import pytest

import commands
from conftest import RUNNING

pytestmark = pytest.mark.timeout(300)

WRITE_TO_FD2 = r"""
import os, sys
from posebench.io import native_log
t = native_log.filter_stderr()
os.write(2, b"W0000 00:00:1795475370.082676   11690 inference_feedback_manager.cc:121] Feedback manager\n")
os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
os.write(2, b"E0000 00:00:1795475370.1 1 real_failure.cc:1] kept: errors pass\n")
print("error: a sentence for the user", file=sys.stderr)
native_log.stop(t)
"""


def test_native_log_noise_is_dropped_and_everything_else_kept():
    out = subprocess.run([sys.executable, "-c", WRITE_TO_FD2], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "Feedback manager" not in out.stderr and "XNNPACK" not in out.stderr
    assert "kept: errors pass" in out.stderr
    assert "error: a sentence for the user" in out.stderr


@pytest.mark.integration
def test_cli_run_prints_no_native_noise_and_rates_as_percent(tmp_path):
    out = commands.run(
        [
            sys.executable,
            "-m",
            "posebench",
            "run",
            str(RUNNING),
            "-b",
            "mediapipe-lite",
            "--frames",
            "15",
            "--warmup",
            "2",
            "--out",
            str(tmp_path),
        ],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "W0000" not in out.stderr and "XNNPACK" not in out.stderr
    assert "%" in out.stdout.splitlines()[2]  # the mediapipe-lite row: rates in percent
    assert "the first 2 are warm-up" in out.stdout


def test_stderr_works_again_after_the_command_line_returns():
    code = (
        "from posebench import cli\n"
        "for _ in range(2):\n"
        "    cli.main(['models', 'fetch', 'no-such-model'])\n"
        "import sys; print('still here', file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.count("unknown model 'no-such-model'") == 2
    assert "still here" in out.stderr
