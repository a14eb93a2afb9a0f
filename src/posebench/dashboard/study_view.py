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
from posebench.dashboard import auth, clip_input, jobs, state
from posebench.dashboard.state import STUDY_JOB
from posebench.io import uploads, video
from posebench.io.files import safe_name
from posebench.report import study_charts, study_evidence
from posebench.store import owners, references, results
from posebench.studies import pooled, speed_run
from posebench.studies import study as studies

REFERENCE_TITLES = {  # the references table's number columns, in words with their units
    "flight_time_s": "Flight time (s)",
    "takeoff_frame": "Take-off frame",
    "landing_frame": "Landing frame",
}
DRAFT = "study_draft"  # session key: {"clips": [StudyClip, ...]} being put together
FEET_SHARE = 0.4  # the scrubber shows the lowest 40 % of the frame (the feet) by default


# -- where -----------------------------------------------------------------------------
def user_root() -> Path:
    viewer = auth.viewer()
    return references.root_of(None if viewer.single else viewer.name)


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


@dataclasses.dataclass
class StudyCopy(uploads.AcceptedClip):
    """A clip uploaded on the Study page, kept in the study's folder and offered like an upload
    on every page that takes a clip; the study owns the file, so letting it go deletes nothing."""

    def cleanup(self) -> None:
        pass


def own_uploads() -> dict[str, Any]:
    """This user's uploads from any page (Clip, Study, Live), by label, still on disk: offered
    beside the server's clips, so a clip is uploaded once. Another user's uploads are never
    offered (the server keeps each user's own, ``job_registry``)."""
    found: dict[str, Any] = {}
    for clip in state.own_uploads():
        label = f"{clip.label} (your upload)"
        found[label if label not in found else f"{clip.label} ({clip.info.sha256[:8]}, your upload)"] = clip
    return found


def add_own_uploads(chosen: list, study_name: str, kind: str) -> int:
    """Copy this user's chosen uploads (``own_uploads``) into the study's folder and add them."""
    folder = study_root() / safe_name(study_name or "study", "study") / "clips"
    saved = references.load(reference_root())
    clips = []
    for accepted in chosen:
        folder.mkdir(parents=True, exist_ok=True)
        # by content, as add_uploads keeps them: the same bytes are one file
        sha = accepted.info.sha256 or video.file_sha256(accepted.path)
        target = folder / f"{sha}{Path(accepted.path).suffix.lower()}"
        if not target.exists():
            partial = target.with_name(f".{target.name}.part")
            shutil.copyfile(accepted.path, partial)
            partial.replace(target)
        clip = studies.make_clip(target, accepted.label, kind)
        clip.reference = saved.get(clip.sha256)
        clips.append(clip)
    return _add(clips)


def add_uploads(files, study_name: str, kind: str) -> tuple[int, list[str]]:
    """Content-check each upload and keep the accepted ones in the study's folder.

    Returns (clips added, one sentence per refused file).
    """
    folder = study_root() / safe_name(study_name or "study", "study") / "clips"
    saved = references.load(reference_root())
    owner = auth.viewer().name  # the user's upload cap counts the clips kept in studies too
    clips, refused = [], []
    for file in files or []:
        try:
            state.make_room_for_upload(getattr(file, "size", None))
            accepted = clip_input.save_upload(file, owner=owner)
        except InputError as exc:
            refused.append(f"{getattr(file, 'name', 'a file')}: {exc}")
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # Stored by content, never by the given name: two different clips both named
            # same.mp4 are two files; the same bytes twice are one (the name is only a label).
            sha = accepted.info.sha256 or video.file_sha256(accepted.path)
            target = folder / f"{sha}{Path(accepted.path).suffix.lower()}"
            if not target.exists():
                partial = target.with_name(f".{target.name}.part")
                shutil.copyfile(accepted.path, partial)
                partial.replace(target)
        except OSError as exc:
            refused.append(
                f"{accepted.label} could not be kept in the study's folder ({exc.strerror or exc})."
            )
            continue
        finally:
            accepted.cleanup()
        kept = StudyCopy(
            path=target,
            label=accepted.label,
            info=dataclasses.replace(accepted.info, path=str(target), sha256=sha),
            notices=list(accepted.notices),
            max_side=accepted.max_side,
        )
        video.remember(kept.info)  # a run on it finds its readable name and frame count here
        state.offer_upload(kept)  # offered on the Clip page and the others too
        clip = studies.make_clip(target, accepted.label, kind)
        clip.reference = saved.get(clip.sha256)
        clips.append(clip)
    return _add(clips), refused


def _add(clips: list[studies.StudyClip]) -> int:
    current = draft()["clips"]
    have = {c.sha256 for c in current if c.sha256}
    new = []
    for clip in clips:  # the same bytes twice (in the draft or in this batch): one clip
        if clip.sha256 and clip.sha256 in have:
            continue
        have.add(clip.sha256)
        new.append(clip)
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


def import_references(data: bytes, shown: str | None = None) -> int:
    """Save the references of a CSV and attach them to the draft's clips with the same SHA-256
    (the file is checked on its bytes first: size, columns, rows; see ``references.CSV_LIMITS``)."""
    rows = references.import_csv(data, reference_root(), shown=uploads.safe_label(shown) if shown else None)
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


SAMPLED_FRAMES = 12  # frames spread over the clip that tell where the athlete moves


@st.cache_data(show_spinner=False, max_entries=16)
def feet_centre(path: str, frames: int, share: float = FEET_SHARE) -> float:
    """Where across the frame (0 = left edge, 1 = right edge) the feet are: the centre of what
    moves in the frame's lowest ``share`` over frames spread across the clip (the athlete in
    front of a still camera). 0.5 when nothing moves or the frames cannot be read."""
    picks = sorted({int(i) for i in np.linspace(0, max(0, frames - 1), SAMPLED_FRAMES)})
    try:
        bands = [video.read_frame(path, i) for i in picks]
    except Exception:
        return 0.5
    if len(bands) < 3:
        return 0.5
    h = bands[0].shape[0]
    low = np.stack([b[int(h * (1 - share)) :].astype(np.float32).mean(axis=2) for b in bands])
    moving = np.abs(low - np.median(low, axis=0)).mean(axis=(0, 1))  # per column
    if not np.isfinite(moving).all() or moving.max() <= 0:
        return 0.5
    weights = np.clip(moving - 0.5 * moving.max(), 0.0, None)
    return float((weights * np.arange(len(weights))).sum() / weights.sum() / max(1, len(weights) - 1))


def crop_on_feet(image: np.ndarray, share: float, centre: float) -> np.ndarray:
    """The frame's lowest ``share``, and as much of its width around ``centre`` (0-1 across):
    the same zoom both ways, so the feet are larger, not only the lower part."""
    h, w = image.shape[:2]
    low = image[int(h * (1 - share)) :]
    if share >= 1.0:
        return low
    width = max(1, int(round(w * share)))
    left = int(round(centre * (w - 1) - width / 2))
    left = min(max(0, left), w - width)
    return low[:, left : left + width]


@st.cache_data(show_spinner=False, max_entries=64)
def feet_view(path: str, index: int, share: float = FEET_SHARE, centre: float = 0.5) -> np.ndarray:
    """Frame ``index`` (0-based decoded), cropped on the feet (``crop_on_feet``) and shown as RGB."""
    image = video.read_frame(path, index)
    return np.ascontiguousarray(crop_on_feet(image, share, centre)[:, :, ::-1])


def step_frame(key: str, delta: int, last: int) -> None:
    """A previous / next frame button's callback: move the scrubber by ``delta`` frames."""
    st.session_state[key] = min(last, max(0, int(st.session_state.get(key, 0)) + delta))


def neighbours(path: str, index: int, frames: int, share: float) -> list[tuple[int, np.ndarray]]:
    """The frame before, this one and the one after (those that exist), each cropped on the feet."""
    centre = feet_centre(path, frames) if share < 1.0 else 0.5
    return [(i, feet_view(path, i, share, centre)) for i in (index - 1, index, index + 1) if 0 <= i < frames]


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
        waits_as="study",
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
