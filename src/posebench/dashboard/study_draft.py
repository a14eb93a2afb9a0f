"""The study being put together on the Study page: its clips (the server's, the user's own
uploads, new uploads) and their references (edited, imported, or marked frame by frame).
Kept in the session until the study runs; references are kept by the clip's SHA-256."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from posebench.core.errors import InputError
from posebench.dashboard import auth, clip_input, parsing, state, study_view
from posebench.io import uploads, video
from posebench.io.files import safe_name
from posebench.store import references
from posebench.studies import study_folder

REFERENCE_TITLES = {  # the references table's number columns, in words with their units
    "flight_time_s": "Flight time (s)",
    "takeoff_frame": "Take-off frame",
    "landing_frame": "Landing frame",
}
DRAFT = "study_draft"  # session key: {"clips": [StudyClip, ...]} being put together


def public_clips() -> list[Path]:
    """Clips every user may use: the configured clip folders."""
    return clip_input.folder_clips()


def draft() -> dict:
    return st.session_state.setdefault(DRAFT, {"clips": []})


def add_public(paths: list[Path], kind: str) -> int:
    saved = references.load(study_view.reference_root())
    clips = []
    for path in paths:
        clip = study_folder.make_clip(path, path.name, kind)
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
    folder = study_view.study_root() / safe_name(study_name or "study", "study") / "clips"
    study_view.require_change(folder.parent, "add-clips")
    saved = references.load(study_view.reference_root())
    clips = []
    for accepted in chosen:
        target, _sha = _keep_by_content(accepted, folder)
        clip = study_folder.make_clip(target, accepted.label, kind)
        clip.reference = saved.get(clip.sha256)
        clips.append(clip)
    return _add(clips)


def _keep_by_content(accepted, folder: Path) -> tuple[Path, str]:
    """A copy of an accepted clip in the study's ``folder``, stored by content, never by its
    given name: two different clips both named same.mp4 are two files, the same bytes twice are
    one (the name is only a label). Returns (the copy, its SHA-256)."""
    folder.mkdir(parents=True, exist_ok=True)
    sha = accepted.info.sha256 or video.file_sha256(accepted.path)
    target = folder / f"{sha}{Path(accepted.path).suffix.lower()}"
    if not target.exists():
        partial = target.with_name(f".{target.name}.part")
        shutil.copyfile(accepted.path, partial)
        partial.replace(target)
    return target, sha


def add_uploads(files, study_name: str, kind: str) -> tuple[int, list[str]]:
    """Content-check each upload and keep the accepted ones in the study's folder.

    Returns (clips added, one sentence per refused file).
    """
    folder = study_view.study_root() / safe_name(study_name or "study", "study") / "clips"
    study_view.require_change(folder.parent, "add-clips")
    saved = references.load(study_view.reference_root())
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
            target, sha = _keep_by_content(accepted, folder)
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
        clip = study_folder.make_clip(target, accepted.label, kind)
        clip.reference = saved.get(clip.sha256)
        clips.append(clip)
    return _add(clips), refused


def _add(clips: list[study_folder.StudyClip]) -> int:
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


def clips_table(clips: list[study_folder.StudyClip]) -> pd.DataFrame:
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


def apply_edits(clips: list[study_folder.StudyClip], edited: pd.DataFrame) -> list[str]:
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
        clip.reference = references.save(ref, study_view.reference_root())
    return problems


def import_references(data: bytes, shown: str | None = None) -> int:
    """Save the references of a CSV and attach them to the draft's clips with the same SHA-256
    (the file is checked on its bytes first: size, columns, rows; see ``references.CSV_LIMITS``;
    then parsed in a worker process with a memory and a time limit, ``dashboard.parsing``)."""
    label = uploads.safe_label(shown) if shown else None
    rows = references.save_rows(parsing.reference_rows(data, label), study_view.reference_root())
    by_sha = {r.sha256: r for r in rows}
    for clip in draft()["clips"]:
        if clip.sha256 in by_sha:
            clip.reference = by_sha[clip.sha256]
    return len(rows)


def set_reference_frame(clip: study_folder.StudyClip, field: str, frame: int) -> str:
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
            references.save(ref.check(), study_view.reference_root())
        except InputError as exc:
            return str(exc)
    clip.reference = ref
    return ""
