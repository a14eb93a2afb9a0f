"""Where studies live, and running, measuring and opening them: the Study page's logic
(the clips being put together are ``study_draft``; the drawing is ``study_result_view`` and
``study_form``).

Where things live: in single-user mode studies are in ``<results>/studies`` and
references in ``<results>/references.csv``; on a shared server each signed-in
user has their own (``<results>/users/<name>/...``), so nobody reaches
another user's studies or references. Each study folder records its owner
(``access.json``); an owner may share a study read-only (``studies.sharing``): it is then
listed for the others as ``<study> · shared by <owner>``, opened read-only, and every change
to it is refused and audited.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from posebench.analysis import per_jump
from posebench.core.errors import BenchError
from posebench.dashboard import auth, background_jobs
from posebench.dashboard.state import STUDY_JOB
from posebench.report import study_charts, study_evidence
from posebench.store import owners, references, run_store
from posebench.studies import pooled, sharing, speed_run, study_folder

OPENED = "study_opened"  # session key: the ``sharing.Opened`` the page shows


# -- where -----------------------------------------------------------------------------
def user_root() -> Path:
    viewer = auth.viewer()
    return references.root_of(None if viewer.single else viewer.name)


def reference_root() -> Path:
    return user_root()


def study_root() -> Path:
    return user_root() / "studies"


def saved_studies() -> pd.DataFrame:
    """The viewer's own studies, then those others shared with them (``<study> · shared by <owner>``)."""
    return sharing.visible_studies(auth.viewer())


def where(key: str) -> sharing.Opened:
    """Where the study a list entry names is, and whether this viewer may change it."""
    return sharing.locate(auth.viewer(), key)


def opened_folder(study: study_folder.Study) -> Path:
    """The folder of ``study`` as the page opened it (another user's, when shared), else the
    viewer's own studies folder's."""
    opened = st.session_state.get(OPENED)
    if isinstance(opened, sharing.Opened) and opened.study_id == study.study_id:
        return opened.folder
    return study_folder.folder_of(study.study_id, study_root())


def may_change(folder: Path) -> bool:
    """True when this viewer may change the study in ``folder`` (their own); asks, changes nothing."""
    return _is_own(folder) or auth.viewer().can_change(owners.read(folder))


def _is_own(folder: Path) -> bool:
    return Path(folder).resolve().parent == study_root().resolve()


def require_change(folder: Path, what: str) -> None:
    """``InputError`` (audited) unless this viewer may change the study in ``folder``."""
    sharing.require_change(auth.viewer(), folder, what)


# -- running ------------------------------------------------------------------------------
def build(
    name: str,
    clips: list,
    backend_specs: list[str],
    min_clips: int,
    margin_ms: float = study_folder.DEFAULT_MARGIN_MS,
    speed_runs: list[str] | None = None,
    events: dict[str, str] | None = None,
) -> study_folder.Study:
    """The study to run: a new one, or a saved one of that name with these clips added.
    ``speed_runs``: run folders (``speed_run_choices``) whose speed decides, one per target;
    ``events``: backend label -> named event setting."""
    speed = [str(r) for r in speed_runs or []]
    study = study_folder.Study(
        name.strip(),
        list(clips),
        list(backend_specs),
        min_clips=int(min_clips),
        margin_ms=float(margin_ms),
        speed_runs=speed,
        events=dict(events or {}),
    )
    folder = study_folder.folder_of(study.study_id, study_root())
    if (folder / study_folder.FILES["definition"]).exists():
        require_change(folder, "add-clips")
        saved = study_folder.load(study.study_id, study_root())
        study = study_folder.add_clips(saved, list(clips))
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
    from posebench.decision import speed_evidence

    runs = run_access.visible_runs(auth.viewer(), run_store.default_root())
    out = {}
    for row in runs.itertuples():
        try:
            src = speed_evidence.from_folder(row.path)
        except BenchError:
            continue
        state = "busy: not reliable" if src.busy else "quiet"
        label = f"{row.run_id} · {src.machine} · {src.rounds} rounds · {state}"
        out[label] = str(row.path)
    return out


class SpeedJob(background_jobs.RunJob):
    """The study's speed measured on demand: a ``RunJob`` (timed in its own worker process,
    saved as an ordinary run) of every backend of the study on one of its clips, in rounds;
    once saved, the run becomes the study's headline speed source and its verdict is written
    again (``studies.speed_run.use``). Kept under the Study page's job key."""

    what = "a speed measurement"

    def __init__(self, study: study_folder.Study, clip, rounds: int, root: Path, owner: str | None = None):
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
        self.used: study_folder.StudyResult | None = None

    def _execute(self):
        run = super()._execute()
        if self.saved_to is not None and not self.cancel_event.is_set():
            self.used = speed_run.use(self.info["study_id"], self.saved_to, self.study_root)
        return run


def measure_speed(study: study_folder.Study, clip_name: str, rounds: int) -> SpeedJob:
    """Start the study's speed measurement (``SpeedJob``) on the clip it names: its owner only
    (the measurement becomes part of the study)."""
    folder = opened_folder(study)
    require_change(folder, "measure-speed")
    clip = speed_run.pick_clip(study, clip_name)
    return SpeedJob(study, clip, int(rounds), folder.parent, owner=auth.viewer().name).start()


def start(study: study_folder.Study) -> background_jobs.BackgroundJob:
    """The study in its own worker process (its jobs are timed there, not in the server),
    with progress and cancel; the page polls the job and opens the saved result."""
    root = study_root()
    require_change(study_folder.folder_of(study.study_id, root), "run")
    folder = study_folder.save_definition(study, root)
    viewer = auth.viewer()
    if not viewer.single and owners.read(folder).owner != viewer.name:  # sharing is kept
        owners.write(folder, owners.Access(viewer.name))
    return background_jobs.ProcessJob(
        run_in_worker,
        {"study": study, "root": root},
        what="a study",
        waits_as="study",
        name="posebench-study",
        study_id=study.study_id,
    ).start()


def run_in_worker(study: study_folder.Study, root: Path | None, *, progress, cancel) -> str:
    """What the worker process runs: the study's missing jobs, its tables, verdict and PNG
    charts (a chart that cannot be saved leaves the page's own charts). Returns its id."""

    def report(done: int, total: int, text: str) -> None:
        progress(done / max(total, 1), f"{done} of {total} jobs: {text}")

    result = study_folder.run(study, root, progress=report, cancel=cancel)
    try:
        study_charts.write_pngs(result.clips, result.summary, result.folder)
    except (BenchError, OSError, ImportError):
        pass  # the PNGs are for the evidence report, which renders them again when missing
    return result.study.study_id


def open_result(study_id: str) -> study_folder.StudyResult:
    """The study a list entry names (the viewer's own, or one shared with them), remembered as
    the page's open study (its changes go to its own folder, and only its owner may make them)."""
    opened = where(study_id)
    st.session_state[OPENED] = opened
    return study_folder.open_result(opened.study_id, opened.root)


def downloads(result: study_folder.StudyResult) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, MIME type) of every file the study wrote."""
    kinds = {".csv": "text/csv", ".json": "application/json", ".png": "image/png"}
    names = [
        study_folder.FILES["clips"],
        study_folder.FILES["summary"],
        study_folder.FILES["verdict"],
        *study_charts.PNG_FILES.values(),
    ]
    out = []
    for name in names:
        path = result.folder / name
        if path.exists():
            out.append((name, path.read_bytes(), kinds[path.suffix]))
    return out


def result_stamp(result: study_folder.StudyResult) -> str:
    """Changes whenever the study's rows change (a prepared zip is then made again)."""
    rows = result.folder / study_folder.FILES["rows"]
    return f"{result.study.study_id}:{rows.stat().st_mtime_ns if rows.exists() else 0}"


def filmstrips(result: study_folder.StudyResult) -> list[tuple[str, bytes]]:
    """(clip name, PNG) of every jump's filmstrip: the saved one in the study's folder when it
    is newer than the study's rows, else drawn now and saved there."""
    from posebench.report import filmstrip

    rows = result.folder / study_folder.FILES["rows"]
    stamp = rows.stat().st_mtime if rows.exists() else 0.0
    keep = _is_own(result.folder)  # drawn for a study shared read-only, never saved in it
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
        if not keep:
            out.append((name, png))
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
        except OSError:
            pass  # shown anyway
        out.append((name, png))
    return out


def caveats(result: study_folder.StudyResult) -> list[str]:
    """What the decision rests on, in sentences (the report's list)."""
    return study_evidence.study_caveats(result, per_jump.table(result.clips))


def evidence_zip(result: study_folder.StudyResult) -> bytes:
    """The study's evidence report: tables, verdict, definition and an offline HTML page."""
    return study_evidence.study_bundle(result, summary_units=pooled.SUMMARY_COLUMNS)


__all__ = ["STUDY_JOB", "start", "open_result", "study_root", "reference_root"]
