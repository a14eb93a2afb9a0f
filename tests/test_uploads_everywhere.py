"""A clip uploaded once is offered on every page that takes a clip, to its user only.

The Study page's upload is offered on the Clip page (and so chosen for Run, Compare, Accuracy
and Live); the Clip page's upload on the Study page; on a shared server another user's uploads
are never offered. AppTest over app.py with the content check of a real upload.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, RUNNING, goto
from posebench.access import accounts
from posebench.dashboard import auth, job_registry
from posebench.store import owners

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")
MINE = f"{RUNNING.name} (your upload)"


@pytest.fixture
def server(results_root, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS / "jumps"))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    job_registry.registry.clear()  # the server's uploads of earlier tests are nobody's here
    return results_root


def session(user: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if user:
        at.session_state[auth.USER_KEY] = user
    at.run()
    assert not at.exception
    return at


def upload_on_the_study_page(at: AppTest) -> AppTest:
    goto(at, "study").run()
    box = next(u for u in at.file_uploader if u.label == "Or upload clips")
    box.upload(RUNNING.name, RUNNING.read_bytes(), "video/mp4")
    at.run()
    at.button(key="study-add").click().run()
    assert not at.exception
    assert any("References for 1 clips" in s.value for s in at.subheader)
    return at


def clip_page_offer(at: AppTest) -> list[str]:
    goto(at, "clip").run()
    at.radio(key="clip-source").set_value("Your uploads or a sample").run()
    assert not at.exception
    return list(at.selectbox(key="clip-pick").options)


def test_a_clip_uploaded_on_the_study_page_is_offered_on_the_clip_page_and_runs_there(server):
    at = upload_on_the_study_page(session())
    options = clip_page_offer(at)
    assert options[0] == MINE and sum(o == MINE for o in options) == 1
    kept = job_registry.registry().latest_upload(owners.LOCAL)  # single-user mode: one user
    at.selectbox(key="clip-pick").set_value(str(kept.path)).run()
    assert not at.exception
    assert at.session_state["clip_upload"] is kept  # chosen as an upload: its name, its SHA-256
    assert at.session_state["clip_info"].name == RUNNING.name
    goto(at, "run").run()  # the Run page (and every page after it) takes it
    assert not at.exception
    assert any(RUNNING.name in c.value for c in at.caption)
    # the study's copy is the study's: choosing another clip deletes nothing
    assert MINE in clip_page_offer(at)
    sample = sorted((CLIPS / "jumps").glob("*.mp4"))[0]
    at.selectbox(key="clip-pick").set_value(str(sample)).run()
    assert at.session_state["clip_path"] == str(sample)
    assert Path(kept.path).exists()
    # ... and the Study page offers it back once, not twice
    goto(at, "study").run()
    assert at.multiselect(key="study-public").options.count(MINE) == 1


def test_uploads_are_offered_to_their_user_only(server, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_MODE", "shared")
    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(tmp_path / "accounts.json"))
    for name in ("alice", "bob"):
        accounts.add(name, f"{name}-password-1", tmp_path / "accounts.json")
    upload_on_the_study_page(session("alice"))
    assert MINE in clip_page_offer(session("alice"))  # her other tab
    assert MINE not in clip_page_offer(session("bob"))
    bob_study = goto(session("bob"), "study").run()
    assert MINE not in bob_study.multiselect(key="study-public").options
    assert job_registry.registry().uploads("bob") == []
