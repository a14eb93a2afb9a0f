"""Stand-ins for study jobs in the executor tests: a job that sleeps, one whose worker dies.

Ray workers import these by value (the tests folder is not a package on their path).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FakeJob:
    clip_path: str
    clip_sha256: str
    backend: str
    options: dict = field(default_factory=dict)


def sleepy_job(job) -> dict:
    """A job that takes ``options['sleep_s']`` and leaves a marker file when it finishes."""
    time.sleep(job.options.get("sleep_s", 0.0))
    marks = job.options.get("marks")
    if marks:
        Path(marks, f"{job.options['name']}.done").write_text(str(os.getpid()))
    return {
        "clip": job.clip_path,
        "sha256": job.clip_sha256,
        "backend": job.backend,
        "status": "ok",
        "name": job.options.get("name"),
        "pid": os.getpid(),
    }


@dataclass(frozen=True)
class DiesOnce:
    """Wraps a job function: the named job kills its worker process on its first try."""

    job_fn: object
    victim: str  # the job's options['name']
    marks: str  # folder for the marker file that tells the first try from the retry

    def __call__(self, job) -> dict:
        marker = Path(self.marks, f"{job.options.get('name')}.started")
        if job.options.get("name") == self.victim and not marker.exists():
            marker.write_text("first try")
            os._exit(1)  # the worker dies mid-study
        return self.job_fn(job)


def landmark_job(job) -> dict:
    """Until posebench.studies.jobs lands: a real pose run on the first frames of the clip."""
    import hashlib

    from posebench.engine.runner import RunOptions, run_benchmark

    run = run_benchmark(job.clip_path, [job.backend], RunOptions(max_frames=job.options["frames"], warmup=0))
    native = next(iter(run.native.values()))
    summary = run.summary.iloc[0]
    return {
        "clip": job.clip_path,
        "sha256": job.clip_sha256,
        "backend": job.backend,
        "status": "ok",
        "landmarks": hashlib.sha256(native["keypoints"].tobytes()).hexdigest(),
        "frames": len(native["keypoints"]),
        "fps": float(summary.get("fps", float("nan"))),
    }
