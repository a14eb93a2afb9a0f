"""Capacity: one server-wide queue for content checks and runs, a processor-time limit on the
check, "server busy" (never "damaged") when full, and caps on upload storage."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conftest import LAB, RUNNING, child_pids, children_first_run, wait_until
from posebench.access import queue
from posebench.core.errors import InputError, ServerBusy
from posebench.dashboard import clip_input
from posebench.io import uploads

pytestmark = pytest.mark.timeout(300)
MB = 1024**2


class Upload:
    """The parts of Streamlit's UploadedFile that save_upload uses."""

    def __init__(self, path: Path, name: str | None = None):
        self.name = name or path.name
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by the test's clean-up
        self.size = path.stat().st_size

    def read(self, n=-1):
        return self._fh.read(n)

    def seek(self, pos):
        return self._fh.seek(pos)


@pytest.fixture
def one_slot(monkeypatch, tmp_path):
    monkeypatch.setenv("POSEBENCH_QUEUE_SLOTS", "1")
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    queue.reset()
    yield queue.server_queue()
    queue.reset()


def test_two_long_uploads_at_once_are_both_accepted_one_after_the_other(one_slot, monkeypatch):
    """Two reviewers upload at the same moment: the second waits its turn and is told its place.

    The check's limit is processor time, so the wait does not count against it: here the limit
    (3 s of CPU; a check of these clips takes about 1 s) is shorter than the wait for the slot.
    """
    limit_s = 3.0
    monkeypatch.setenv("POSEBENCH_INSPECT_TIMEOUT", str(limit_s))
    waits: dict[str, list] = {"a": [], "b": []}
    accepted: dict[str, object] = {}
    errors: dict[str, str] = {}
    hold, holding = threading.Event(), threading.Event()

    def upload(key: str, path: Path) -> None:
        try:
            accepted[key] = clip_input.save_upload(
                Upload(path, f"{key}.mp4"), owner=key, on_wait=lambda p, r: waits[key].append((p, r))
            )
        except Exception as exc:  # the assertion below names it
            errors[key] = str(exc)

    # A run holds the only slot for a while, so both checks have to queue behind it.
    def long_run():
        with one_slot.slot("run"):
            holding.set()
            hold.wait(120)

    blocker = threading.Thread(target=long_run)
    blocker.start()
    assert holding.wait(30), "the run did not get the slot"
    started = time.monotonic()
    threads = [threading.Thread(target=upload, args=(k, p)) for k, p in (("a", LAB), ("b", RUNNING))]
    for (key, _path), t in zip((("a", LAB), ("b", RUNNING)), threads):
        t.start()
        wait_until(lambda key=key: waits[key], 60, f"upload {key} told its place")  # a before b
    # The run holds the slot past the check's processor-time limit (wall time is the point here:
    # a limit counted in wall time would refuse both uploads).
    time.sleep(max(0.0, started + limit_s + 1 - time.monotonic()))
    hold.set()
    for t in threads:
        t.join(120)
    blocker.join()
    took = time.monotonic() - started
    assert errors == {}, errors
    assert set(accepted) == {"a", "b"}
    assert accepted["a"].info.frames == 100 and accepted["b"].info.frames == 47
    # each was told its place behind the run: one first in line, the other second
    assert waits["a"] and waits["b"]
    assert sorted([waits["a"][0], waits["b"][0]]) == [(1, 1), (2, 1)]
    assert took > limit_s + 1  # both waited longer than their processor-time limit, and passed
    for clip in accepted.values():
        clip.cleanup()


def test_a_full_queue_says_server_busy_not_damaged(one_slot, monkeypatch):
    monkeypatch.setenv("POSEBENCH_QUEUE_WAITING", "1")
    queue.reset()
    q = queue.server_queue()
    release = threading.Event()

    holding, in_line = threading.Event(), threading.Event()

    def hold_slot():
        with q.slot("run"):
            holding.set()
            release.wait(60)

    def wait_in_line():
        try:
            with q.slot("run", on_wait=lambda place, running: in_line.set()):
                pass
        except ServerBusy:
            pass

    holder = threading.Thread(target=hold_slot)
    holder.start()
    assert holding.wait(30), "the first run did not get the slot"
    waiter = threading.Thread(target=wait_in_line)
    waiter.start()
    assert in_line.wait(30), "the second run is not waiting in line"
    with pytest.raises(ServerBusy) as caught:
        clip_input.save_upload(Upload(RUNNING), owner="c")
    text = str(caught.value)
    assert "server is busy" in text and "Nothing is wrong with your file" in text
    assert "damaged" not in text
    release.set()
    holder.join()
    waiter.join()
    assert list(Path(clip_input.upload_dir()).glob("upload-*")) == []  # nothing kept


def test_a_check_that_gets_no_processor_time_is_busy_not_damaged(tmp_path, monkeypatch):
    """A checker that makes no progress (here: it sleeps) is given up at the wall-clock
    backstop with "too busy", not blamed on the file."""
    before = child_pids()
    children_first_run("import time\ntime.sleep(60)\n", tmp_path, monkeypatch)
    monkeypatch.setenv("POSEBENCH_INSPECT_WALL", "2")
    with pytest.raises(ServerBusy, match="too busy to finish checking running") as caught:
        uploads.accept_upload("running.mp4", open(RUNNING, "rb"), workdir=tmp_path / "up")  # noqa: SIM115
    assert "damaged" not in str(caught.value)
    assert child_pids() - before == set()  # no process left behind
    assert list((tmp_path / "up").iterdir()) == []


def test_the_check_limit_is_processor_time(tmp_path, monkeypatch):
    """A checker that burns the processor is stopped at its CPU-time limit."""
    before = child_pids()
    children_first_run("while True:\n    pass\n", tmp_path, monkeypatch)
    monkeypatch.setenv("POSEBENCH_INSPECT_TIMEOUT", "1.5")
    started = time.monotonic()
    with pytest.raises(InputError, match=r"took longer than 1\.5 s of processor time"):
        uploads.accept_upload("running.mp4", open(RUNNING, "rb"), workdir=tmp_path / "up")  # noqa: SIM115
    assert time.monotonic() - started < 60
    assert child_pids() - before == set()  # no process left behind


def test_upload_storage_is_capped_per_user_and_for_the_server(monkeypatch, tmp_path):
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    monkeypatch.setenv("POSEBENCH_UPLOADS_USER_MB", "1")
    first = clip_input.save_upload(Upload(RUNNING), owner="dana")  # 74 KB
    try:
        with pytest.raises(InputError, match="above your share of 1 MB"):
            clip_input.check_storage("dana", 2 * MB, "big.mp4")
        clip_input.check_storage("erin", MB // 2, "small.mp4")  # another user has her own share
        monkeypatch.setenv("POSEBENCH_UPLOADS_SERVER_MB", "1")
        with pytest.raises(InputError, match="server's space for uploads is full"):
            clip_input.check_storage("erin", MB - 1000, "small.mp4")
    finally:
        first.cleanup()
    assert clip_input.user_usage("dana") == 0


def test_three_studies_started_at_once_wait_in_the_server_queue(monkeypatch):
    """Studies and Explorer sweeps (``ProcessJob``) take a slot of the server-wide queue, as
    benchmark runs do: with one slot, the second and third wait and are told their place."""
    import conftest
    from posebench.dashboard import background_jobs

    monkeypatch.setenv("POSEBENCH_QUEUE_SLOTS", "1")
    queue.reset()
    try:
        started = []

        def start_and_wait(ready) -> background_jobs.ProcessJob:
            """Start one more study (clicked after the one before, as people do) and wait until
            it runs or waits."""
            job = background_jobs.ProcessJob(
                conftest.pid_job, {"n": "forever"}, waits_as="study", what="a study"
            )
            started.append(job.start())
            deadline = time.monotonic() + 240  # a worker process starts slowly on a busy machine
            while time.monotonic() < deadline and not ready(job):
                time.sleep(0.05)
            return job

        first = start_and_wait(lambda job: job.overall()[1] == "half way")
        second = start_and_wait(lambda job: job.waiting)
        third = start_and_wait(lambda job: job.waiting and "number 2" in job.waiting)
        assert first.overall()[1] == "half way" and first.waiting is None
        assert second.waiting == (
            "Waiting for the server: your study is number 1 in line (1 working now, 0 waiting before "
            "yours); it starts by itself."
        )
        assert "your study is number 2 in line (1 working now, 1 waiting before yours)" in third.waiting
        assert queue.server_queue().status() == (1, 2)
        assert second.overall()[1] == "starting"  # no worker process of its own yet
        first.cancel()
        assert first.wait(240) and first.error is None
        deadline = time.monotonic() + 240  # a worker process starts slowly on a busy machine
        while time.monotonic() < deadline and second.overall()[1] != "half way":
            time.sleep(0.05)
        assert second.overall()[1] == "half way" and second.waiting is None
        third.cancel()  # given up while waiting: it never started
        assert third.wait(240) and "was cancelled while it waited" in third.error
        second.cancel()
        assert second.wait(240)
    finally:
        for job in started:
            job.cancel()
        queue.reset()
