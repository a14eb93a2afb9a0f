"""A study: a named set of clips x backends, each clip run once per backend, pooled.

A study lives in ``<root>/<study_id>/`` (``root`` is ``<results>/studies`` unless
given)::

    study.json          what the study is: name, clips (path, SHA-256, kind), backends, options
    rows.jsonl          one line per finished job, appended as jobs finish (the resume cache)
    study_clips.csv     one row per clip x backend, with the reference and the errors
    study_summary.csv   pooled per backend (see ``pooled.SUMMARY_COLUMNS``)
    study_jumps.csv     the per-jump table: one row per jump and backend (``analysis.per_jump``)
    filmstrips/         one PNG per jump: the frames around take-off and landing (``report.filmstrip``)
    verdict.json        the decision the study's evidence gives, and how many clips it rests on

Resuming: a job's row is keyed by the clip's SHA-256, the backend spec, the
options and the package versions (``study_jobs.job_key``); a re-run reuses every
row whose key it has and computes only the rest, so adding a clip to a
finished study computes only that clip.
"""

from __future__ import annotations

import json
import math
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from posebench import backends
from posebench.analysis import paired_comparison, per_jump
from posebench.core.errors import BenchError, InputError
from posebench.decision import decision_rules, headline_verdict, speed_evidence, verdict_evidence
from posebench.io.files import FOLDER_NAME, folder_in, folder_name, safe_name, write_atomic, write_csv_atomic
from posebench.store import references, run_store
from posebench.studies import pooled, study_events, study_jobs

STUDY_ID = FOLDER_NAME
DEFAULT_MIN_CLIPS = 10
DEFAULT_MARGIN_MS = float(decision_rules.THRESHOLDS["accuracy_margin_ms"][0])
FILES = {
    "clips": "study_clips.csv",
    "summary": "study_summary.csv",
    "verdict": "verdict.json",
    "definition": "study.json",
    "rows": "rows.jsonl",
    "jumps": "study_jumps.csv",
}
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


def default_root() -> Path:
    return run_store.default_root() / "studies"


def check_study_id(study_id: str) -> str:
    return folder_name(study_id, "study")


@dataclass
class StudyClip:
    path: str  # where the clip is on this machine ("" when it is missing)
    name: str  # as the manifest or the upload names it
    sha256: str = ""  # "" when the file could not be read
    kind: str = "cmj"
    reference: references.ClipReference | None = None
    athlete: str = ""  # who jumped: clips of one athlete are not independent ("" = not named)
    session: str = ""  # when / where they were filmed

    def to_dict(self) -> dict:
        out = asdict(self)
        out["reference"] = self.reference.as_row() if self.reference is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict) -> StudyClip:
        ref = data.get("reference")
        return cls(
            path=str(data.get("path", "")),
            name=str(data.get("name", "")),
            sha256=str(data.get("sha256", "")),
            kind=str(data.get("kind", "cmj")),
            reference=references.from_mapping(ref) if isinstance(ref, dict) else None,
            athlete=str(data.get("athlete") or ""),
            session=str(data.get("session") or ""),
        )


@dataclass
class Study:
    name: str
    clips: list[StudyClip]
    backends: list[str]  # specs; the first is the baseline
    options: dict = field(default_factory=dict)  # warmup, max_side, quality
    min_clips: int = DEFAULT_MIN_CLIPS
    study_id: str = ""
    margin_ms: float = DEFAULT_MARGIN_MS  # non-inferiority margin of the paired accuracy
    speed_runs: list[str] = field(default_factory=list)  # run folders: the speed evidence, one per target
    events: dict[str, str] = field(default_factory=dict)  # backend label -> event setting (issue 23)
    # What putting the study together found (clips listed twice, clips not found): said once,
    # not saved with the definition.
    notices: list[str] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self):
        self.study_id = check_study_id(self.study_id or safe_name(self.name, "study"))

    @property
    def baseline(self) -> str:
        return backends.parse(self.backends[0]).display if self.backends else ""

    def check(self) -> None:
        if not self.clips:
            raise InputError("a study needs at least one clip")
        if len(self.backends) < 1:
            raise InputError("a study needs at least one backend (the first is the baseline)")
        labels = [backends.parse(b).display for b in self.backends]
        if len(set(labels)) != len(labels):
            raise InputError("a backend is listed twice")
        if int(self.min_clips) < 1:
            raise InputError("the minimum number of clips must be 1 or more")
        if not (math.isfinite(float(self.margin_ms)) and float(self.margin_ms) >= 0):
            raise InputError("the accuracy margin must be 0 ms or more")
        self.events = study_events.resolve(self.events, labels)

    def jobs(self) -> list[study_jobs.StudyJob]:
        out = []
        for clip in self.clips:
            for spec in self.backends:
                options = {**self.options, "kind": clip.kind}
                setting = self.events.get(backends.parse(spec).display, study_events.APP_CURRENT)
                if setting != study_events.APP_CURRENT:  # today's settings keep their old job keys
                    options["events"] = setting
                out.append(study_jobs.StudyJob(clip.path, clip.sha256, spec, options))
        return out

    def groups(self) -> dict[str, dict[str, str]]:
        """Clip SHA-256 -> its athlete and session (as the manifest names them)."""
        return {c.sha256: {"athlete": c.athlete, "session": c.session} for c in self.clips if c.sha256}

    def references(self) -> dict[str, references.ClipReference]:
        return {c.sha256: c.reference for c in self.clips if c.sha256 and c.reference is not None}

    def to_dict(self) -> dict:
        return {
            "study_id": self.study_id,
            "name": self.name,
            "backends": list(self.backends),
            "options": dict(self.options),
            "min_clips": int(self.min_clips),
            "margin_ms": float(self.margin_ms),
            "speed_runs": [str(r) for r in self.speed_runs],
            "events": dict(self.events),
            "clips": [c.to_dict() for c in self.clips],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Study:
        return cls(
            name=str(data.get("name", "")),
            clips=[StudyClip.from_dict(c) for c in data.get("clips", [])],
            backends=[str(b) for b in data.get("backends", [])],
            options=dict(data.get("options") or {}),
            min_clips=int(data.get("min_clips", DEFAULT_MIN_CLIPS)),
            study_id=str(data.get("study_id", "")),
            margin_ms=float(data.get("margin_ms", DEFAULT_MARGIN_MS)),
            speed_runs=[str(r) for r in data.get("speed_runs") or []],
            events={str(k): str(v) for k, v in (data.get("events") or {}).items()},
        )


# -- building a study ---------------------------------------------------------------------
def make_clip(path: str | Path, name: str | None = None, kind: str = "cmj", reference=None) -> StudyClip:
    """A study clip from a file; a missing or unreadable file is kept (its row will say why)."""
    path = Path(path)
    try:
        sha = study_jobs.clip_sha256(path) if path.is_file() else ""
    except OSError:
        sha = ""
    if reference is not None and sha:
        reference.sha256 = reference.sha256 or sha
        if reference.sha256 != sha:
            raise InputError(
                f"the SHA-256 given for {name or path.name} does not match the file's "
                f"({reference.sha256[:12]}... vs {sha[:12]}...): is it the right clip?"
            )
    return StudyClip(
        path=str(path.resolve()) if path.exists() else str(path),
        name=name or path.name,
        sha256=sha,
        kind=kind,
        reference=reference,
    )


# -- storing ----------------------------------------------------------------------------
def folder_of(study_id: str, root: Path | None = None) -> Path:
    return folder_in(Path(root or default_root()), check_study_id(study_id), "the studies folder")


def save_definition(study: Study, root: Path | None = None) -> Path:
    folder = folder_of(study.study_id, root)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / FILES["definition"], json.dumps(study.to_dict(), indent=2).encode("utf-8"))
    return folder


def load(study_id: str, root: Path | None = None) -> Study:
    path = folder_of(study_id, root) / FILES["definition"]
    try:
        return Study.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"there is no readable study named {study_id} ({type(exc).__name__})") from None


# The list of saved studies: column -> (unit, meaning).
LIST_COLUMNS: dict[str, tuple[str, str]] = {
    "study_id": ("", "Folder name of the study."),
    "name": ("", "The study's name."),
    "clips": ("clips", "Clips in the study."),
    "backends": ("", "The configurations the study compares, the baseline first."),
    "decision": ("", "The study's verdict: replace, keep or undecided (empty before it has run)."),
    "updated": ("", "When the study was last changed (UTC)."),
    "path": ("", "Where the study's folder is on the server."),
}


def list_studies(root: Path | None = None) -> pd.DataFrame:
    """One row per saved study, newest first."""
    root = Path(root or default_root())
    rows = []
    if root.exists():
        for folder in root.iterdir():
            definition = folder / FILES["definition"]
            if folder.name.startswith(".") or not definition.exists():
                continue
            try:
                data = json.loads(definition.read_text(encoding="utf-8"))
                verdict = {}
                if (folder / FILES["verdict"]).exists():
                    verdict = json.loads((folder / FILES["verdict"]).read_text(encoding="utf-8"))
                rows.append(
                    {
                        "study_id": folder.name,
                        "name": str(data.get("name", "")),
                        "clips": len(data.get("clips", [])),
                        "backends": ", ".join(str(b) for b in data.get("backends", [])),
                        "decision": str(verdict.get("decision", "")),
                        "updated": datetime.fromtimestamp(definition.stat().st_mtime, UTC).isoformat(
                            timespec="seconds"
                        ),
                        "path": str(folder),
                    }
                )
            except (OSError, ValueError, TypeError, AttributeError):
                continue
    return pd.DataFrame(rows, columns=list(LIST_COLUMNS)).sort_values(
        "updated", ascending=False, ignore_index=True
    )


def delete(study_id: str, root: Path | None = None) -> None:
    folder = folder_of(study_id, root)
    if not (folder / FILES["definition"]).exists():
        raise InputError(f"there is no saved study named {study_id}")
    shutil.rmtree(folder)


def cached_rows(folder: Path) -> dict[str, dict]:
    """Rows of finished jobs by key (the last line of a key wins; a torn last line is skipped)."""
    path = folder / FILES["rows"]
    out: dict[str, dict] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and row.get("key") and row.get("status") in ("ok", "failed"):
            out[str(row["key"])] = row
    return out


_APPEND_LOCK = threading.Lock()


def _append_row(folder: Path, row: dict) -> None:
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
    with _APPEND_LOCK, open(folder / FILES["rows"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(clean, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


# -- running ----------------------------------------------------------------------------
@dataclass
class StudyResult:
    study: Study
    folder: Path
    clips: pd.DataFrame  # study_clips.csv
    summary: pd.DataFrame  # study_summary.csv
    verdict: headline_verdict.Verdict | None
    computed: int  # jobs run this time
    reused: int  # jobs taken from earlier runs
    cancelled: bool = False
    # (clip SHA-256, backend) -> the model's foot points near its events (``per_jump.feet_near``),
    # for the filmstrips; kept out of the CSVs
    feet: dict = field(default_factory=dict)

    @property
    def n_clips(self) -> int:
        return len(self.study.clips)

    def files(self) -> dict[str, Path]:
        return {k: self.folder / v for k, v in FILES.items() if (self.folder / v).exists()}


Progress = Callable[[int, int, str], None]  # (jobs done, jobs in all, what just finished)


def run(
    study: Study,
    root: Path | None = None,
    *,
    executor=None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> StudyResult:
    """Run the jobs the study does not have yet, then write its tables and verdict."""
    study.check()
    folder = save_definition(study, root)
    cache = cached_rows(folder)
    all_jobs = study.jobs()
    rows: dict[str, dict] = {}
    pending = []
    for job in all_jobs:
        if job.clip_sha256 and job.key in cache:
            rows[job.key] = cache[job.key]
        else:
            pending.append(job)
    reused = len(rows)
    total = len(all_jobs)
    if progress is not None:
        progress(reused, total, f"{reused} of {total} jobs already done; {len(pending)} to run")
    done = [reused]
    executor = executor or _default_executor()

    def on_result(index: int, row: dict) -> None:
        job = pending[index]
        row = {**row, "key": job.key}
        rows[job.key] = row
        if row.get("status") in ("ok", "failed") and job.clip_sha256:
            _append_row(folder, row)
        done[0] += 1
        if progress is not None:
            state = "ok" if row.get("status") == "ok" else f"failed: {row.get('error', '')}"
            progress(done[0], total, f"{row.get('clip', '')} x {row.get('backend', job.backend)}: {state}")

    try:
        if pending:
            executor.run(pending, on_result, cancel)
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
    cancelled = bool(cancel is not None and cancel.is_set())
    ordered = [rows[j.key] for j in all_jobs if j.key in rows]
    result = tables(study, ordered, folder)
    result.computed, result.reused, result.cancelled = len(ordered) - reused, reused, cancelled
    return result


def _default_executor():
    """Here, one job after another, unless a cluster is configured (``POSEBENCH_RAY_ADDRESS``,
    ``RAY_ADDRESS``): that is how the dashboard's Study page uses a cluster (docs/scale.md)."""
    from posebench.studies.study_executor import executor_for

    return executor_for(None)


def _name_rows(study: Study, rows: list[dict]) -> list[dict]:
    """Rows name clips as the study does (manifest path or upload name), not by a worker's path."""
    names = {c.sha256: c.name for c in study.clips if c.sha256}
    by_path = {c.path: c.name for c in study.clips}
    out = []
    for row in rows:
        row = dict(row)
        row["clip"] = (
            names.get(str(row.get("sha256", "")))
            or by_path.get(str(row.get("clip", "")))
            or row.get("clip", "")
        )
        out.append(row)
    return out


def tables(study: Study, rows: list[dict], folder: Path, write: bool = True) -> StudyResult:
    """The study's tables and verdict from the rows; ``write``: also study_clips.csv,
    study_summary.csv and verdict.json."""
    baseline = study.baseline
    feet = {
        (str(r.get("sha256", "")), str(r.get("backend", ""))): r["feet"]
        for r in rows
        if isinstance(r.get("feet"), dict)
    }
    rows = [{k: v for k, v in r.items() if k != "feet"} for r in rows]
    rows = study_events.calibrate_rows(study, _name_rows(study, rows))
    clips = pooled.clip_table(rows, study.references(), baseline, study.groups())
    summary = pooled.summary(clips, baseline)
    verdict = judge(study, summary, clips)
    if write:
        write_csv_atomic(clips, folder / FILES["clips"])
        write_csv_atomic(summary, folder / FILES["summary"])
        write_csv_atomic(per_jump.table(clips), folder / FILES["jumps"])
        if verdict is not None:
            headline_verdict.write_json(verdict, folder / FILES["verdict"])
    return StudyResult(study, folder, clips, summary, verdict, computed=0, reused=0, feet=feet)


def judge(
    study: Study, summary: pd.DataFrame, clips: pd.DataFrame | None = None
) -> headline_verdict.Verdict | None:
    """The study's verdict (None with one backend): the paired accuracy of each candidate
    against the baseline, clip by clip, and speed from the study's dedicated speed runs, one
    decision per deployment target (none given: 'not measured' on this machine)."""
    if len(summary) < 2:
        return None
    comparisons, groups = {}, {}
    reference_s = float("nan")
    if clips is not None and len(clips):
        for label in summary["backend"]:
            if label == study.baseline:
                continue
            table = pooled.paired_table(clips, study.baseline, label)
            if len(table):
                comparisons[label] = paired_comparison.compare(table["diff_ms"], study.margin_ms)
                comparisons[label].errors = study_events.errors_words(study, [study.baseline, label])
                groups[label] = paired_comparison.clusters(
                    table["diff_ms"], table["athlete"], table["session"]
                )
        refs = pd.to_numeric(clips["reference_flight_time_s"], errors="coerce").dropna()
        reference_s = float(refs.mean()) if len(refs) else reference_s
    evidence = verdict_evidence.Evidence.from_study(
        summary,
        n_clips=len({c.sha256 or c.path for c in study.clips}),
        baseline=study.baseline,
        name=study.name,
        paired=comparisons,
        clusters=groups,
        reference_flight_s=reference_s,
    )
    evidence.incidental_speed = pooled.incidental_speed_words(summary, study.baseline)
    rules = headline_verdict.rules_with({"min_clips": study.min_clips, "accuracy_margin_ms": study.margin_ms})
    verdict = headline_verdict.decide_for_targets(evidence, speed_sources(study), rules)
    return study_events.say_settings(study, verdict, summary)


def speed_sources(study: Study) -> list[speed_evidence.SpeedSource]:
    """The study's speed runs as speed evidence (a run that cannot be read is an InputError)."""
    out = []
    for folder in study.speed_runs:
        try:
            out.append(speed_evidence.from_folder(folder))
        except BenchError as exc:
            raise InputError(f"the speed run {folder} cannot be read: {exc}") from None
    return out


def open_result(study_id: str, root: Path | None = None) -> StudyResult:
    """A saved study's tables and verdict, recomputed from its rows (nothing is run)."""
    study = load(study_id, root)
    folder = folder_of(study_id, root)
    cache = cached_rows(folder)
    rows = [cache[j.key] for j in study.jobs() if j.key in cache]
    return tables(study, rows, folder, write=False)


def pooled_sentence(result: StudyResult) -> str:
    """One sentence: how many clips and jobs the tables rest on."""
    ok = int((result.clips["status"] == "ok").sum()) if len(result.clips) else 0
    failed = len(result.clips) - ok
    return (
        f"{result.n_clips} clip{'s' if result.n_clips != 1 else ''} x {len(result.study.backends)} "
        f"backend{'s' if len(result.study.backends) != 1 else ''}: {ok} jumps found, {failed} "
        f"without a jump; {result.computed} job{'s' if result.computed != 1 else ''} run now, "
        f"{result.reused} taken from earlier runs."
    )


def add_clips(study: Study, clips: list[StudyClip]) -> Study:
    """The study with more clips (a clip already in it, by SHA-256, is not added twice)."""
    have = {c.sha256 for c in study.clips if c.sha256}
    study.clips.extend(c for c in clips if not c.sha256 or c.sha256 not in have)
    return study


def folder_clips(
    folder: str | Path, kind: str = "cmj", reference_root: Path | None = None
) -> list[StudyClip]:
    """Every video in a folder as study clips, with any saved reference for their SHA-256."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    saved = references.load(reference_root)
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
            clip = make_clip(path, path.name, kind)
            clip.reference = saved.get(clip.sha256)
            out.append(clip)
    if not out:
        raise InputError(f"there is no video in {folder}")
    return out


__all__ = [
    "DEFAULT_MIN_CLIPS",
    "FILES",
    "Study",
    "StudyClip",
    "StudyResult",
    "add_clips",
    "folder_clips",
    "list_studies",
    "load",
    "make_clip",
    "open_result",
    "run",
    "tables",
]
