"""Probes: costly parsing of what a person hands in happens outside the server process.

``engine.isolated`` runs the parse in a short-lived worker process with a memory and a time
limit: a parse that needs too much memory, one that hangs and one that crashes each end with
one sentence, and the server process does not grow. On the pages: a references CSV imported on
the Study page and COCO annotations scored on the Accuracy page are parsed there; a COCO file
that needs 1.5 GB of memory to parse (60 MB of ``{}``) is refused under a 512 MB budget while
the server grows by less than 200 MB.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, goto
from posebench.core.errors import InputError
from posebench.dashboard import job_registry, parsing
from posebench.engine import isolated
from posebench.store import references
from test_accuracy import lab_coco  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")
MB = 1024**2


def greedy(size_mb: int) -> int:
    """A parse that needs ``size_mb`` of memory."""
    block = bytearray(size_mb * MB)
    return len(block)


def hangs(seconds: float) -> None:
    time.sleep(seconds)


def crashes() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def pid() -> int:
    return os.getpid()


def test_a_parse_runs_in_another_process_and_each_failure_is_one_sentence(monkeypatch):
    assert isolated.call(pid, {}, "x.csv") != os.getpid()
    assert isolated.call(greedy, {"size_mb": 64}, "x.csv", memory_bytes=512 * MB) == 64 * MB
    before = psutil.Process().memory_info().rss
    with pytest.raises(InputError) as info:
        isolated.call(greedy, {"size_mb": 1024}, "huge.json", memory_bytes=512 * MB)
    assert str(info.value) == (
        "Reading huge.json needs more memory than this server allows for one file (512 MB); "
        "it was stopped, and nothing of it was kept."
    )
    assert (psutil.Process().memory_info().rss - before) / MB < 200
    with pytest.raises(InputError, match=r"^Reading slow.csv took longer than 2 s, so it was stopped"):
        isolated.call(hangs, {"seconds": 120}, "slow.csv", timeout=2)
    with pytest.raises(InputError, match=r"^Reading bad.json ended the separate process .*SIGSEGV"):
        isolated.call(crashes, {}, "bad.json")


def test_a_references_file_is_parsed_in_the_worker(tmp_path):
    text = "clip,sha256,kind,flight_time_s\na.mp4," + "a" * 64 + ",cmj,0.5\n"
    rows = parsing.reference_rows(text.encode(), "refs.csv")
    assert [(r.clip, r.flight_time_s) for r in rows] == [("a.mp4", 0.5)]
    with pytest.raises(InputError, match="line 2"):  # the worker's own sentence, as it said it
        parsing.reference_rows(text.replace("0.5", "-3").encode(), "refs.csv")
    with pytest.raises(InputError, match=r"wide\.csv is refused: the header line"):  # capped before
        parsing.reference_rows(b"x," * 20_000 + b"\n", "wide.csv")
    assert references.save_rows(rows, tmp_path)[0].sha256 == "a" * 64


def test_the_accuracy_page_parses_costly_annotations_outside_the_server(results_root, tmp_path, monkeypatch):
    from test_dashboard import fake_run
    from test_image_limits import png_header

    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    monkeypatch.setenv("POSEBENCH_PARSE_MEMORY_MB", "512")
    job_registry.registry.clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["current_run"] = fake_run(tmp_path, "20250112-000000-heavy", frames=8, warmup=1)
    at.run()
    goto(at, "accuracy").run()
    assert not at.exception
    heavy = b'{"images": [], "annotations": [], "filler": [' + b"{}," * (20 * MB) + b"{}]}"
    at.file_uploader(key="acc-ann").upload("ann.json", heavy, "application/json")
    at.file_uploader(key="acc-images").upload("a.png", png_header(64, 64), "image/png")
    at.run()
    before = psutil.Process().memory_info().rss
    at.button(key="acc-score").click().run()
    grown_mb = (psutil.Process().memory_info().rss - before) / MB
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Reading the annotated images needs more memory") for e in errors), errors
    assert grown_mb < 200, grown_mb
    nested = "[" * 100_000 + "]" * 100_000
    deep = json.dumps({"images": [], "annotations": []})[:-1] + ', "x": ' + nested + "}"
    at.file_uploader(key="acc-ann").upload("deep.json", deep.encode(), "application/json")
    at.run()
    at.button(key="acc-score").click().run()
    errors = [e.value for e in at.error]
    assert any(re.search(r"nests \d+ levels deep, more than 32", e) for e in errors), errors


@pytest.mark.integration
def test_real_models_score_annotations_in_the_worker_within_its_memory_budget(lab_coco):  # noqa: F811
    """The Accuracy page's scoring (both model families, loaded in the worker) fits the
    default address-space budget and scores every annotation (as ``test_accuracy`` does in
    the process itself)."""
    images, path = lab_coco
    summary, per_landmark = parsing.score_annotations(
        images, path, ["mediapipe-full", "rtmpose-lightweight"], "the annotated images"
    )
    assert summary["backend"].tolist() == ["mediapipe-full", "rtmpose-lightweight"]
    for _, row in summary.iterrows():
        assert row["error"] == ""
        assert row["annotations"] == 2 and row["keypoints"] == 18 and row["found"] == 1.0
    assert len(per_landmark)
