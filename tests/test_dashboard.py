"""The dashboard's helpers: background runs, uploads, run import, charts."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.core.errors import BenchError, InputError
from posebench.dashboard import background_jobs, clip_input, run_transfer
from posebench.engine import runner
from posebench.report import run_charts
from posebench.store import run_record, run_store

pytestmark = [pytest.mark.timeout(300)]
CONFIGS = ["mediapipe-lite", "rtmpose-lightweight"]


def fake_run(
    tmp_path: Path | None = None,
    run_id: str | None = None,
    frames: int = 10,
    warmup: int = 2,
    fail_at: int | None = None,
):
    """A real runner pass over RUNNING with fake backends (fast, deterministic)."""

    def create(config, cache=None):
        return FakeBackend(config.display, fail_at=fail_at if config.family == "rtmpose" else None)

    with mock.patch.object(backends, "create", create):
        return runner.run_benchmark(
            str(RUNNING), CONFIGS, run_record.RunOptions(max_frames=frames, warmup=warmup), run_id=run_id
        )


# -- background runs ---------------------------------------------------------------------
FAKES = ["fakepose-a", "fakepose-b"]  # the tests' family (the fakepose fixture), made in the worker
SLOW_FAKES = ["fakepose-a:act=slow", "fakepose-b:act=slow"]  # 50 ms a frame


def test_a_job_runs_in_the_background_reports_progress_and_saves(fakepose, results_root):
    job = background_jobs.RunJob(
        str(RUNNING),
        [backends.parse(c) for c in FAKES],
        run_record.RunOptions(max_frames=8, warmup=2),
        results_root=results_root,
    )
    before = job.progress()
    assert [p.state for p in before] == ["starting", "waiting"]
    job.start()
    assert job.wait(240)
    assert job.error is None and job.save_error is None
    assert [p.state for p in job.progress()] == ["finished", "finished"]
    assert all(p.done == p.total == 8 for p in job.progress())
    assert job.saved_to == results_root / job.run_id and (job.saved_to / "run.json").exists()
    assert len(job.run.frames) == 16


def test_a_cancelled_job_keeps_its_frames_and_is_saved_as_cancelled(fakepose, results_root):
    job = background_jobs.RunJob(
        str(RUNNING),
        [backends.parse(c) for c in SLOW_FAKES],
        run_record.RunOptions(warmup=0),
        results_root=results_root,
    ).start()
    deadline = __import__("time").monotonic() + 240
    while not any(p.done for p in job.progress()) and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.05)
    job.cancel()
    assert job.wait(240)
    assert job.run.status == "cancelled"
    done = job.progress()
    assert done[0].state == "stopped" and 0 < done[0].done < 47
    assert done[1].state == "stopped" and done[1].done == 0
    saved = run_store.load(job.saved_to)
    assert saved.status == "cancelled" and len(saved.frames) == done[0].done


def test_a_job_that_cannot_start_says_why_in_one_sentence(results_root, tmp_path):
    job = background_jobs.RunJob(
        str(tmp_path / "missing.mp4"),
        [backends.parse("mediapipe-lite")],
        run_record.RunOptions(max_frames=5),
        results_root=results_root,
    ).start()
    assert job.wait(240)
    assert job.run is None and "missing.mp4" in job.error and "\n" not in job.error
    assert not results_root.exists() or not any(results_root.iterdir())


# -- uploads ---------------------------------------------------------------------------------
class Upload(io.BytesIO):
    """The parts of Streamlit's UploadedFile that save_upload and import_uploads use."""

    def __init__(self, name: str, data: bytes):
        super().__init__(data)
        self.name = name
        self.size = len(data)


@pytest.fixture
def uploads_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def test_an_upload_is_saved_inside_the_upload_folder_under_a_random_name(uploads_dir):
    data = RUNNING.read_bytes()
    clip = clip_input.save_upload(Upload("../../etc/My clip (1).mp4", data))
    with clip:
        assert clip.path.parent == clip_input.upload_dir() == uploads_dir
        assert clip.path.name.startswith("upload-") and clip.path.suffix == ".mp4"
        assert clip.label == clip.info.name == "My clip (1).mp4"  # the name is only a label
        assert clip.path.read_bytes() == data and clip.info.frames == 47
    assert not clip.path.exists() and list(uploads_dir.iterdir()) == []


@pytest.mark.parametrize(
    "name,data,words",
    [
        ("empty.mp4", b"", "empty"),
        ("clip.txt", b"x" * 100, "not a video"),  # judged by content, not by the name
    ],
)
def test_unusable_uploads_are_refused_in_one_sentence(uploads_dir, name, data, words):
    with pytest.raises(InputError, match=words) as err:
        clip_input.save_upload(Upload(name, data))
    assert "\n" not in str(err.value)
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []  # nothing left behind


def test_an_upload_lives_while_a_run_reads_it_and_goes_when_nothing_holds_it(
    fakepose, uploads_dir, results_root
):
    import gc
    import time

    clip = clip_input.save_upload(Upload("a.mp4", RUNNING.read_bytes()))
    path = clip.path
    job = background_jobs.RunJob(
        str(path),
        [backends.parse(c) for c in SLOW_FAKES],
        run_record.RunOptions(max_frames=20, warmup=0),
        results_root=results_root,
        keep=clip,
    ).start()
    del clip  # the browser session let go of it (e.g. the tab was closed)
    deadline = time.monotonic() + 240
    while not any(p.done for p in job.progress()) and time.monotonic() < deadline:
        time.sleep(0.05)
    gc.collect()
    assert path.exists()  # the run still reads it: every backend opens the file
    assert job.wait(240)
    assert job.error is None and job.run.status == "complete" and len(job.run.frames) == 40
    gc.collect()
    assert not path.exists() and list(uploads_dir.iterdir()) == []


def test_the_upload_limit_comes_from_the_environment(uploads_dir, monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOAD_MB", "1")
    assert clip_input.upload_limit_mb() == 1
    big = Upload("big.mp4", b"\0" * (1024 * 1024 + 1))
    with pytest.raises(InputError, match="upload limit of 1 MB"):
        clip_input.save_upload(big)
    monkeypatch.setenv("POSEBENCH_UPLOAD_MB", "not a number")
    assert clip_input.upload_limit_mb() == clip_input.DEFAULT_UPLOAD_MB


def test_clip_folders_are_listed_from_the_environment(monkeypatch, tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", f"{tmp_path}:{tmp_path / 'missing'}")
    assert clip_input.folder_clips() == [tmp_path / "a.mp4"]


# -- importing runs ----------------------------------------------------------------------------
def test_a_zipped_run_imports_into_another_results_folder(tmp_path):
    run = fake_run()
    source = run_store.save(run, tmp_path / "elsewhere")
    archive = run_transfer.zip_run(source)
    saved = run_transfer.import_uploads([Upload("run.zip", archive)], tmp_path / "here")
    loaded = run_store.load(saved)
    assert saved.name == run.run_id
    assert len(loaded.frames) == len(run.frames)
    assert np.allclose(loaded.frames["left_hip_x"], run.frames["left_hip_x"])
    with pytest.raises(BenchError, match="never overwritten"):
        run_transfer.import_uploads([Upload("run.zip", archive)], tmp_path / "here")


def test_loose_run_files_import_and_names_in_zips_never_become_paths(tmp_path):
    run = fake_run()
    source = run_store.save(run, tmp_path / "elsewhere")
    loose = [Upload(f"C:\\Users\\x\\{name}", (source / name).read_bytes()) for name in run_store.FILES]
    saved = run_transfer.import_uploads(loose, tmp_path / "here")
    assert (saved / "frames.csv").exists()

    buffer = io.BytesIO()
    meta = json.loads((source / "run.json").read_text())
    meta["run_id"] = "20250101-000000-zzzzzz"
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape/run.json", json.dumps(meta))
        archive.writestr("/abs/summary.csv", (source / "summary.csv").read_bytes())
        archive.writestr("x/frames.csv", (source / "frames.csv").read_bytes())
    saved = run_transfer.import_uploads([Upload("evil.zip", buffer.getvalue())], tmp_path / "here")
    assert saved.parent == tmp_path / "here" and not (tmp_path / "escape").exists()


@pytest.mark.parametrize(
    "files,words",
    [
        ([("notes.zip", b"not a zip")], "not a readable zip"),
        ([("run.json", b"{}")], "missing: summary.csv, frames.csv"),
    ],
)
def test_broken_imports_are_refused_in_one_sentence(tmp_path, files, words):
    with pytest.raises(InputError, match=words):
        run_transfer.import_uploads([Upload(n, d) for n, d in files], tmp_path)


# -- charts -------------------------------------------------------------------------------------
def test_charts_have_captions_with_the_settings_and_a_threshold_at_80_percent():
    run = fake_run(frames=12, warmup=3)
    specs = run_charts.all_charts(run, "mediapipe-lite")
    assert len(specs) == 4
    for spec in specs:
        assert "12 frames per backend" in spec.caption and "first 3" in spec.caption
        assert RUNNING.name in spec.caption and "machine" in spec.caption
        spec.chart.to_dict()  # a valid Vega-Lite spec
    spec = specs[0].chart.to_dict()
    rules = [layer for layer in spec["layer"] if layer["mark"].get("type") == "rule"]
    dataset = spec["datasets"][rules[0]["data"]["name"]]
    base_fps = run.summary.set_index("backend").loc["mediapipe-lite", "fps"]
    assert dataset[0]["threshold"] == pytest.approx(0.8 * base_fps)


def test_the_stages_add_up_to_the_mean_time_per_frame():
    frames = pd.DataFrame(
        {
            "backend": ["a", "a", "a", "b", "b"],
            "warmup": [True, False, False, False, False],
            "latency_ms": [99.0, 10.0, 12.0, 8.0, 8.0],
            "decode_ms": [9.0, 1.0, 1.0, 2.0, 2.0],
            "detect_ms": [9.0, 2.0, 4.0, np.nan, np.nan],  # b: a stage it does not report
            "pose_ms": [9.0, 5.0, 5.0, 4.0, 4.0],
        }
    )
    table = run_charts.stage_table(frames).set_index(["backend", "stage"])["ms"]
    none = {"preprocess": 0.0, "postprocess": 0.0}  # columns this table does not have
    assert table["a"].to_dict() == {"decode": 1.0, "detect": 3.0, "pose": 5.0, "other": 2.0, **none}
    assert table["b"].to_dict() == {"decode": 2.0, "detect": 0.0, "pose": 4.0, "other": 2.0, **none}


def test_where_the_time_goes_shows_measured_pre_and_postprocessing():
    run = fake_run(frames=6, warmup=1)
    stages = run_charts.stage_table(run.frames)
    assert {"preprocess", "postprocess"} <= set(stages["stage"])
    pre = stages[(stages["stage"] == "preprocess")]["ms"]
    assert (pre > 0).all()  # FakeBackend measures 0.1 ms: not folded into other
    run.options.stride = 2
    assert "1 frame in 2 kept" in run_charts.settings_text(run)
