"""Shared-server mode in a real browser: two signed-in users (local accounts), each with runs.

Neither can see, open, download or delete the other's unshared runs or uploaded clip; a run
shared with everyone is read-only to the other (no delete, no saving settings, no clip); a
study shared with a named user is listed for them only, read-only;
a configuration label and a clip name made of markdown show as literal text.
Screenshots (1280x800) go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from browser_support import (
    ARTIFACTS,
    VIEWPORT,
    app_env,
    chromium,
    go,
    need_chromium,
    no_exceptions,
    settled,
    streamlit_app,
)
from conftest import CLIPS, RUNNING, FakeBackend
from posebench import backends
from posebench.access import accounts
from posebench.backends import backend_config
from posebench.engine.runner import run_benchmark
from posebench.store import audit, run_store
from posebench.store.run_record import RunOptions

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

MARKDOWN = "![p](http://127.0.0.1:9/x.png) [phish](http://127.0.0.1:9/)"
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}


def _run(run_id: str, label: str, clip_name: str, clip_path: str):
    config = backend_config.override(backend_config.parse("mediapipe-lite"), {"label": label})
    original = backends.create
    backends.create = lambda c, cache=None: FakeBackend(c.display)
    try:
        run = run_benchmark(
            str(RUNNING), [config, "rtmpose-lightweight"], RunOptions(max_frames=6, warmup=1), run_id=run_id
        )
    finally:
        backends.create = original
    run.clip = replace(run.clip, name=clip_name, path=clip_path)
    return run


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    need_chromium()
    base = tmp_path_factory.mktemp("shared")
    results_dir, uploads_dir = base / "results", base / "uploads"
    uploads_dir.mkdir()
    accounts_file = base / "accounts.json"
    for name, password in PASSWORDS.items():
        accounts.add(name, password, accounts_file)
    # Alice's uploaded clip sits in the upload folder, as a real upload would.
    alice_clip = uploads_dir / "upload-alice.mp4"
    shutil.copy(RUNNING, alice_clip)
    for run_id, owner, shared, label, name in (
        ("20250101-000000-aliceprivate", "alice", False, "mediapipe-lite", "alice-secret.mp4"),
        ("20250102-000000-aliceshared", "alice", True, MARKDOWN, MARKDOWN + ".mp4"),
        ("20250103-000000-bobprivate", "bob", False, "mediapipe-lite", "bob.mp4"),
    ):
        run_store.save(_run(run_id, label, name, str(alice_clip)), results_dir, owner=owner, shared=shared)
    env = app_env(
        results_dir,
        POSEBENCH_MODE="shared",
        POSEBENCH_ACCOUNTS=accounts_file,
        POSEBENCH_UPLOADS=uploads_dir,
        POSEBENCH_CLIP_DIRS=CLIPS,
    )
    with streamlit_app(env, base / "streamlit.log") as url:
        yield url, results_dir


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def sign_in(browser, url: str, name: str, shot: str | None = None):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(180_000)  # a loaded 2-core machine can take minutes per page
    page.goto(url)
    page.wait_for_selector("text=sign in with the account")
    settled(page)  # the first paint may still list the pages folder: wait for the script's end
    assert page.get_by_test_id("stSidebarNav").count() == 0  # no page before signing in
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=do not match an account")
    if shot:
        page.screenshot(path=ARTIFACTS / shot)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Work through the pages")
    page.wait_for_selector(f"text=Signed in as {name}")
    return page


def run_options(page) -> list[str]:
    """The run ids the 'Runs to act on' picker offers (the runs this user can see)."""
    box = page.get_by_test_id("stMultiSelect")
    picked = re.findall(r"\d{8}-\d{6}-[a-z]+", box.inner_text())
    box.get_by_role("button", name="Open").click()  # the arrow, not a picked chip
    page.get_by_role("option").first.wait_for()
    options = re.findall(r"\d{8}-\d{6}-[a-z]+", " ".join(page.get_by_role("option").all_inner_texts()))
    page.keyboard.press("Escape")
    return sorted(set(picked + options))


def pick(page, run_id: str) -> None:
    box = page.get_by_test_id("stMultiSelect")
    for _ in range(5):  # clear what is picked
        clear = box.get_by_role("button", name="Clear all")
        if clear.count() == 0:
            break
        clear.first.click()
    box.get_by_role("button", name="Open").click()  # the arrow, not a picked chip
    page.get_by_role("option", name=run_id).click()
    page.keyboard.press("Escape")
    page.wait_for_selector(f"text=Take away: {run_id}")
    settled(page)  # the rerun after picking has ended: what it hides is gone, not merely stale


def test_two_users_see_only_their_own_and_shared_runs(shared_server, browser):
    url, results_dir = shared_server
    ARTIFACTS.mkdir(exist_ok=True)
    bob = sign_in(browser, url, "bob", shot="browser-shared-sign-in.png")
    alice = sign_in(browser, url, "alice")

    # Bob sees his run and Alice's shared one, never Alice's private one.
    go(bob, "Results")
    assert run_options(bob) == ["20250102-000000-aliceshared", "20250103-000000-bobprivate"]
    go(alice, "Results")
    assert run_options(alice) == ["20250101-000000-aliceprivate", "20250102-000000-aliceshared"]

    # The shared run is read-only to Bob: no delete, no sharing switch; downloads hold no path.
    pick(bob, "20250102-000000-aliceshared")
    bob.wait_for_selector("text=Shared with you by alice, read-only")
    assert bob.get_by_role("button", name="Delete…").is_disabled()
    assert bob.get_by_text("Shared with everyone (read-only)").count() == 0
    assert bob.get_by_role("button", name="Make the overlay video").is_disabled()  # not his clip
    with bob.expect_download() as download:
        bob.get_by_role("button", name="Run JSON").click()
    meta = json.loads(Path(download.value.path()).read_text())
    assert meta["clip"]["path"] == "" and "upload-alice" not in json.dumps(meta)
    bob.locator(".st-key-results-open button").first.click()
    bob.wait_for_selector("text=Opened 20250102-000000-aliceshared")
    no_exceptions(bob)
    bob.screenshot(path=ARTIFACTS / "browser-shared-results.png")

    # Compare: Alice's uploaded clip is never shown to Bob; the markdown clip name is literal text.
    go(bob, "Compare")
    bob.wait_for_selector("text=not yours to open here")
    assert bob.locator("video").count() == 0 and bob.locator("img[src*='x.png']").count() == 0
    assert bob.locator("a[href*='127.0.0.1:9']").count() == 0
    shown = bob.locator("[data-testid='stMain']").inner_text().replace("\u200b", "")
    assert MARKDOWN in shown  # literal, as typed (zero-width spaces break autolinks)
    bob.screenshot(path=ARTIFACTS / "browser-shared-markdown.png")

    # Scorecard: Bob can look but not save settings with Alice's run.
    go(bob, "Scorecard")
    bob.wait_for_selector("text=shared with you read-only")
    assert bob.get_by_role("button", name="Save these settings with the run").count() == 0
    assert (
        bob.locator("img[src*='x.png']").count() == 0 and bob.locator("a[href*='127.0.0.1:9']").count() == 0
    )
    no_exceptions(bob)

    # Alice deletes her private run; Bob's run is untouched; the deletion is in the audit log.
    pick(alice, "20250101-000000-aliceprivate")
    assert alice.get_by_text("Shared with everyone (read-only)").count() == 1
    alice.get_by_role("button", name="Delete…").click()
    alice.get_by_role("button", name="Yes, delete").click()
    alice.wait_for_selector("text=Deleted 20250101-000000-aliceprivate")
    assert not (results_dir / "20250101-000000-aliceprivate").exists()
    assert (results_dir / "20250103-000000-bobprivate" / "run.json").exists()
    entry = audit.read(results_dir)[-1]
    assert entry["action"] == "delete" and entry["user"] == "alice"
    no_exceptions(alice)


def test_a_shared_link_opened_signed_out_leads_to_the_run_after_sign_in(shared_server, browser):
    """No "Page not found" for a page's address while signed out: the sign-in form is there,
    and after signing in the same address opens its run."""
    url, _results_dir = shared_server
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(f"{url}/Results?run=20250102-000000-aliceshared")
    page.wait_for_selector("text=sign in with the account")
    page.wait_for_timeout(1500)
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_role("textbox", name="User name").fill("bob")
    page.get_by_role("textbox", name="Password").fill(PASSWORDS["bob"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("h1:has-text('Results')")
    page.wait_for_selector("text=Signed in as bob")
    page.wait_for_selector("text=20250102-000000-aliceshared")
    assert "run=20250102-000000-aliceshared" in page.url
    assert page.get_by_text("Page not found").count() == 0
    no_exceptions(page)
    page.screenshot(path=ARTIFACTS / "browser-shared-link-after-sign-in.png")
    context.close()


def _open(page, run_id: str) -> None:
    go(page, "Results")
    assert run_id in run_options(page)  # the picker is drawn (and the run is offered)
    pick(page, run_id)
    page.wait_for_timeout(1000)  # let the rerun after picking settle
    page.locator(".st-key-results-open button").first.click()
    page.wait_for_selector(f"text=Opened {run_id}")


def _set_frame(page, label: str, value: int) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function(
        "([l, v]) => document.querySelector(`input[aria-label='${l}']`).value == v", arg=[label, str(value)]
    )


def test_bob_neither_sees_nor_removes_alices_reference(shared_server, browser):
    """Alice and Bob have runs of the same clip (one SHA-256). Alice saves a reference on the
    Scorecard; Bob's own run shows none, and her shared run's Remove is disabled for him."""
    url, results_dir = shared_server
    alice = sign_in(browser, url, "alice")
    bob = sign_in(browser, url, "bob")
    _open(alice, "20250102-000000-aliceshared")
    go(alice, "Scorecard")
    alice.wait_for_selector("text=Reference for this clip (none yet)")
    _set_frame(alice, "Take-off frame", 10)
    _set_frame(alice, "Landing frame", 20)
    alice.get_by_role("button", name="Save the reference with the run").click()
    alice.wait_for_selector("text=Reference for this clip:")
    assert (results_dir / "users" / "alice" / "references.csv").exists()

    _open(bob, "20250103-000000-bobprivate")
    go(bob, "Scorecard")
    bob.wait_for_selector("text=Reference for this clip (none yet)")
    assert bob.get_by_role("button", name="Remove the reference").count() == 0
    _open(bob, "20250102-000000-aliceshared")
    go(bob, "Scorecard")
    bob.wait_for_selector("text=Reference for this clip:")  # hers, read-only
    bob.get_by_text("Reference for this clip:").first.click()  # open the (closed) expander
    bob.get_by_role("button", name="Remove the reference").wait_for()
    assert bob.get_by_role("button", name="Remove the reference").is_disabled()
    assert bob.get_by_role("button", name="Save the reference with the run").is_disabled()
    no_exceptions(alice)
    no_exceptions(bob)
    bob.screenshot(path=ARTIFACTS / "browser-shared-reference-read-only.png")
    assert not (results_dir / "users" / "bob" / "references.csv").exists()
    assert not (results_dir / "references.csv").exists()
    saves = [e for e in audit.read(results_dir) if e["action"].startswith("reference-")]
    assert [(e["user"], e["action"]) for e in saves] == [("alice", "reference-save")]


def test_bob_sees_alices_shared_study_read_only_and_never_her_other_one(shared_server, browser, tmp_path):
    """Alice shares one of her two studies with Bob by name on the Study page; Bob's Study page
    lists it as shared by her (never the other), opens it read-only; the share is audited."""
    from posebench.studies import sharing
    from test_study_sharing import _study

    url, results_dir = shared_server
    root = sharing.root_of("alice", results_dir)
    _study(root, "cmj-a", tmp_path)
    _study(root, "secret", tmp_path)
    alice = sign_in(browser, url, "alice")
    go(alice, "Study")
    settled(alice)  # the page's script has ended: the list is not drawn again under the click
    alice.locator(".st-key-study-open").click()
    alice.get_by_role("option").first.wait_for()
    alice.get_by_role("option", name="cmj-a", exact=True).click()
    settled(alice)
    readers = alice.locator(".st-key-study-readers-cmj-a input")
    readers.fill("bob")
    readers.press("Enter")
    settled(alice)
    assert ("alice", "study-share", "cmj-a") in [
        (e["user"], e["action"], e["target"]) for e in audit.read(results_dir)
    ]
    no_exceptions(alice)

    bob = sign_in(browser, url, "bob")
    go(bob, "Study")
    bob.wait_for_selector("text=Shared with you by alice, read-only.")
    bob.wait_for_selector("text=Study cmj-a")  # its results are open for him
    settled(bob)
    bob.locator(".st-key-study-open").click()
    bob.get_by_role("option").first.wait_for()
    offered = bob.get_by_role("option").all_inner_texts()
    bob.keyboard.press("Escape")
    assert offered == ["cmj-a · shared by alice"]  # "secret" is never offered
    assert bob.get_by_text("Shared with everyone (read-only)").count() == 0  # no share control
    assert bob.get_by_role("button", name="Search the event settings on this study's clips").is_disabled()
    no_exceptions(bob)
    bob.screenshot(path=ARTIFACTS / "browser-shared-study-read-only.png")
