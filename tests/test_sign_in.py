"""Probes: sign-in on a shared server (local accounts).

Throttling is the server's, per account and per client, with growing delays: 30 wrong
passwords, each from a new session (a reload), are mostly refused unheard, and the right
password too while the delay runs. Sign-in, failures, lockouts, refusals and sign-out are in
the audit log. A removed account's open session ends at its next interaction. An import never
says whether another user's private run id exists. A shared link opened signed out opens its
run after signing in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, goto
from posebench.access import accounts, import_runs, throttle
from posebench.core.errors import InputError
from posebench.dashboard import auth, job_registry, run_transfer
from posebench.store import audit, run_store

pytestmark = [pytest.mark.timeout(600)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")
PASSWORD = "carol-password-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttle, "SIGN_IN", throttle.Throttle(clock))
    monkeypatch.setattr(auth, "client_id", lambda: "10.0.0.9")  # every AppTest session: one browser
    return clock


@pytest.fixture
def server(results_root, tmp_path, monkeypatch, clock):
    accounts_file = tmp_path / "accounts.json"
    for name in ("carol", "dave"):
        accounts.add(name, PASSWORD if name == "carol" else "dave-password-1", accounts_file)
    monkeypatch.setenv("POSEBENCH_MODE", "shared")
    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(accounts_file))
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    job_registry.registry.clear()
    return accounts_file


def try_sign_in(name: str, password: str, at: AppTest | None = None) -> AppTest:
    """One try from a fresh session (a reload) unless ``at`` is given."""
    if at is None:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
    at.text_input(key="auth-name").set_value(name)
    at.text_input(key="auth-password").set_value(password)
    return at.button[0].click().run()  # the form's Sign in


def test_delays_grow_per_account_and_per_client(clock):
    gate = throttle.Throttle(clock)
    mallory = throttle.keys("Carol", "10.0.0.9")
    waits = [gate.failed(mallory) for _ in range(9)]
    assert waits == [0, 0, 0, 0, 10, 20, 40, 80, 160]
    assert gate.wait_s(throttle.keys("carol", "10.0.0.1")) == 160  # the account, from anywhere
    assert gate.wait_s(throttle.keys("erin", "10.0.0.9")) == 160  # the client, any name
    assert gate.wait_s(throttle.keys("erin", "10.0.0.1")) == 0
    clock.now += 161
    assert gate.wait_s(mallory) == 0
    assert gate.failed(mallory) == 320 and throttle.delay_after(30) == throttle.MAX_S
    gate.succeeded(mallory)
    assert gate.wait_s(mallory) == 0 and gate.failures(("account", "carol")) == 0
    clock.now += 10
    for i in range(throttle.MAX_KEYS + 50):  # a spray of made-up names stays bounded
        gate.failed([("account", f"nobody-{i}")])
    assert len(gate._entries) <= throttle.MAX_KEYS


def test_thirty_wrong_passwords_across_reloads_are_throttled_and_logged(server, results_root, clock):
    answers = [try_sign_in("carol", f"wrong-{i}") for i in range(30)]
    errors = [at.error[0].value for at in answers]
    assert all("do not match an account" in e for e in errors[:4])
    assert "do not match" in errors[4] and "heard in 10 s" in errors[4]  # the 5th starts the wait
    assert all(e.startswith("Too many wrong passwords") for e in errors[5:])  # 25 refused unheard
    right = try_sign_in("carol", PASSWORD)  # the right password, still waiting: refused too
    assert right.error and right.error[0].value.startswith("Too many wrong passwords")
    assert auth.USER_KEY not in right.session_state
    other = try_sign_in("dave", "dave-password-1")  # from the same client (every AppTest is one)
    assert other.error and other.error[0].value.startswith("Too many wrong passwords")
    actions = [e["action"] for e in audit.read(results_root)]
    assert actions.count("sign-in-failed") == 5 and actions.count("sign-in-locked") == 1
    assert actions.count("sign-in-refused") == 27
    clock.now += 11  # the wait is over: the right password is heard, and a second chance grows
    signed = try_sign_in("carol", PASSWORD)
    assert not signed.error and signed.session_state[auth.USER_KEY] == "carol"
    assert audit.read(results_root)[-1]["action"] == "sign-in"


def test_unknown_names_are_answered_like_real_ones(server, clock):
    for name in ("carol", "no-such-user"):
        answers = [try_sign_in(name, "wrong-password") for _ in range(6)]
        assert [a.error[0].value for a in answers][-1].startswith("Too many wrong passwords")
        assert "do not match an account" in answers[0].error[0].value
        throttle.SIGN_IN.succeeded(throttle.keys(name, auth.client_id()))


def test_sign_out_is_logged_and_a_removed_account_ends_at_the_next_interaction(server, results_root):
    at = try_sign_in("carol", PASSWORD)
    assert at.session_state[auth.USER_KEY] == "carol"
    at.sidebar.button(key="auth-sign-out").click().run()
    assert auth.USER_KEY not in at.session_state
    assert [e["action"] for e in audit.read(results_root)][-2:] == ["sign-in", "sign-out"]
    at = try_sign_in("carol", PASSWORD)
    goto(at, "results").run()
    assert not at.exception and at.session_state[auth.USER_KEY] == "carol"
    accounts.remove("carol", server)  # `posebench users remove carol` while her tab is open
    at.run()
    assert auth.USER_KEY not in at.session_state
    assert at.text_input(key="auth-name") is not None  # the sign-in form, nothing else
    ended = audit.read(results_root)[-1]
    assert ended["action"] == "session-ended" and ended["user"] == "carol"


def test_an_import_never_says_whether_another_users_run_id_exists(results_root, tmp_path):
    from test_dashboard import fake_run

    made = fake_run(tmp_path, "20250109-000000-private", frames=4, warmup=1)
    private = run_store.save(made, results_root, "carol")
    zipped = tmp_path / "theirs.zip"
    zipped.write_bytes(run_transfer.zip_run(private))
    mine = import_runs.import_run(zipped, results_root, owner="dave")  # no "exists already"
    assert mine.name != private.name and run_store.read_meta(mine)["imported_from"] == private.name
    with pytest.raises(InputError, match=f"you have this run already, as {mine.name}"):
        import_runs.import_run(zipped, results_root, owner="dave")
    with pytest.raises(InputError, match=f"you have this run already, as {private.name}"):
        import_runs.import_run(zipped, results_root, owner="carol")
    fresh = import_runs.import_run(zipped, results_root, owner="erin")  # a third user: the same answer
    assert fresh.name not in (mine.name, private.name)


def test_a_shared_link_opened_signed_out_opens_its_run_after_sign_in(server, results_root, tmp_path):
    from test_dashboard import fake_run

    run = fake_run(tmp_path, "20250110-000000-linked", frames=4, warmup=1)
    run_store.save(run, results_root, owner="dave", shared=True)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = run.run_id
    at.run()
    assert not at.exception and "current_run" not in at.session_state
    at = try_sign_in("carol", PASSWORD, at)
    assert not at.exception
    assert at.session_state["current_run"].run_id == run.run_id
