"""Study jobs: one clip through one backend; a failing clip is a row with its reason."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

import clipgen
from conftest import RUNNING
from posebench.studies import study_jobs
from posebench.studies.study_executor import LocalExecutor

pytestmark = pytest.mark.timeout(300)


def test_a_job_is_plain_data_and_keyed_by_clip_spec_options_and_versions():
    job = study_jobs.StudyJob(str(RUNNING), "ab" * 32, "mediapipe-lite", {"kind": "cmj"})
    assert pickle.loads(pickle.dumps(job)) == job
    assert job.key == study_jobs.job_key("ab" * 32, "mediapipe-lite", {})  # the defaults are spelled out
    assert job.key != study_jobs.job_key("cd" * 32, "mediapipe-lite")
    assert job.key != study_jobs.job_key("ab" * 32, "rtmpose-lightweight")
    assert job.key != study_jobs.job_key("ab" * 32, "mediapipe-lite", {"kind": "dj"})


@pytest.mark.integration
def test_failing_clips_become_rows_with_reasons(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    blank = clipgen.blank_wall_clip(tmp_path / "empty_wall.mp4", frames=12)
    changed = tmp_path / "changed.mp4"
    changed.write_bytes(RUNNING.read_bytes())
    cases = {
        "notes.mp4": (
            study_jobs.StudyJob(str(text), study_jobs.clip_sha256(text), "mediapipe-lite"),
            "not a video",
        ),
        "empty_wall.mp4": (
            study_jobs.StudyJob(str(blank), study_jobs.clip_sha256(blank), "mediapipe-lite"),
            "no person was found",
        ),
        "changed.mp4": (study_jobs.StudyJob(str(changed), "0" * 64, "mediapipe-lite"), "SHA-256 differs"),
        "gone.mp4": (
            study_jobs.StudyJob(str(tmp_path / "gone.mp4"), "0" * 64, "mediapipe-lite"),
            "not on this machine",
        ),
    }
    rows = []
    LocalExecutor().run(
        [job for job, _ in cases.values()], lambda i, row: rows.append(row), threading.Event()
    )
    names = [Path(r["clip"]).name for r in rows]  # the executor names a clip it cannot find by its path
    assert names == list(cases)
    for name, row in zip(names, rows):
        assert row["status"] == "failed"
        assert cases[name][1] in row["error"], row["error"]
        assert row["backend"] == "mediapipe-lite" and row["key"]


def test_a_cancelled_executor_starts_nothing():
    cancel = threading.Event()
    cancel.set()
    rows = []
    LocalExecutor().run(
        [study_jobs.StudyJob(str(RUNNING), "", "mediapipe-lite")], lambda i, r: rows.append(r), cancel
    )
    assert rows == []
