"""Several runs at once (Streamlit sessions are threads in one process).

Each run must finish with the same keypoints and frame counts as when it runs
alone, share the cached model sessions safely, keep its per-run state
(VIDEO-mode timestamps, carried boxes) to itself, and say that it overlapped.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from conftest import LAB, RUNNING, FakeBackend, goto
from posebench.backends import ModelCache
from posebench.engine.runner import run_benchmark
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

# Three different runs, so a leak of state from one into another would show:
# stateful VIDEO-mode landmarkers and an RTMPose tracker that carries boxes.
JOBS = [
    (RUNNING, ["mediapipe-lite", "rtmpose-lightweight:det_every=0,person=tracked"]),
    (LAB, ["mediapipe-lite", "rtmpose-lightweight"]),
    (RUNNING, ["mediapipe-lite-image", "rtmpose-lightweight:det_every=3"]),
]
OPTIONS = RunOptions(max_frames=12, warmup=2)
POINT_COLUMNS = ("_x", "_y", "_score")


def _at_once(jobs, cache, options=OPTIONS):
    runs, errors = [None] * len(jobs), []
    start = threading.Barrier(len(jobs))

    def work(i):
        clip, configs = jobs[i]
        try:
            start.wait()
            runs[i] = run_benchmark(str(clip), configs, options, cache=cache)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    return runs


@pytest.mark.integration
def test_three_runs_at_once_match_the_same_runs_alone():
    cache = ModelCache()
    alone = [run_benchmark(str(clip), configs, OPTIONS, cache=cache) for clip, configs in JOBS]
    together = _at_once(JOBS, cache)
    for solo, shared in zip(alone, together):
        assert shared.run_id != solo.run_id
        assert list(shared.summary["status"]) == ["ok", "ok"]
        assert list(shared.summary["frames_processed"]) == list(solo.summary["frames_processed"]) == [12, 12]
        columns = [c for c in solo.frames.columns if c.endswith(POINT_COLUMNS)]
        assert list(shared.frames["backend"]) == list(solo.frames["backend"])
        assert list(shared.frames["frame"]) == list(solo.frames["frame"])
        np.testing.assert_allclose(
            shared.frames[columns].to_numpy(float), solo.frames[columns].to_numpy(float), rtol=0, atol=1e-6
        )
        for label, data in solo.native.items():
            np.testing.assert_allclose(
                shared.native[label]["keypoints"], data["keypoints"], rtol=0, atol=1e-6
            )
        # Each result is about its own clip.
        assert shared.clip.name == solo.clip.name
        # Overlap is recorded: timings of these runs are not comparable.
        assert solo.overlapped == 0 and shared.overlapped >= 1
        assert (shared.summary["overlapped_runs"] >= 1).all()
        assert any("at the same time" in n for n in shared.extra["notices"])
        assert not any("at the same time" in n for n in solo.extra["notices"])
    # The models were loaded once and shared: every backend in the runs together came from the cache.
    for shared in together:
        assert shared.summary["init_cached"].all()


def test_model_cache_loads_once_for_many_threads():
    cache = ModelCache()
    calls = []

    def slow_loader():
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return object()

    results = [None] * 8
    barrier = threading.Barrier(8)

    def get(i):
        barrier.wait()
        results[i] = cache.get(("model", "a"), slow_loader)

    threads = [threading.Thread(target=get, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({id(r.value) for r in results}) == 1
    assert sum(not r.cached for r in results) == 1
    assert all(r.cold_ms >= 150 for r in results)


def test_overlap_counter_returns_to_zero_and_counts_peers(monkeypatch):
    """Two fake runs held open together both record one peer; the counter ends at 0."""
    inside = threading.Barrier(2)

    class Waiting(FakeBackend):
        def process(self, image, timestamp_ms):
            if self.calls == 0:
                inside.wait(timeout=30)  # both runs are now inside their frame loops
            return super().process(image, timestamp_ms)

    from posebench import backends

    monkeypatch.setattr(backends, "create", lambda config, cache=None: Waiting(config.display))
    runs = _at_once(
        [(RUNNING, ["mediapipe-lite"]), (RUNNING, ["mediapipe-lite"])],
        None,
        RunOptions(max_frames=4, warmup=0),
    )
    assert [r.overlapped for r in runs] == [1, 1]
    assert {r.extra["machine"]["overlapping_runs"][0]["run_id"] for r in runs} == {r.run_id for r in runs}
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    alone = run_benchmark(str(RUNNING), ["mediapipe-lite"], RunOptions(max_frames=2, warmup=0))
    assert alone.overlapped == 0


@pytest.mark.integration
def test_three_dashboard_sessions_run_at_once_with_separate_correct_results(results_root, monkeypatch):
    """Three reviewers' sessions start runs that overlap; each matches the same run done alone."""
    from streamlit.testing.v1 import AppTest

    from conftest import CLIPS
    from posebench.dashboard import auth
    from test_app import APP, wait_for_run

    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    # Three reviewers on a shared server (one user's tabs share that user's one job).
    monkeypatch.setenv(auth.MODE_ENV, "shared")
    from posebench.access import accounts

    monkeypatch.setenv("POSEBENCH_ACCOUNTS", str(results_root.parent / "accounts.json"))
    for i in range(3):  # a session of an account that does not exist ends at once
        accounts.add(f"reviewer-{i}", "reviewer-password", results_root.parent / "accounts.json")
    clips = [LAB, RUNNING, RUNNING]
    sessions = []
    for i, clip in enumerate(clips):  # three sessions, each ready to press "Run"
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[auth.USER_KEY] = f"reviewer-{i}"
        at.run()
        at.session_state["clip_path"] = str(clip)
        goto(at, "run").run()
        at.number_input(key="run-frames").set_value(8)
        at.number_input(key="run-warmup").set_value(2)
        sessions.append(at.run())
    for at in sessions:  # pressed one right after the other
        at.button(key="run-start").click().run()
    jobs = [at.session_state["run_job"] for at in sessions]
    assert len({job.run_id for job in jobs}) == 3
    for at in sessions:
        wait_for_run(at)
        assert not at.exception
    runs = [at.session_state["current_run"] for at in sessions]
    assert sorted(p.name for p in results_root.iterdir()) == sorted(r.run_id for r in runs)
    assert any(r.overlapped for r in runs)  # they did run at the same time
    cache = ModelCache()  # the runs alone load each model once
    for clip, shared in zip(clips, runs):
        assert shared.clip.name == clip.name and shared.status == "complete"
        assert list(shared.summary["frames_processed"]) == [8] * len(shared.configs)
        solo = run_benchmark(str(clip), shared.configs, shared.options, cache=cache)
        assert list(shared.summary["frames_processed"]) == list(solo.summary["frames_processed"])
        columns = [c for c in solo.frames.columns if c.endswith(POINT_COLUMNS)]
        np.testing.assert_allclose(
            shared.frames[columns].to_numpy(float), solo.frames[columns].to_numpy(float), rtol=0, atol=1e-6
        )
