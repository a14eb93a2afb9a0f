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


def job_name(job) -> str:
    return job.options.get("name") or Path(job.clip_path).name


@dataclass(frozen=True)
class DiesOnce:
    """Wraps a job function: the named job (options['name'] or the clip's file name) kills
    its worker process on its first try; a marker file tells the first try from the retry."""

    job_fn: object
    victim: str
    marks: str

    def __call__(self, job) -> dict:
        marker = Path(self.marks, f"{job_name(job)}.started")
        if job_name(job) == self.victim and not marker.exists():
            marker.write_text("first try")
            os._exit(1)  # the worker dies mid-study
        return self.job_fn(job)


def niceness_job(job) -> dict:
    """A job that reports the priority (niceness) of the process it runs in."""
    return {"clip": job.clip_path, "sha256": job.clip_sha256, "backend": job.backend, "nice": os.nice(0)}
