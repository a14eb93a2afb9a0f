"""Probes: on a shared server a study is shared read-only like a run.

Alice has two studies; she shares one with Bob by name. Bob sees it in his Study page's list
as "… · shared by alice", can open its results, and cannot change it (speed measurement,
event search, sharing, deletion are refused and audited); Alice's other study, and both of
them for Carol, stay invisible. Checked in the engine and with two signed-in AppTest sessions.
Nothing is run: the studies' rows are written as a finished study would have them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import goto
from posebench.access import accounts
from posebench.core.errors import InputError
from posebench.dashboard import auth, job_registry
from posebench.store import audit, owners
from posebench.studies import sharing, study_folder

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")
ALICE, BOB, CAROL = owners.Viewer("alice"), owners.Viewer("bob"), owners.Viewer("carol")
SHARED_ENTRY = sharing.entry("cmj-a", "alice")


def _row(clip: study_folder.StudyClip, backend: str, flight: float, key: str) -> dict:
    return {
        "key": key,
        "clip": clip.name,
        "sha256": clip.sha256,
        "backend": backend,
        "status": "ok",
        "error": "",
        "flight_time_s": flight,
        "jump_height_m": 9.81 * flight**2 / 8,
        "takeoff_frame": 10.0,
        "landing_frame": 10.0 + flight * 30,
        "fps_clip": 30.0,
        "fps": 20.0,
        "host": "h",
        "detection_rate": 1.0,
    }


def _study(root: Path, name: str, tmp: Path) -> Path:
    """A finished two-clip study of Alice's in ``root`` (her studies folder), owner recorded."""
    from posebench.store import references

    clips = []
    for i in range(2):
        path = tmp / f"{name}-{i}.mp4"
        path.write_bytes(f"clip {name} {i}".encode())
        ref = references.ClipReference(path.name, "", "cmj", flight_time_s=0.5 + i / 10)
        clips.append(study_folder.make_clip(path, path.name, reference=ref))
    study = study_folder.Study(name, clips, ["mediapipe-lite", "rtmpose-lightweight"], min_clips=2)
    folder = study_folder.save_definition(study, root)
    owners.write(folder, owners.Access("alice"))
    for job in study.jobs():
        clip = next(c for c in clips if c.sha256 == job.clip_sha256)
        flight = clip.reference.flight_time_s + (0.01 if job.backend.startswith("rtm") else 0)
        study_folder._append_row(folder, _row(clip, job.backend, flight, job.key))
    cache = study_folder.cached_rows(folder)
    study_folder.tables(study, [cache[j.key] for j in study.jobs()], folder)
    return folder


@pytest.fixture
def alices_studies(results_root, tmp_path):
    root = sharing.root_of("alice", results_root)
    shared = _study(root, "cmj-a", tmp_path)
    private = _study(root, "secret", tmp_path)
    return shared, private


def _log(root):
    return [(e["user"], e["action"], e["target"]) for e in audit.read(root)]


def test_a_study_is_shared_read_only_with_named_users(alices_studies, results_root):
    shared, private = alices_studies
    assert not len(sharing.shared_with(BOB, results_root))  # nothing shared yet: invisible
    with pytest.raises(InputError, match="no saved study named cmj-a that you can open"):
        sharing.locate(BOB, SHARED_ENTRY, results_root)

    opened = sharing.locate(ALICE, "cmj-a", results_root)
    assert opened.mine and opened.folder == shared
    sharing.set_sharing(ALICE, opened, False, owners.parse_readers("bob, alice", "alice"), results_root)
    assert owners.read(shared) == owners.Access("alice", False, ("bob",))

    listed = sharing.visible_studies(BOB, results_root)
    assert list(listed["study_id"]) == [SHARED_ENTRY]  # "secret" stays invisible
    assert not len(sharing.visible_studies(CAROL, results_root))  # shared with Bob only
    with pytest.raises(InputError, match="that you can open"):
        sharing.locate(CAROL, SHARED_ENTRY, results_root)
    with pytest.raises(InputError, match="that you can open"):
        sharing.locate(BOB, sharing.entry("secret", "alice"), results_root)

    theirs = sharing.locate(BOB, SHARED_ENTRY, results_root)
    assert not theirs.mine and theirs.owner == "alice"
    assert len(study_folder.open_result(theirs.study_id, theirs.root).clips) == 4  # he reads its results
    before = sorted((p.name, p.stat().st_mtime_ns) for p in shared.iterdir())
    for change in (
        lambda: sharing.set_sharing(BOB, theirs, True, (), results_root),
        lambda: sharing.delete(BOB, theirs, results_root),
        lambda: sharing.require_change(BOB, theirs.folder, "add-clips", results_root),
    ):
        with pytest.raises(InputError, match="only the owner of study cmj-a"):
            change()
    assert sorted((p.name, p.stat().st_mtime_ns) for p in shared.iterdir()) == before
    assert owners.read(shared).readers == ("bob",)

    log = _log(results_root)
    assert log[0] == ("alice", "study-share", "cmj-a")
    assert audit.read(results_root)[0]["readers"] == ["bob"]
    assert log[1:] == [("bob", "study-change-refused", "cmj-a")] * 3
    assert [e["tried"] for e in audit.read(results_root)[1:]] == ["share", "delete", "add-clips"]

    sharing.set_sharing(ALICE, opened, False, (), results_root)  # unshared again: gone for Bob
    assert not len(sharing.visible_studies(BOB, results_root))
    assert _log(results_root)[-1] == ("alice", "study-unshare", "cmj-a")
    sharing.delete(ALICE, sharing.locate(ALICE, "secret", results_root), results_root)
    assert not private.exists() and _log(results_root)[-1] == ("alice", "study-delete", "secret")


def test_a_damaged_or_hostile_access_record_shares_nothing(alices_studies, results_root):
    shared, _private = alices_studies
    (shared / owners.ACCESS_FILE).write_text('{"owner": "alice", "readers": ["bob", "../x", 3]}')
    assert owners.read(shared).readers == ("bob",)
    (shared / owners.ACCESS_FILE).write_text('{"owner": "alice", "readers": "bob"}')
    assert not len(sharing.visible_studies(BOB, results_root))
    (shared / owners.ACCESS_FILE).write_text('{"owner": "bob", "shared": true}')  # not hers: not listed
    assert not len(sharing.visible_studies(BOB, results_root))
    assert not len(sharing.visible_studies(CAROL, results_root))
    with pytest.raises(InputError, match="is not a user name"):
        owners.parse_readers("bob, <img src=x>")


def _session(user: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[auth.USER_KEY] = user
    at.run()
    return goto(at, "study").run()


def test_bob_sees_alices_shared_study_read_only_on_the_study_page(
    alices_studies, results_root, monkeypatch, tmp_path
):
    shared, _private = alices_studies
    monkeypatch.setenv("POSEBENCH_MODE", "shared")
    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(tmp_path / "accounts.json"))
    for name in ("alice", "bob"):
        accounts.add(name, f"{name}-password-1", tmp_path / "accounts.json")
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    job_registry.registry.clear()

    alice = _session("alice")
    assert not alice.exception
    assert set(alice.selectbox(key="study-open").options) == {"cmj-a", "secret"}
    alice.selectbox(key="study-open").set_value("cmj-a").run()
    alice.text_input(key="study-readers-cmj-a").input("bob").run()  # her share control
    assert not alice.exception
    assert not [e.value for e in alice.error if "owner" in e.value or "user name" in e.value]
    assert owners.read(shared).readers == ("bob",)

    bob = _session("bob")
    assert not bob.exception
    assert bob.selectbox(key="study-open").options == [SHARED_ENTRY]  # marked; "secret" invisible
    captions = [c.value for c in bob.caption]
    assert "Shared with you by alice, read-only." in captions
    assert any(s.value == "Study cmj-a" for s in bob.subheader)  # its results open for him
    assert not [t for t in bob.toggle if t.key and t.key.startswith("study-share")]  # no share control
    assert bob.button(key="events-search").disabled
    before = sorted((p.name, p.stat().st_mtime_ns) for p in shared.rglob("*"))
    bob.button(key="study-speed-measure").click().run()  # not disabled on the page: refused
    assert any("only the owner of study cmj-a may change or delete it" in e.value for e in bob.error)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in shared.rglob("*")) == before
    assert ("bob", "study-change-refused", "cmj-a") in _log(results_root)
    assert ("alice", "study-share", "cmj-a") in _log(results_root)
