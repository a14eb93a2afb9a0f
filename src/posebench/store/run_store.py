"""Saved runs under ``results/<run_id>/``: written atomically, never overwritten.

Each run folder holds ``summary.csv``, ``frames.csv``, ``run.json`` and
``native.npz`` (every backend's native keypoints). A run is written to a
hidden temporary folder and renamed into place at the end, so a cancelled or
crashed run leaves no half-written folder. Run ids are checked before they
touch the file system, so no name can reach outside the results folder.
"""

from __future__ import annotations

import errno
import itertools
import json
import math
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from posebench.core import schema
from posebench.core.errors import BenchError, InputError
from posebench.io import video
from posebench.io.files import FOLDER_NAME, folder_in, folder_name, neutralise, unneutralise
from posebench.io.untrusted_files import read_json
from posebench.store import owners

RUN_ID = FOLDER_NAME
FILES = ("summary.csv", "frames.csv", "run.json", "native.npz")
STALE_TMP_S = 3600  # a temporary folder this old was left by a killed process
RUN_JSON_BYTES = 4 * 1024**2  # a saved run.json larger than this is not read (ours are a few KB)
RUN_JSON_DEPTH = 64  # nor one nested deeper than this
# What is added to a run after its frames (``run.extra`` key -> file) lives in a sidecar file
# beside the saved run (``engine.sidecars``), never also in run.json: one place each.
SIDECARS = {
    "scorecard": "scorecard.json",
    "jump": "jump.csv",
    "reference": "reference.json",
    "realtime": "realtime.csv",  # ``posebench realtime``: schema.REALTIME_COLUMNS
}


def default_root() -> Path:
    return Path(os.environ.get("POSEBENCH_RESULTS", "results"))


def check_run_id(run_id: str) -> str:
    """Reject any run id that is not a plain folder name."""
    return folder_name(run_id, "run")


def run_dir(run_id: str, root: Path | None = None) -> Path:
    return folder_in(Path(root or default_root()), check_run_id(run_id), "the results folder")


def save(run, root: Path | None = None, owner: str | None = None, shared: bool = False) -> Path:
    """Write ``run`` to ``root/<run_id>`` atomically; refuse to overwrite.

    ``owner`` (a user name) is recorded in the run's ``access.json`` (see ``engine.owners``).
    """
    root = Path(root or default_root())
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _not_saved(run, root, exc) from None
    final = run_dir(run.run_id, root)
    if final.exists():
        raise BenchError(f"a saved run named {run.run_id} exists already; it is never overwritten")
    sweep_temporary(root)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{run.run_id}-", dir=root))
    except OSError as exc:
        raise _not_saved(run, root, exc) from None
    try:
        for name, table in (("summary.csv", run.summary), ("frames.csv", run.frames)):
            with open(tmp / name, "w", encoding="utf-8", newline="") as fh:
                neutralise(table).to_csv(fh, index=False)  # streamed, not built in memory
        meta = run.meta()
        for key, name in SIDECARS.items():
            _write_sidecar(tmp / name, meta.pop(key, None))
        (tmp / "run.json").write_text(json.dumps(meta, indent=2, default=_json_default), encoding="utf-8")
        arrays = {}
        for i, (label, data) in enumerate(run.native.items()):
            for key, value in data.items():
                arrays[f"b{i}_{key}"] = value
            arrays[f"b{i}_label"] = np.array(label)
        np.savez_compressed(tmp / "native.npz", **arrays)
        if owner is not None:
            owners.write(tmp, owners.Access(owner, shared))
        try:
            os.rename(tmp, final)  # atomic on one file system; fails if final appeared meanwhile
        except OSError:
            if final.exists():
                raise BenchError(
                    f"a saved run named {run.run_id} exists already; it is never overwritten"
                ) from None
            raise
    except OSError as exc:  # a full disk, a file-size limit, no permission: one sentence
        shutil.rmtree(tmp, ignore_errors=True)
        raise _not_saved(run, root, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def write_failure(exc: OSError) -> str:
    """Why a write failed, in a person's words."""
    return {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EFBIG: "a file would be larger than this process may write",
        errno.EACCES: "PoseBench may not write there",
        errno.EPERM: "PoseBench may not write there",
        errno.EROFS: "the folder is read-only",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def _not_saved(run, root: Path, exc: OSError) -> BenchError:
    """Why a run could not be written, in one sentence (nothing of it is kept or listed)."""
    return BenchError(
        f"the run {run.run_id} could not be saved in the results folder {root.name or root}: "
        f"{write_failure(exc)}; nothing of it was kept"
    )


def _write_sidecar(path: Path, data) -> None:
    """A sidecar that ``run.extra`` held before the run was saved: a table as CSV, else JSON."""
    if not data:
        return
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            neutralise(pd.DataFrame(data)).to_csv(fh, index=False)
    else:
        path.write_text(json.dumps(data, indent=2, default=_json_default), encoding="utf-8")


def sweep_temporary(root: Path, older_than_s: float = STALE_TMP_S) -> int:
    """Remove half-written run folders left by a process that was killed mid-save."""
    removed = 0
    cutoff = time.time() - older_than_s
    for path in Path(root).glob(".tmp-*"):
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path)
                removed += 1
        except OSError:
            continue
    return removed


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in run.json")


def read_meta(path: Path, shown: str | None = None) -> dict:
    """A run folder's run.json, read only when it is of a sane size and depth."""
    return read_json(
        Path(path) / "run.json", shown or Path(path).name, "run.json", RUN_JSON_BYTES, RUN_JSON_DEPTH
    )


_OPTION_TYPES = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "bool": lambda v: isinstance(v, bool),
}
_OPTION_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false"}


def check_options(options, shown: str):
    """A run's saved options as ``RunOptions``, each typed as the field says and within its
    rules (``RunOptions.check``); anything else is refused in one sentence."""
    from posebench.store.run_record import RunOptions

    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise InputError(f"{shown} is refused: its options are not a set of named values.")
    kept: dict[str, Any] = {}
    for f in fields(RunOptions):
        if f.name not in options:
            continue
        value, wanted = options[f.name], str(f.type)
        if value is None and "None" in wanted:
            kept[f.name] = None
            continue
        kind = wanted.split(" ")[0]
        if not _OPTION_TYPES.get(kind, lambda v: True)(value):
            raise InputError(
                f"{shown} is refused: its option {f.name} is {str(value)[:40]!r}, not "
                f"{_OPTION_WORDS.get(kind, kind)}."
            )
        kept[f.name] = value
    result = RunOptions(**kept)
    try:
        result.check()
    except BenchError as exc:
        raise InputError(f"{shown} is refused: its options make no sense ({exc}).") from None
    return result


def load(path: str | Path, shown: str | None = None):
    """Read a saved run folder back into a ``BenchmarkRun``.

    ``shown`` names the run in error sentences (default: the folder name).
    """
    from posebench.backends import backend_config
    from posebench.store.run_record import BenchmarkRun

    path = Path(path)
    shown = shown or path.name
    try:
        meta = read_meta(path, shown)
        summary = unneutralise(pd.read_csv(path / "summary.csv", keep_default_na=True))
        frames_file = path / "frames.csv"
        frames = unneutralise(pd.read_csv(frames_file)) if frames_file.stat().st_size > 1 else pd.DataFrame()
    except (OSError, ValueError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{shown} is not a readable PoseBench run ({type(exc).__name__})") from None
    if (
        not isinstance(meta, dict)
        or not isinstance(meta.get("clip"), dict)
        or not isinstance(meta.get("run_id"), str)
    ):
        raise InputError(f"{shown} is not a readable PoseBench run (run.json lacks run_id or clip)")
    check_run_id(meta["run_id"])
    native = {}
    npz = path / "native.npz"
    if npz.exists():
        try:
            with np.load(npz, allow_pickle=False) as data:
                for i in itertools.count():
                    if f"b{i}_label" not in data:
                        break
                    native[str(data[f"b{i}_label"])] = {
                        k: data[f"b{i}_{k}"] for k in ("keypoints", "scores", "keypoint_set")
                    }
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError(f"{shown} has a damaged native.npz ({type(exc).__name__})") from None
    configs = []
    for b in meta.get("backends") or []:
        try:
            cfg = backend_config.parse(b["spec"])
            configs.append(
                backend_config.override(cfg, {"label": b["label"]}) if b["label"] != cfg.spec() else cfg
            )
        except (BenchError, KeyError, TypeError):
            continue
    clip_fields = {f.name for f in fields(video.ClipInfo)}
    options = check_options(meta.get("options"), shown)  # typed: warmup "ten" is refused
    try:
        clip = video.ClipInfo(**{k: v for k, v in meta["clip"].items() if k in clip_fields})
    except (TypeError, ValueError) as exc:
        raise InputError(f"{shown} is not a readable PoseBench run ({type(exc).__name__})") from None
    known = {
        "run_id",
        "status",
        "started",
        "finished",
        "clip",
        "options",
        "backends",
        "environment",
        "overlapped_runs",  # runs saved before the summary was its one place
    }
    if len(summary) and "overlapped_runs" not in summary.columns:
        summary["overlapped_runs"] = int(meta.get("overlapped_runs", 0) or 0)
    return BenchmarkRun(
        run_id=meta["run_id"],
        clip=clip,
        options=options,
        configs=configs,
        frames=frames,
        summary=summary,
        native=native,
        environment=meta.get("environment", {}),
        started=meta.get("started", ""),
        finished=meta.get("finished", ""),
        status=meta.get("status", "complete"),
        extra={k: v for k, v in meta.items() if k not in known},
    )


LABEL_FILE = "label.json"  # a run's name and note, beside its files (which are never rewritten)
VERDICT_FILE = "verdict.json"  # the verdict written beside a run (decision, sentence/reason)
NAME_MAX, NOTE_MAX = 80, 2000  # characters


def read_label(folder: str | Path) -> dict:
    """``{"name", "note"}`` of a saved run: ``label.json`` when set, else what run.json holds."""
    folder = Path(folder)
    label = {"name": "", "note": ""}
    for source in (folder / "run.json", folder / LABEL_FILE):
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            label.update({k: str(data[k]) for k in ("name", "note") if isinstance(data.get(k), str)})
    return label


def set_label(run_id: str, name: str, note: str, root: Path | None = None) -> Path:
    """Name and annotate a saved run (plain text; kept in ``label.json`` beside the run)."""
    from posebench.io.files import write_atomic

    folder = run_dir(run_id, root)
    if not (folder / "run.json").exists():
        raise InputError(f"there is no saved run named {run_id}")
    name, note = " ".join(str(name).split()), str(note).strip()
    if len(name) > NAME_MAX:
        raise InputError(f"a run name has at most {NAME_MAX} characters; this one has {len(name)}")
    if len(note) > NOTE_MAX:
        raise InputError(f"a note has at most {NOTE_MAX} characters; this one has {len(note)}")
    path = folder / LABEL_FILE
    write_atomic(path, json.dumps({"name": name, "note": note}, indent=2).encode("utf-8"))
    return path


def read_verdict(folder: str | Path) -> str:
    """The decision saved beside a run (``verdict.json``), or "" when it has none."""
    try:
        data = json.loads((Path(folder) / VERDICT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(data.get("decision", "")) if isinstance(data, dict) else ""


LIST_COLUMNS = list(schema.RUN_LIST_COLUMNS)  # the list of saved runs


def list_runs(root: Path | None = None) -> pd.DataFrame:
    """One row per saved run, newest first: id, name, date, clip, verdict, note, ..."""
    root = Path(root or default_root())
    rows = []
    if root.exists():
        for path in root.iterdir():
            if path.name.startswith(".") or not (path / "run.json").exists():
                continue
            try:
                meta = read_meta(path)
                label = read_label(path)
                access = owners.read(path)
                rows.append(
                    {
                        "run_id": path.name,
                        "name": label["name"],
                        "started": str(meta.get("started", "")),
                        "clip": meta.get("clip", {}).get("name", ""),
                        "verdict": read_verdict(path),
                        "status": meta.get("status", ""),
                        "backends": ", ".join(b["label"] for b in meta.get("backends", [])),
                        "cpu": meta.get("environment", {}).get("cpu", ""),
                        "note": label["note"],
                        "path": str(path),
                        "owner": access.owner,
                        "shared": access.shared,
                    }
                )
            except (OSError, ValueError, KeyError, TypeError, AttributeError, InputError):
                continue  # a damaged or foreign folder is left out, not a broken list
    df = pd.DataFrame(rows, columns=LIST_COLUMNS)
    return df.sort_values("started", ascending=False, ignore_index=True)


def delete(run_id: str, root: Path | None = None) -> None:
    path = run_dir(run_id, root)
    if not (path / "run.json").exists():
        raise InputError(f"there is no saved run named {run_id}")
    shutil.rmtree(path)
