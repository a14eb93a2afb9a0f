"""Saved runs: formula-safe CSVs, numbers stay numbers, atomic saves, safe names, unique ids."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.backends import backend_config
from posebench.core.errors import BenchError, InputError
from posebench.engine.runner import run_benchmark
from posebench.io import files
from posebench.store import run_store
from posebench.store.run_record import RunOptions, new_run_id

pytestmark = pytest.mark.timeout(120)

HOSTILE_LABEL = '=HYPERLINK("http://x","click")'


@pytest.fixture
def fake_backends(monkeypatch):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))


def _run(**options):
    config = backend_config.override(backend_config.parse("mediapipe-lite"), {"label": HOSTILE_LABEL})
    return run_benchmark(
        str(RUNNING), [config, "rtmpose-lightweight"], RunOptions(**{"warmup": 2, "max_frames": 6, **options})
    )


# -- formula injection -------------------------------------------------------------------
def test_text_cells_are_neutralised_and_numbers_stay_numbers():
    df = pd.DataFrame(
        {
            "value": [-3.5, 2.0, -0.0],
            "count": [-1, 0, 7],
            "note": ["-cmd", "=1+1", "plain"],
            "who": ["@SUM(A1)", "+x", "\tq"],
        }
    )
    raw = files.to_csv_bytes(df).decode("utf-8")
    back = pd.read_csv(io.StringIO(raw))
    assert pd.api.types.is_float_dtype(back["value"]) and back["value"][0] == -3.5
    assert pd.api.types.is_integer_dtype(back["count"]) and back["count"][0] == -1
    assert list(back["note"]) == ["'-cmd", "'=1+1", "plain"]
    assert list(back["who"]) == ["'@SUM(A1)", "'+x", "'\tq"]
    assert "\n-3.5," in raw  # the number is written bare, not quoted or prefixed


def test_string_dtype_columns_are_neutralised_too():
    df = pd.DataFrame({"label": pd.array(["=cmd", "ok"], dtype="string")})
    assert list(files.neutralise(df)["label"]) == ["'=cmd", "ok"]


def test_saved_run_is_neutralised_on_disk_and_restored_on_load(fake_backends, results_root):
    run = _run()
    path = run_store.save(run)
    summary_text = (path / "summary.csv").read_text(encoding="utf-8")
    frames_text = (path / "frames.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in summary_text and "'=HYPERLINK" in frames_text
    assert "\n=HYPERLINK" not in summary_text and ",=HYPERLINK" not in frames_text
    loaded = run_store.load(path)
    assert loaded.summary["backend"][0] == HOSTILE_LABEL
    assert pd.api.types.is_float_dtype(loaded.frames["nose_x"])
    assert np.allclose(loaded.frames["nose_x"], run.frames["nose_x"])


# -- names ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["../x", "/etc", "a/b", "..", ".", "", ".hidden", "a\\b", "x" * 100, "a\x00b", "~root", " lead"]
)
def test_run_names_cannot_leave_the_results_folder(name, tmp_path):
    with pytest.raises(InputError):
        run_store.run_dir(name, tmp_path)
    with pytest.raises(InputError):
        run_store.delete(name, tmp_path)


def test_a_run_with_a_hostile_id_is_not_written_anywhere(fake_backends, tmp_path):
    run = _run()
    run.run_id = "../escaped"
    root = tmp_path / "results"
    with pytest.raises(InputError):
        run_store.save(run, root)
    assert not (tmp_path / "escaped").exists()
    assert not any(root.iterdir())


def test_run_ids_are_unique():
    ids = {new_run_id() for _ in range(5000)}
    assert len(ids) == 5000 and all(run_store.check_run_id(i) for i in ids)


# -- never overwritten, never half-written ---------------------------------------------------
def test_saved_runs_are_never_overwritten(fake_backends, results_root):
    run = _run()
    path = run_store.save(run)
    before = (path / "run.json").read_bytes()
    run.status = "changed"
    with pytest.raises(BenchError, match="never overwritten"):
        run_store.save(run)
    assert (path / "run.json").read_bytes() == before


def test_two_saves_of_one_id_at_once_keep_exactly_one(fake_backends, results_root):
    run = _run()
    barrier = threading.Barrier(4)
    outcomes = []

    def save():
        barrier.wait()
        try:
            outcomes.append(run_store.save(run))
        except BenchError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(saved) == 1 and len(outcomes) == 4
    assert sorted(p.name for p in results_root.iterdir()) == [run.run_id]
    assert run_store.load(saved[0]).run_id == run.run_id


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_crash_during_save_leaves_no_folder(fake_backends, results_root, monkeypatch, error):
    run = _run()

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(np, "savez_compressed", broken)
    # a failed write is one sentence (test_save_failures.py); an interrupt stays an interrupt
    with pytest.raises(BenchError if isinstance(error, OSError) else type(error)):
        run_store.save(run)
    assert list(results_root.iterdir()) == []  # no run folder, no .tmp- folder
    assert run_store.list_runs().empty


def test_leftovers_of_a_killed_save_are_swept(fake_backends, results_root):
    results_root.mkdir()
    stale = results_root / ".tmp-old-run-abc"
    stale.mkdir()
    (stale / "frames.csv").write_text("half")
    old = time.time() - 2 * run_store.STALE_TMP_S
    os.utime(stale, (old, old))
    fresh = results_root / ".tmp-live-run-def"  # another process may be saving right now
    fresh.mkdir()
    run_store.save(_run())
    assert not stale.exists() and fresh.exists()
    assert len(run_store.list_runs()) == 1


# -- loading what someone else made -----------------------------------------------------
@pytest.mark.parametrize("damage", ["no_json", "json_list", "no_clip", "bad_id", "bad_npz", "bad_option"])
def test_damaged_run_folders_are_refused_in_one_sentence(fake_backends, results_root, damage):
    path = run_store.save(_run())
    meta = json.loads((path / "run.json").read_text())
    if damage == "no_json":
        (path / "run.json").unlink()
    elif damage == "json_list":
        (path / "run.json").write_text("[1, 2]")
    elif damage == "no_clip":
        del meta["clip"]
        (path / "run.json").write_text(json.dumps(meta))
    elif damage == "bad_id":
        meta["run_id"] = "../../etc"
        (path / "run.json").write_text(json.dumps(meta))
    elif damage == "bad_npz":
        (path / "native.npz").write_bytes(b"not a zip")
    elif damage == "bad_option":
        meta["options"] = {"max_frames": 3, "warmup": 1, "nonsense": 1}
        meta["clip"]["bogus_field"] = 1
        (path / "run.json").write_text(json.dumps(meta))
        assert run_store.load(path).options.max_frames == 3  # unknown keys are ignored
        return
    with pytest.raises(InputError):
        run_store.load(path)


# -- the cap is stated -------------------------------------------------------------------
def test_a_capped_run_says_so_in_every_output(fake_backends, results_root):
    run = _run(max_frames=None, max_seconds=0.5)
    assert run.frames.groupby("backend").size().tolist() == [15, 15]
    path = run_store.save(run)
    meta = json.loads((path / "run.json").read_text())
    assert meta["options"]["max_seconds"] == 0.5
    assert any("first 15 of 47 frames" in n for n in meta["notices"])
    summary = pd.read_csv(path / "summary.csv")
    assert summary["notes"].str.contains("first 15 of 47 frames").all()
    assert summary["notes"].str.contains("set to at most 0.5 s").all()


def test_an_uncapped_run_has_no_cap_note(fake_backends, results_root):
    run = _run(max_frames=None)
    assert (run.summary["notes"] == "").all()
    assert not any("capped" in n for n in run.extra["notices"])


@pytest.mark.parametrize(
    "options", [{"max_frames": 0}, {"max_seconds": -1.0}, {"stride": 0}, {"warmup": -1}, {"max_side": 4}]
)
def test_senseless_options_are_refused(fake_backends, options):
    with pytest.raises(BenchError):
        _run(**options)


@pytest.mark.parametrize(
    "meta",
    [
        {"backends": [{"spec": "mediapipe-lite"}]},  # no label
        ["not", "a", "dict"],
        {"clip": "a string"},
    ],
)
def test_a_damaged_run_json_is_left_out_of_the_list(tmp_path, meta):
    good = tmp_path / "20260101-000000-good"
    good.mkdir()
    (good / "run.json").write_text(json.dumps({"started": "2026-01-01", "backends": []}))
    bad = tmp_path / "20260101-000001-bad"
    bad.mkdir()
    (bad / "run.json").write_text(json.dumps(meta))
    assert run_store.list_runs(tmp_path)["run_id"].tolist() == [good.name]
