"""A study from a manifest CSV: one row per clip (path relative to the CSV, jump kind, the
by-eye reference, and optionally who jumped and when), every row checked before any clip is
read; ``from_manifest`` is what ``posebench study MANIFEST`` and the event search start from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from posebench.core.errors import InputError
from posebench.io import video
from posebench.store import references
from posebench.studies.study_folder import DEFAULT_MARGIN_MS, DEFAULT_MIN_CLIPS, Study, StudyClip, make_clip

GROUP_COLUMNS = ("athlete", "session")  # optional manifest columns: who jumped, and when


def _reference_of(row: dict) -> references.ClipReference | None:
    ref = references.from_mapping(row)
    has_numbers = not math.isnan(ref.flight_time_s) or ref.has_frames
    return ref if has_numbers else None


def from_manifest(
    manifest: str | Path,
    backend_specs: list[str],
    *,
    name: str | None = None,
    options: dict | None = None,
    min_clips: int = DEFAULT_MIN_CLIPS,
    reference_root: Path | None = None,
    margin_ms: float = DEFAULT_MARGIN_MS,
    speed_runs: list[str] | None = None,
    events: dict[str, str] | None = None,
) -> Study:
    """A study from a manifest CSV (columns ``references.CSV_COLUMNS``; ``clip`` relative to it).

    A row's reference columns, when filled, are the clip's reference; when empty,
    a reference saved for the clip's SHA-256 (``references``) is used.
    """
    manifest = Path(manifest)
    rows = _manifest_rows(manifest)
    notices = _missing_clips(manifest, rows)
    clips, repeats = _manifest_clips(rows, references.load(reference_root))
    notices += repeats
    study = Study(
        name=name or manifest.stem,
        clips=clips,
        backends=list(backend_specs),
        options=dict(options or {}),
        min_clips=min_clips,
        margin_ms=margin_ms,
        speed_runs=[str(r) for r in speed_runs or []],
        events=dict(events or {}),
    )
    study.notices = notices
    study.check()
    return study


@dataclass
class _ManifestRow:
    line: int  # the manifest's line (the header is line 1)
    rel: str  # the clip's path as written, relative to the manifest
    kind: str
    reference: references.ClipReference | None  # from the row's own reference columns
    path: Path
    group: tuple[str, ...]  # (athlete, session)


def _manifest_rows(manifest: Path) -> list[_ManifestRow]:
    """Every row of the manifest, checked (clip path, jump kind, reference numbers); no clip is read."""
    if not manifest.is_file():
        raise InputError(f"there is no manifest at {manifest}")
    table = references.read_csv(manifest)
    if "clip" not in table.columns:
        raise InputError("the manifest needs a 'clip' column with paths relative to the manifest")
    rows = []
    for line, (_, row) in enumerate(table.iterrows(), start=2):
        rel = str(row.get("clip", "")).strip()
        if not rel:
            raise InputError(f"manifest line {line}: the clip path is empty")
        kind = (str(row.get("kind", "")).strip().lower() or "cmj") if "kind" in table.columns else "cmj"
        if kind not in references.KINDS:
            raise InputError(f"manifest line {line}: the jump kind must be cmj or dj, not '{kind}'")
        try:
            ref = _reference_of(row.to_dict())
        except InputError as exc:
            raise InputError(f"manifest line {line}: {exc}") from None
        group = tuple(str(row.get(c, "") or "").strip()[:200] for c in GROUP_COLUMNS)
        rows.append(_ManifestRow(line, rel, kind, ref, (manifest.parent / rel).resolve(), group))
    return rows


def _missing_clips(manifest: Path, rows: list[_ManifestRow]) -> list[str]:
    """Every missing clip in one pass, before any clip is read: refused when none is here, a
    notice when some are not."""
    missing = [row.rel for row in rows if not row.path.is_file()]
    if rows and len(missing) == len(rows):
        raise InputError(
            f"none of the {len(rows)} clips in {manifest.name} is on this machine (paths are relative "
            f"to the manifest's folder): {_some(missing)}"
        )
    if missing:
        return [
            f"{len(missing)} of the {len(rows)} clips in {manifest.name} are not on this machine; their "
            f"rows will say so: {_some(missing)}"
        ]
    return []


def _manifest_clips(
    rows: list[_ManifestRow], saved: dict[str, references.ClipReference]
) -> tuple[list[StudyClip], list[str]]:
    """The study's clips (the same bytes on two lines: one clip, with the first line's
    reference), each with its row's reference checked or the one saved for its SHA-256; and
    one notice per repeated clip."""
    clips: list[StudyClip] = []
    first_line: dict[str, int] = {}
    repeats: dict[str, list[int]] = {}
    for row in rows:
        clip = make_clip(row.path, row.rel, row.kind, row.reference)
        if clip.sha256 and clip.sha256 in first_line:  # the same bytes: one clip, counted once
            repeats.setdefault(clip.sha256, [first_line[clip.sha256]]).append(row.line)
            continue
        if clip.sha256:
            first_line[clip.sha256] = row.line
        clip.athlete, clip.session = row.group
        ref = row.reference
        if ref is not None and clip.sha256:
            ref.clip = ref.clip or row.rel
            # frames within the clip: its index's frame count (read without decoding; 0 = unknown)
            frames = video.container_facts(row.path).indexed_frames if ref.has_frames else 0
            try:
                ref.check(frames or None)
            except InputError as exc:
                raise InputError(f"manifest line {row.line}: {exc}") from None
        elif clip.sha256 in saved:
            clip.reference = saved[clip.sha256]
        clips.append(clip)
    notices = [
        f"manifest lines {', '.join(map(str, lines))} are the same clip (one SHA-256): it is "
        "counted once, with the first line's reference"
        for lines in repeats.values()
    ]
    return clips, notices


def _some(names: list[str], shown: int = 5) -> str:
    """The first few names, and how many more."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more + "."


__all__ = ["GROUP_COLUMNS", "from_manifest"]
