"""What the Study page does, so the page itself stays a thin view.

Where things live: in single-user mode studies are in ``<results>/studies`` and
references in ``<results>/references.csv``; on a shared server each signed-in
user has their own (``<results>/users/<name>/...``), so nobody reaches
another user's studies or references. Each study folder records its owner
(``access.json``).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from posebench.analysis import per_jump
from posebench.core.errors import BenchError, InputError
from posebench.dashboard import auth, clip_input, jobs
from posebench.dashboard.state import STUDY_JOB
from posebench.io import video
from posebench.io.files import safe_name
from posebench.report import study_charts, study_evidence
from posebench.store import owners, references, results
from posebench.studies import pooled, speed_run
from posebench.studies import study as studies

REFERENCE_TITLES = {  # the references table's number columns, in words with their units
    "flight_time_s": "Known flight time (s)",
    "takeoff_frame": "Take-off frame",
    "landing_frame": "Landing frame",
}
DRAFT = "study_draft"  # session key: {"clips": [StudyClip, ...]} being put together
FEET_SHARE = 0.4  # the scrubber shows the lowest 40 % of the frame (the feet) by default


# -- where -----------------------------------------------------------------------------
def user_root() -> Path:
    viewer = auth.viewer()
    root = results.default_root()
    return root if viewer.single else root / "users" / owners.check_user_name(viewer.name)


def reference_root() -> Path:
    return user_root()


def study_root() -> Path:
    return user_root() / "studies"


def saved_studies() -> pd.DataFrame:
    return studies.list_studies(study_root())


# -- clips -------------------------------------------------------------------------------
def public_clips() -> list[Path]:
    """Clips every user may use: the configured clip folders."""
    return clip_input.folder_clips()


def draft() -> dict:
    return st.session_state.setdefault(DRAFT, {"clips": []})


def add_public(paths: list[Path], kind: str) -> int:
    saved = references.load(reference_root())
    clips = []
    for path in paths:
        clip = studies.make_clip(path, path.name, kind)
        clip.reference = saved.get(clip.sha256)
        clips.append(clip)
    return _add(clips)


def add_uploads(files, study_name: str, kind: str) -> tuple[int, list[str]]:
    """Content-check each upload and keep the accepted ones in the study's folder.

    Returns (clips added, one sentence per refused file).
    """
    folder = study_root() / safe_name(study_name or "study", "study") / "clips"
    saved = references.load(reference_root())
    clips, refused = [], []
    for file in files or []:
        try:
            accepted = clip_input.save_upload(file)
        except InputError as exc:
            refused.append(f"{getattr(file, 'name', 'a file')}: {exc}")
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / safe_name(accepted.label, "clip.mp4")
            shutil.copyfile(accepted.path, target)
        finally:
            accepted.cleanup()
        clip = studies.make_clip(target, accepted.label, kind)
        clip.reference = saved.get(clip.sha256)
        clips.append(clip)
    return _add(clips), refused


def _add(clips: list[studies.StudyClip]) -> int:
    current = draft()["clips"]
    have = {c.sha256 for c in current if c.sha256}
    new = [c for c in clips if not c.sha256 or c.sha256 not in have]
    current.extend(new)
    return len(new)


def clips_table(clips: list[studies.StudyClip]) -> pd.DataFrame:
    """The draft's clips with their references, for the editor (one row per clip)."""
    rows = []
    for clip in clips:
        ref = clip.reference
        rows.append(
            {
                "clip": clip.name,
                "kind": clip.kind,
                "flight_time_s": ref.flight_time_s if ref else np.nan,
                "takeoff_frame": ref.takeoff_frame if ref else np.nan,
                "landing_frame": ref.landing_frame if ref else np.nan,
                "source": ref.source if ref else "",
                "note": ref.note if ref else "",
                "sha256": clip.sha256,
            }
        )
    return pd.DataFrame(rows, columns=[*references.CSV_COLUMNS[:1], *references.CSV_COLUMNS[2:], "sha256"])


def apply_edits(clips: list[studies.StudyClip], edited: pd.DataFrame) -> list[str]:
    """Take the editor's references into the clips and the reference store; one sentence per problem."""
    problems = []
    for clip, (_, row) in zip(clips, edited.iterrows()):
        clip.kind = str(row.get("kind") or "cmj")
        values = {**row.to_dict(), "sha256": clip.sha256, "clip": clip.name}
        has = any(pd.notna(values.get(k)) for k in ("flight_time_s", "takeoff_frame", "landing_frame"))
        if not has:
            clip.reference = None
            continue
        if not clip.sha256:
            problems.append(f"{clip.name}: the file could not be read, so no reference can be kept for it")
            continue
        try:
            ref = references.from_mapping(values).check()
        except InputError as exc:
            problems.append(str(exc))
            continue
        clip.reference = references.save(ref, reference_root())
    return problems


def import_references(data: bytes) -> int:
    """Save the references of a CSV and attach them to the draft's clips with the same SHA-256."""
    rows = references.import_csv(data, reference_root())
    by_sha = {r.sha256: r for r in rows}
    for clip in draft()["clips"]:
        if clip.sha256 in by_sha:
            clip.reference = by_sha[clip.sha256]
    return len(rows)


def set_reference_frame(clip: studies.StudyClip, field: str, frame: int) -> str:
    """Set the take-off or landing frame of a clip's reference from the scrubber; '' or a problem.

    A frame that makes the reference impossible (a landing before the take-off) changes nothing.
    """
    base = clip.reference or references.ClipReference(clip.name, clip.sha256, clip.kind, source="by eye")
    if field not in ("takeoff_frame", "landing_frame"):
        raise ValueError(f"the scrubber sets takeoff_frame or landing_frame, not {field}")
    changes: dict[str, Any] = {field: float(frame)}
    ref = dataclasses.replace(base, **changes)
    if ref.has_frames or not np.isnan(ref.flight_time_s):
        try:
            references.save(ref.check(), reference_root())
        except InputError as exc:
            return str(exc)
    clip.reference = ref
    return ""


@st.cache_data(show_spinner=False, max_entries=64)
def feet_view(path: str, index: int, share: float = FEET_SHARE) -> np.ndarray:
    """Frame ``index`` (0-based decoded), cropped to its lowest ``share`` and shown as RGB."""
    image = video.read_frame(path, index)
    h = image.shape[0]
    crop = image[int(h * (1 - share)) :, :, ::-1]
    return np.ascontiguousarray(crop)


def step_frame(key: str, delta: int, last: int) -> None:
    """A previous / next frame button's callback: move the scrubber by ``delta`` frames."""
    st.session_state[key] = min(last, max(0, int(st.session_state.get(key, 0)) + delta))


def neighbours(path: str, index: int, frames: int, share: float) -> list[tuple[int, np.ndarray]]:
    """The frame before, this one and the one after (those that exist), each cropped on the feet."""
    return [(i, feet_view(path, i, share)) for i in (index - 1, index, index + 1) if 0 <= i < frames]


# -- running ------------------------------------------------------------------------------
def build(
    name: str,
    clips: list,
    backend_specs: list[str],
    min_clips: int,
    margin_ms: float = studies.DEFAULT_MARGIN_MS,
    speed_runs: list[str] | None = None,
    events: dict[str, str] | None = None,
) -> studies.Study:
    """The study to run: a new one, or a saved one of that name with these clips added.
    ``speed_runs``: run folders (``speed_run_choices``) whose speed decides, one per target;
    ``events``: backend label -> named event setting."""
    speed = [str(r) for r in speed_runs or []]
    study = studies.Study(
        name.strip(),
        list(clips),
        list(backend_specs),
        min_clips=int(min_clips),
        margin_ms=float(margin_ms),
        speed_runs=speed,
        events=dict(events or {}),
    )
    folder = studies.folder_of(study.study_id, study_root())
    if (folder / studies.FILES["definition"]).exists():
        saved = studies.load(study.study_id, study_root())
        study = studies.add_clips(saved, list(clips))
        study.backends, study.min_clips = list(backend_specs), int(min_clips)
        study.margin_ms, study.speed_runs = float(margin_ms), speed
        study.events = dict(events or {})
    study.check()
    return study


# -- speed evidence and the per-target verdict ------------------------------------------------
def speed_run_choices() -> dict[str, str]:
    """Saved runs this viewer may read, as speed evidence: label -> run folder. A run with
    rounds on a quiet machine decides speed; the label says its machine, rounds and load."""
    from posebench.access import run_access
    from posebench.decision import speed

    runs = run_access.visible_runs(auth.viewer(), results.default_root())
    out = {}
    for row in runs.itertuples():
        try:
            src = speed.from_folder(row.path)
        except BenchError:
            continue
        state = "busy: not reliable" if src.busy else "quiet"
        label = f"{row.run_id} · {src.machine} · {src.rounds} rounds · {state}"
        out[label] = str(row.path)
    return out


def show_paired_and_targets(verdict) -> None:
    """The paired accuracy (with its athletes) and the matrix, one row per deployment target."""
    from posebench.dashboard import tables
    from posebench.decision import text
    from posebench.decision.verdict import TARGET_COLUMNS

    lines = text.paired_lines(verdict)
    if lines:
        st.markdown("**Paired accuracy** (every clip judged by both backends)")
        st.code("\n".join(lines), language=None)
    if verdict.targets:
        st.markdown("**One answer per deployment target** (speed depends on the machine; accuracy is shared)")
        frame = pd.DataFrame(verdict.targets)
        tables.show_table(frame, TARGET_COLUMNS, show=list(text.TARGET_SHOWN), key="study-targets")


class SpeedJob(jobs.RunJob):
    """The study's speed measured on demand: a ``RunJob`` (timed in its own worker process,
    saved as an ordinary run) of every backend of the study on one of its clips, in rounds;
    once saved, the run becomes the study's headline speed source and its verdict is written
    again (``studies.speed_run.use``). Kept under the Study page's job key."""

    what = "a speed measurement"

    def __init__(self, study: studies.Study, clip, rounds: int, root: Path, owner: str | None = None):
        super().__init__(
            clip.path,
            speed_run.configs_of(study),
            speed_run.options_for(study, clip, rounds),
            owner=owner,
            label={
                "name": f"speed for study {study.name}",
                "note": f"A dedicated speed run with {rounds} rounds of the study's backends on {clip.name}.",
            },
        )
        self.info.update(study_id=study.study_id, speed_for=study.study_id, clip=clip.name)
        self.study_root = root
        self.used: studies.StudyResult | None = None

    def _execute(self):
        run = super()._execute()
        if self.saved_to is not None and not self.cancel_event.is_set():
            self.used = speed_run.use(self.info["study_id"], self.saved_to, self.study_root)
        return run


def measure_speed(study: studies.Study, clip_name: str, rounds: int) -> SpeedJob:
    """Start the study's speed measurement (``SpeedJob``) on the clip it names."""
    clip = speed_run.pick_clip(study, clip_name)
    return SpeedJob(study, clip, int(rounds), study_root(), owner=auth.viewer().name).start()


def start(study: studies.Study) -> jobs.BackgroundJob:
    """The study in its own worker process (its jobs are timed there, not in the server),
    with progress and cancel; the page polls the job and opens the saved result."""
    root = study_root()
    folder = studies.save_definition(study, root)
    viewer = auth.viewer()
    if not viewer.single:
        owners.write(folder, owners.Access(viewer.name))
    return jobs.ProcessJob(
        run_in_worker,
        {"study": study, "root": root},
        what="a study",
        name="posebench-study",
        study_id=study.study_id,
    ).start()


def run_in_worker(study: studies.Study, root: Path | None, *, progress, cancel) -> str:
    """What the worker process runs: the study's missing jobs, its tables, verdict and PNG
    charts (a chart that cannot be saved leaves the page's own charts). Returns its id."""

    def report(done: int, total: int, text: str) -> None:
        progress(done / max(total, 1), f"{done} of {total} jobs: {text}")

    result = studies.run(study, root, progress=report, cancel=cancel)
    try:
        study_charts.write_pngs(result.clips, result.summary, result.folder)
    except (BenchError, OSError, ImportError):
        pass  # the PNGs are for the evidence report, which renders them again when missing
    return result.study.study_id


def open_result(study_id: str) -> studies.StudyResult:
    return studies.open_result(study_id, study_root())


def downloads(result: studies.StudyResult) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, MIME type) of every file the study wrote."""
    kinds = {".csv": "text/csv", ".json": "application/json", ".png": "image/png"}
    names = [
        studies.FILES["clips"],
        studies.FILES["summary"],
        studies.FILES["verdict"],
        *study_charts.PNG_FILES.values(),
    ]
    out = []
    for name in names:
        path = result.folder / name
        if path.exists():
            out.append((name, path.read_bytes(), kinds[path.suffix]))
    return out


def result_stamp(result: studies.StudyResult) -> str:
    """Changes whenever the study's rows change (a prepared zip is then made again)."""
    rows = result.folder / studies.FILES["rows"]
    return f"{result.study.study_id}:{rows.stat().st_mtime_ns if rows.exists() else 0}"


def filmstrips(result: studies.StudyResult) -> list[tuple[str, bytes]]:
    """(clip name, PNG) of every jump's filmstrip: the saved one in the study's folder when it
    is newer than the study's rows, else drawn now and saved there."""
    from posebench.report import filmstrip

    rows = result.folder / studies.FILES["rows"]
    stamp = rows.stat().st_mtime if rows.exists() else 0.0
    labels = list(result.summary["backend"]) if len(result.summary) else None
    palette = filmstrip.colours(labels or list(dict.fromkeys(result.clips.get("backend", []))))
    out = []
    for name, marks in filmstrip.from_study(result):
        path = result.folder / filmstrip.FOLDER / filmstrip.file_name(name)
        if path.exists() and path.stat().st_mtime >= stamp:
            out.append((name, path.read_bytes()))
            continue
        png = filmstrip.jump_strip(marks, palette)
        if png is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
        except OSError:
            pass  # shown anyway
        out.append((name, png))
    return out


def caveats(result: studies.StudyResult) -> list[str]:
    """What the decision rests on, in sentences (the report's list)."""
    return study_evidence.study_caveats(result, per_jump.table(result.clips))


def evidence_zip(result: studies.StudyResult) -> bytes:
    """The study's evidence report: tables, verdict, definition and an offline HTML page."""
    return study_evidence.study_bundle(result, summary_units=pooled.SUMMARY_COLUMNS)


__all__ = ["STUDY_JOB", "start", "open_result", "study_root", "reference_root"]
