"""The saved runs as the Results page reads them: listed and loaded through caches keyed by
the folders' mtimes, only those the viewer may see; titles, the list, the side-by-side table
and deleting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from posebench.access import run_access
from posebench.core.errors import BenchError
from posebench.dashboard import run_transfer, state
from posebench.store import run_store
from posebench.store.run_record import BenchmarkRun

COMPARE_KEY_COLUMNS = ("run", "backend", "fps", "latency_ms_mean", "latency_ms_p95", "detection_rate")
COMPARE_COLUMNS = (
    "fps",
    "latency_ms_mean",
    "latency_ms_p95",
    "model_ms_mean",
    "detection_rate",
    "init_ms",
    "peak_rss_mb",
    "frames",
    "status",
)
LIST_KEY_COLUMNS = ["name", "clip", "started", "verdict", "backends"]
LIST_COLUMNS = [*LIST_KEY_COLUMNS, "note", "status", "run_id", "cpu"]
SHARED_COLUMNS = ["owner", "shared"]


# -- reading, cached to what is on disk ---------------------------------------------------------
def mtime(path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


# Reading runs and zipping them is slow; a folder's mtime changes when a file is added, replaced
# (atomic writes rename) or removed in it, so it keys the caches to what is on disk.
@st.cache_data(max_entries=8, show_spinner=False)
def _list_runs(root: str, stamp: tuple) -> pd.DataFrame:
    return run_store.list_runs(Path(root))


def root_stamp(root: Path) -> tuple:
    """Every run folder with its and its access record's mtime (sharing changes the list too)."""
    try:
        return tuple(
            sorted(
                (p.name, p.stat().st_mtime, mtime(p / "access.json"))
                for p in root.iterdir()
                if not p.name.startswith(".")
            )
        )
    except OSError:
        return ()


@st.cache_data(max_entries=16, show_spinner=False)
def _load(path: str, stamp: float):
    return run_store.load(path)


@st.cache_data(max_entries=2, show_spinner=False)
def _zip(path: str, stamp: float) -> bytes:
    return run_transfer.zip_run(Path(path))


def visible_runs(root: Path, viewer) -> pd.DataFrame:
    """The saved runs this viewer may see, newest first."""
    return run_access.filter_visible(_list_runs(str(root), root_stamp(root)), viewer)


def load_run(viewer, path) -> BenchmarkRun:
    """A saved run this user may see, its clip path replaced by one this session may read."""
    if not viewer.can_see(run_access.owners.read(Path(path))):
        raise BenchError(f"there is no saved run named {Path(path).name} that you can open")
    run = _load(str(path), mtime(path))
    run.clip = replace(run.clip, path=state.readable_clip_path(run.clip))
    return run


def run_zip(path) -> bytes:
    """The run folder as a zip, to import elsewhere."""
    return _zip(str(path), mtime(path))


# -- tables ----------------------------------------------------------------------------------
def run_title(runs: pd.DataFrame, run_id: str) -> str:
    """How a run is named in pickers: its name (or id), clip and date."""
    row = runs[runs["run_id"] == run_id]
    if not len(row):
        return run_id
    row = row.iloc[0]
    return f"{row['name'] or run_id} · {row['clip']} · {str(row['started'])[:16].replace('T', ' ')}"


def run_list(runs: pd.DataFrame) -> pd.DataFrame:
    """The list as a person reads it: minutes, a name for every run, the verdict in words."""
    listed = runs.drop(columns=["path", "mine"])
    listed["started"] = listed["started"].str.slice(0, 16).str.replace("T", " ")
    listed["name"] = listed["name"].where(listed["name"] != "", listed["run_id"])
    listed["verdict"] = listed["verdict"].where(listed["verdict"] != "", "not judged yet")
    return listed


def side_by_side(loaded: dict[str, BenchmarkRun]) -> pd.DataFrame:
    """One row per configuration per run: run id -> run, summaries stacked with clip and machine."""
    parts = []
    for run_id, run in loaded.items():
        table = run.summary.copy()
        table.insert(0, "run", run_id)
        table.insert(2, "clip", run.clip.name)
        table["machine"] = run.environment.get("cpu", "")
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def delete_runs(viewer, run_ids: list[str], root: Path) -> tuple[list[str], list[str]]:
    """Delete each run the viewer owns: the ones deleted, and why the others were not."""
    deleted, problems = [], []
    for run_id in run_ids:
        try:
            run_access.delete_run(viewer, run_id, root)
            deleted.append(run_id)
        except BenchError as exc:
            problems.append(str(exc))
        except OSError as exc:  # permissions, a file held open
            problems.append(f"{run_id} could not be deleted: {exc.strerror or 'the system refused'}.")
    return deleted, problems
