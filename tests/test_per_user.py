"""Probes: on a shared server references belong to a user, like runs.

Alice and Bob each have a run of the same clip (one SHA-256). Alice saves a reference with
hers; Bob's run does not see it, Bob's "Remove" cannot delete it, Bob cannot change it through
Alice's shared run, and every change is in the audit log. Checked in the engine and on the
Scorecard page with two signed-in sessions (AppTest).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, goto
from posebench.access import accounts
from posebench.core.errors import InputError
from posebench.dashboard import auth, job_registry
from posebench.store import audit, owners, references, run_store, sidecars

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")
ALICE, BOB = owners.Viewer("alice"), owners.Viewer("bob")
HERS = {"takeoff_frame": 10, "landing_frame": 20, "source": "alice's mat"}


@pytest.fixture
def two_runs(results_root, tmp_path):
    from test_dashboard import fake_run

    alice = fake_run(tmp_path, "20250108-000000-alice", frames=6, warmup=1)
    bob = fake_run(tmp_path, "20250108-000000-bob", frames=6, warmup=1)
    assert alice.clip.sha256 == bob.clip.sha256
    run_store.save(alice, results_root, owner="alice", shared=True)
    run_store.save(bob, results_root, owner="bob")
    return run_store.load(results_root / alice.run_id), run_store.load(results_root / bob.run_id)


def test_a_reference_belongs_to_its_user(two_runs, results_root):
    alice_run, bob_run = two_runs
    sidecars.save_reference(alice_run, HERS, by=ALICE)
    assert sidecars.load_reference(alice_run)["source"] == "alice's mat"
    assert sidecars.load_reference(bob_run) is None  # the same clip, Bob's own run: not hers
    sidecars.save_reference(bob_run, None, by=BOB)  # Bob's "Remove" on his run
    assert sidecars.load_reference(alice_run)["landing_frame"] == 20
    with pytest.raises(InputError, match="only the owner of run 20250108-000000-alice"):
        sidecars.save_reference(alice_run, None, by=BOB)  # through her shared run
    with pytest.raises(InputError, match="only the owner"):
        sidecars.save_reference(alice_run, {**HERS, "landing_frame": 30}, by=BOB)
    assert sidecars.load_reference(alice_run)["landing_frame"] == 20
    assert references.load(results_root) == {}  # nothing in the single-user store
    assert references.get(alice_run.clip.sha256, references.root_of("alice", results_root)) is not None
    sidecars.save_reference(bob_run, {"flight_time_s": 0.5}, by=BOB)
    assert sidecars.load_reference(alice_run)["source"] == "alice's mat"
    log = [(e["user"], e["action"], e["target"]) for e in audit.read(results_root)]
    assert log == [
        ("alice", "reference-save", alice_run.run_id),
        ("bob", "reference-remove", bob_run.run_id),
        ("bob", "reference-save", bob_run.run_id),
    ]


def _session(user: str, run) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[auth.USER_KEY] = user
    at.session_state["current_run"] = run
    at.run()
    return goto(at, "scorecard").run()


def test_bob_neither_sees_nor_removes_alices_reference_on_the_scorecard(two_runs, monkeypatch, tmp_path):
    monkeypatch.setenv("POSEBENCH_MODE", "shared")
    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(tmp_path / "accounts.json"))
    for name in ("alice", "bob"):  # a session of an account that does not exist ends at once
        accounts.add(name, f"{name}-password-1", tmp_path / "accounts.json")
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    job_registry.registry.clear()
    alice_run, bob_run = two_runs
    sidecars.save_reference(alice_run, HERS, by=ALICE)
    alice = _session("alice", alice_run)
    bob = _session("bob", bob_run)
    assert not alice.exception and not bob.exception
    expanders = lambda at: [e.label for e in at.expander]  # noqa: E731
    assert any("Reference for this clip:" in e and "alice" in e for e in expanders(alice))
    assert any("Reference for this clip (none yet)" in e for e in expanders(bob))
    # Bob's own run has no Remove button (nothing of his to remove); hers is read-only to him
    assert not [b for b in bob.button if b.key and b.key.endswith("-remove")]
    bob.session_state["current_run"] = alice_run
    bob.run()
    removes = [b for b in bob.button if b.key and b.key.endswith("-remove")]
    assert removes and all(b.disabled for b in removes)
    assert sidecars.load_reference(alice_run)["landing_frame"] == 20
