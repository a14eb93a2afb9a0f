"""Probes: a run saved into a full folder fails with a sentence and leaves nothing listed.

In-process, the disk fills while the run's arrays are written (``ENOSPC``). Through the
command line, ``posebench runs import`` runs under a file-size limit (``RLIMIT_FSIZE``, the
kernel's own refusal, ``EFBIG``): one line, exit status 2, nothing in the results folder.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys

import numpy as np
import pytest

from posebench.core.errors import BenchError
from posebench.dashboard import run_transfer
from posebench.store import run_store
from test_imports import ROOT

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    from test_dashboard import fake_run

    return fake_run(tmp_path_factory.mktemp("run"), "20250111-000000-full", frames=30, warmup=1)


def test_a_full_disk_while_saving_is_one_sentence_and_nothing_is_listed(made, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    root = tmp_path / "results"
    with pytest.raises(BenchError) as caught:
        run_store.save(made, root, owner="alice")
    assert str(caught.value) == (
        "the run 20250111-000000-full could not be saved in the results folder results: the disk is "
        "full; nothing of it was kept"
    )
    assert list(root.iterdir()) == [] and run_store.list_runs(root).empty


def _limited(limit_bytes: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def test_the_cli_says_why_an_import_could_not_be_saved(made, tmp_path):
    folder = run_store.save(made, tmp_path / "elsewhere")
    zipped = tmp_path / "run.zip"
    zipped.write_bytes(run_transfer.zip_run(folder))
    frames_bytes = (folder / "frames.csv").stat().st_size
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "posebench", "runs", "import", str(zipped), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(tmp_path)},
        preexec_fn=_limited(frames_bytes // 2),
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: run.zip could not be imported: a file would be larger")
    assert lines[0].endswith("nothing of it was kept.")
    assert not out.exists() or run_store.list_runs(out).empty
    assert not [p for p in tmp_path.glob("posebench-import-*")]  # the unpacked copy is gone too
