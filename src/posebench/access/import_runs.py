"""Importing a run made elsewhere: untrusted data, checked member by member before loading.

``import_run(sources, root, owner)`` takes a zip of a run folder (or the folder's files
uploaded one by one), and:

1. copies each upload to a private temporary folder under a size limit, and unpacks
   only the four run-folder members (by base name, never by the path the zip gives),
   counting their real decompressed size (nested ``native.npz`` included);
2. checks every member against the schema below before anything is loaded: run.json's
   size, nesting depth and field types; each CSV's header line, column names and count
   and its row count; the shape and dtype of every array in native.npz (read from the
   ``.npy`` headers, not the data);
3. loads the run, checks the CSV columns' types, **drops every path** in it (the clip is
   linked only by its SHA-256 to a clip the importing user owns or uploads), and saves it
   under ``root`` owned by ``owner``, never overwriting a run of the same id;
4. writes an ``import`` line to the audit log.

Each refusal is one sentence naming the uploaded file. ``posebench runs import ZIP`` and
the Results page both call this.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import fields, replace
from pathlib import Path, PurePosixPath

import pandas as pd

from posebench.core import schema
from posebench.core.env import positive_env
from posebench.core.errors import InputError
from posebench.io import untrusted_files, video
from posebench.io.files import unneutralise
from posebench.store import audit, owners, run_store

RUN_JSON_BYTES = 1024**2
RUN_JSON_DEPTH = 16
MAX_BACKENDS = 32
MAX_FRAME_ROWS = 400_000  # 4 backends x 55 minutes at 30 frames/s
MAX_KEYPOINTS = 150  # the largest keypoint set PoseBench writes has 133
LIMITS = untrusted_files.Limits(
    member_bytes={
        "run.json": RUN_JSON_BYTES,
        "summary.csv": 1024**2,
        "frames.csv": 128 * 1024**2,
        "native.npz": 128 * 1024**2,
        "realtime.csv": 1024**2,
    },
    total_bytes=256 * 1024**2,
    csv_rows=MAX_FRAME_ROWS,
)
SUMMARY_ROWS = 1000
REQUIRED = ("run.json", "summary.csv", "frames.csv")
# Tables kept beside a run that an import carries too (checked like the others).
OPTIONAL_TABLES = {"realtime.csv": ("realtime", schema.REALTIME_COLUMNS)}
MEMBERS = (*run_store.FILES, *OPTIONAL_TABLES)
FRAME_BASE_COLUMNS = tuple(c for c in schema.FRAME_COLUMNS if c not in schema.landmark_columns())
FRAME_TEXT_COLUMNS = tuple(c for c, col in schema.FRAME_COLUMNS.items() if col.dtype == "str")
FRAME_COLUMNS = frozenset(schema.FRAME_COLUMNS)
SUMMARY_TEXT_UNITS = ("",)  # summary columns without a unit may hold text
NPZ_NAME = re.compile(r"^b(\d{1,2})_(keypoints|scores|keypoint_set|label)$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ABSOLUTE = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\)")


def import_limit_bytes() -> int:
    """Largest uploaded zip (``POSEBENCH_IMPORT_MB``, default 64)."""
    mb = positive_env("POSEBENCH_IMPORT_MB", 0.0, float)
    return int(mb * 1024**2) if mb else LIMITS.archive_bytes


# -- the checks ---------------------------------------------------------------------------
def _check_meta(meta, shown: str) -> dict:
    if not isinstance(meta, dict):
        raise InputError(f"{shown} is refused: run.json is not an object.")
    run_id = meta.get("run_id")
    if not isinstance(run_id, str) or not run_store.RUN_ID.match(run_id):
        raise InputError(f"{shown} is refused: run.json has no valid run_id.")
    clip = meta.get("clip")
    if not isinstance(clip, dict):
        raise InputError(f"{shown} is refused: run.json has no clip description.")
    types = {f.name: f.type for f in fields(video.ClipInfo)}
    for key, value in clip.items():
        wanted = types.get(key)
        if wanted is None:
            continue
        ok = {
            "str": isinstance(value, str) and len(value) <= 500,
            "int": isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12,
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
        }.get(str(wanted), True)
        if not ok:
            raise InputError(f"{shown} is refused: the clip's {key} in run.json is not a {wanted}.")
    backends = meta.get("backends", [])
    if not isinstance(backends, list) or len(backends) > MAX_BACKENDS:
        raise InputError(f"{shown} is refused: run.json lists more than {MAX_BACKENDS} backends.")
    for entry in backends:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("label"), str)
            or not isinstance(entry.get("spec"), str)
            or len(entry["label"]) > 300
            or len(entry["spec"]) > 1000
        ):
            raise InputError(f"{shown} is refused: a backend in run.json lacks a text label or spec.")
    for key in ("options", "environment"):
        if key in meta and not isinstance(meta[key], dict):
            raise InputError(f"{shown} is refused: {key} in run.json is not an object.")
    for key in ("status", "started", "finished"):
        if key in meta and not (isinstance(meta[key], str) and len(meta[key]) <= 100):
            raise InputError(f"{shown} is refused: {key} in run.json is not a short text.")
    if meta.get("status", "complete") not in STATUSES:
        raise InputError(f"{shown} is refused: its status is not one of {', '.join(STATUSES)}.")
    run_store.check_options(meta.get("options"), shown)
    _check_extras(meta, shown)
    return meta


STATUSES = ("complete", "cancelled", "failed")
MAX_JUMP_ROWS = MAX_BACKENDS
MAX_TEXT = 2000


def _scalar(value) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return value is None or isinstance(value, (int, float, bool))


def _numbers(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)))
        for k, v in value.items()
    )


def _check_extras(meta: dict, shown: str) -> None:
    """What a run carries beside its tables has the shape PoseBench writes, or it is refused:
    notices (texts), the jump table (rows of plain values), the scorecard settings (numbers),
    the reference (plain values), the name and note (texts)."""
    notices = meta.get("notices", [])
    if not (isinstance(notices, list) and len(notices) <= 100 and all(isinstance(n, str) for n in notices)):
        raise InputError(f"{shown} is refused: notices in run.json are not a list of texts.")
    if any(len(n) > MAX_TEXT for n in notices):
        raise InputError(f"{shown} is refused: a notice in run.json is longer than {MAX_TEXT} characters.")
    jump = meta.get("jump")
    if jump is not None and not (
        isinstance(jump, list)
        and len(jump) <= MAX_JUMP_ROWS
        and all(
            isinstance(row, dict)
            and len(row) <= 100
            and isinstance(row.get("backend"), str)
            and all(isinstance(k, str) and _scalar(v) for k, v in row.items())
            for row in jump
        )
    ):
        raise InputError(
            f"{shown} is refused: the jump table in run.json is not a list of rows, one per backend "
            f"(at most {MAX_JUMP_ROWS}), each naming its backend and holding plain values."
        )
    card = meta.get("scorecard")
    if card is not None and not (
        isinstance(card, dict)
        and all(card.get(k) is None or isinstance(card.get(k), str) for k in ("baseline", "candidate"))
        and _numbers(card.get("thresholds") or {})
        and isinstance(card.get("overrides") or {}, dict)
        and all(_numbers(v) for v in (card.get("overrides") or {}).values())
    ):
        raise InputError(
            f"{shown} is refused: the scorecard settings in run.json are not a baseline, a candidate "
            "and thresholds that are numbers."
        )
    reference = meta.get("reference")
    if reference is not None and not (
        isinstance(reference, dict) and all(isinstance(k, str) and _scalar(v) for k, v in reference.items())
    ):
        raise InputError(f"{shown} is refused: the reference in run.json is not a set of plain values.")
    for key, most in (("name", run_store.NAME_MAX), ("note", run_store.NOTE_MAX)):
        if key in meta and not (isinstance(meta[key], str) and len(meta[key]) <= most):
            raise InputError(
                f"{shown} is refused: the run's {key} is not a text of at most {most} characters."
            )


def _check_csv(path: Path, shown: str, name: str, allowed, required, max_rows: int) -> None:
    if path.stat().st_size <= 1:  # an empty table (a run that timed no frame)
        return
    header = untrusted_files.csv_header(path, shown, name, LIMITS)
    untrusted_files.check_columns(header, shown, name, allowed, required)
    untrusted_files.count_rows(path, shown, name, max_rows)


def _check_npz(path: Path, shown: str, budget: int, n_backends: int) -> None:
    headers = untrusted_files.npz_headers(path, shown, LIMITS, budget)
    for header in headers:
        match = NPZ_NAME.match(header.name)
        if not match or int(match.group(1)) >= max(n_backends, 1):
            raise InputError(f"{shown} is refused: native.npz holds an array PoseBench does not write.")
        kind, shape, dtype = match.group(2), header.shape, header.dtype
        if kind in ("label", "keypoint_set"):
            ok = shape == () and dtype.kind == "U" and dtype.itemsize <= 4 * 300
        elif kind == "keypoints":
            ok = (
                len(shape) == 3
                and shape[0] <= MAX_FRAME_ROWS
                and shape[1] <= MAX_KEYPOINTS
                and shape[2] in (2, 3)
                and dtype.kind == "f"
            )
        else:  # scores
            ok = len(shape) == 2 and shape[0] <= MAX_FRAME_ROWS and shape[1] <= MAX_KEYPOINTS
            ok = ok and dtype.kind == "f"
        if not ok:
            raise InputError(
                f"{shown} is refused: the array {header.name} in native.npz has the wrong shape or type "
                f"({'x'.join(map(str, shape)) or 'scalar'}, {dtype})."
            )


def _check_types(run, shown: str) -> None:
    for name, table, text in (
        ("frames.csv", run.frames, set(FRAME_TEXT_COLUMNS)),
        (
            "summary.csv",
            run.summary,
            {c for c, col in schema.SUMMARY_COLUMNS.items() if col.unit in SUMMARY_TEXT_UNITS},
        ),
    ):
        for column in table.columns:
            if column in text or table[column].isna().all():
                continue
            series = table[column]
            if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
                raise InputError(
                    f"{shown} is refused: the column {column} of {name} holds text, not numbers."
                )
    if len(run.summary) > SUMMARY_ROWS:
        raise InputError(f"{shown} is refused: summary.csv has more than {SUMMARY_ROWS} rows.")


def _carry_tables(run, folder: Path, shown: str) -> None:
    """The checked optional tables, kept with the run so that saving it writes them again."""
    for name, (key, columns) in OPTIONAL_TABLES.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size <= 1:
            continue
        try:
            table = unneutralise(pd.read_csv(path))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{shown} is refused: {name} is not a readable table ({type(exc).__name__})."
            ) from None
        for column in table.columns:
            series = table[column]
            if columns[column].dtype == "str" or series.isna().all():
                continue
            if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
                raise InputError(
                    f"{shown} is refused: the column {column} of {name} holds text, not numbers."
                )
        run.extra[key] = table.to_dict(orient="records")


def _drop_paths(value):
    """Every text that looks like a path on some machine, reduced to its last part."""
    if isinstance(value, dict):
        return {k: _drop_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_paths(v) for v in value]
    if isinstance(value, str) and ABSOLUTE.match(value):
        return PurePosixPath(value.replace("\\", "/")).name
    return value


def check_folder(folder: Path, shown: str) -> dict:
    """Check an unpacked run folder against the schema; returns its checked run.json."""
    missing = [n for n in REQUIRED if not (folder / n).is_file()]
    if missing:
        raise InputError(
            f"{shown} is refused: a run needs {', '.join(REQUIRED)}; missing: {', '.join(missing)}."
        )
    meta = _check_meta(
        untrusted_files.read_json(folder / "run.json", shown, "run.json", RUN_JSON_BYTES, RUN_JSON_DEPTH),
        shown,
    )
    _check_csv(
        folder / "summary.csv",
        shown,
        "summary.csv",
        schema.SUMMARY_COLUMNS.__contains__,
        ("backend",),
        SUMMARY_ROWS,
    )
    _check_csv(
        folder / "frames.csv",
        shown,
        "frames.csv",
        FRAME_COLUMNS.__contains__,
        ("backend", "frame"),
        MAX_FRAME_ROWS,
    )
    for name, (_key, columns) in OPTIONAL_TABLES.items():
        if (folder / name).is_file():
            _check_csv(folder / name, shown, name, columns.__contains__, ("backend",), SUMMARY_ROWS)
    npz = folder / "native.npz"
    if npz.is_file():
        used = sum((folder / n).stat().st_size for n in ("run.json", "summary.csv", "frames.csv"))
        _check_npz(npz, shown, LIMITS.total_bytes - used, len(meta.get("backends", [])))
    return meta


def _own_id(run, root: Path | None, owner: str, shown: str) -> None:
    """On a shared server an imported run gets a new id of its own (the zip's is kept as
    ``imported_from``), so no answer depends on whether another user's run has that id. Only
    runs this user can see are compared: one already imported, or the run itself, is refused."""
    from posebench.store.run_record import new_run_id

    original = run.run_id
    viewer = owners.Viewer(owner)
    base = Path(root or run_store.default_root())
    if base.is_dir():
        for folder in base.iterdir():
            if folder.name.startswith(".") or not viewer.can_see(owners.read(folder)):
                continue
            try:
                source = run_store.read_meta(folder).get("imported_from")
            except (InputError, OSError, AttributeError):
                continue
            if original in (folder.name, source):
                raise InputError(
                    f"{shown} is refused: you have this run already, as {folder.name}; a run is "
                    "imported once."
                )
    run.extra["imported_from"] = original
    run.run_id = new_run_id()


# -- the one entry point ------------------------------------------------------------------
def import_run(sources, root: Path | None = None, owner: str | None = None, shown: str | None = None) -> Path:
    """Check and save one run from ``sources``; returns its folder. ``InputError``: one sentence.

    ``sources``: a path to a zip, or a list of ``(name, stream_or_bytes_or_path)`` (a zip,
    or a run folder's files uploaded one by one). ``shown`` names the upload in sentences.
    """
    if isinstance(sources, (str, Path)):
        sources = [(Path(sources).name, Path(sources))]
    sources = list(sources)
    if not sources:
        raise InputError("choose a zip of a run folder, or its files, to import")
    shown = shown or ", ".join(untrusted_files.base_name(name) for name, _ in sources)[:200]
    try:
        return _import(sources, root, owner, shown)
    except OSError as exc:  # a full disk while unpacking or saving: one sentence, nothing kept
        raise InputError(
            f"{shown} could not be imported: {run_store.write_failure(exc)}; nothing of it was kept."
        ) from None


def _import(sources: list, root: Path | None, owner: str | None, shown: str) -> Path:
    with tempfile.TemporaryDirectory(prefix="posebench-import-") as tmp:
        work = Path(tmp)
        folder = work / "run"
        folder.mkdir()
        limit = import_limit_bytes()
        total = 0
        for index, (name, source) in enumerate(sources):
            base = untrusted_files.base_name(name)
            if isinstance(source, Path):
                raw = source
                if not raw.is_file():
                    raise InputError(f"{base} is not a file that can be read.")
                if raw.stat().st_size > limit:
                    raise InputError(f"{base} is larger than the import limit of {limit // 1024**2} MB.")
            else:
                raw = work / f"upload-{index}"
                untrusted_files.copy_upload(source, raw, limit, base)
            total += raw.stat().st_size
            if total > limit:
                raise InputError(f"{shown} is larger than the import limit of {limit // 1024**2} MB.")
            if base.lower().endswith(".zip"):
                found = untrusted_files.unpack_zip(
                    raw, base, MEMBERS, folder, replace(LIMITS, archive_bytes=limit)
                )
                if not found:
                    raise InputError(
                        f"{base} holds no run folder (no run.json, summary.csv or frames.csv in it)."
                    )
            elif base in MEMBERS:
                if (folder / base).exists():
                    raise InputError(f"{shown} holds two files named {base}; import one run at a time.")
                with open(raw, "rb") as fh:
                    untrusted_files.copy_limited(fh, folder / base, LIMITS.member_limit(base), base, base)
            else:
                raise InputError(
                    f"{base} is not part of a run folder "
                    "(summary.csv, frames.csv, run.json, native.npz, realtime.csv or a zip)."
                )
        check_folder(folder, shown)
        run = run_store.load(folder, shown=shown)
        _check_types(run, shown)
        _carry_tables(run, folder, shown)
        run.clip = replace(run.clip, path="")  # the clip is found again by its SHA-256, never by a path
        sha = getattr(run.clip, "sha256", "")
        if sha and not SHA256.match(str(sha)):
            run.clip = replace(run.clip, sha256="")
        run.environment = _drop_paths(run.environment)
        run.extra = _drop_paths(run.extra)
        if owner is not None and owner != owners.LOCAL:
            _own_id(run, root, owner, shown)
        saved = run_store.save(run, root, owner=owner)
    audit.record(
        "import", owner, saved.name, root, upload=shown, imported_from=run.extra.get("imported_from")
    )
    return saved
