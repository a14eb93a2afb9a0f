"""Studies: references, pooled statistics, the ``posebench study`` command, resuming."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import clipgen
from conftest import CMJ, LAB, RUNNING
from posebench import cli
from posebench.analysis import agreement
from posebench.core.errors import InputError
from posebench.store import references
from posebench.studies import pooled

pytestmark = pytest.mark.timeout(900)

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64


# -- references -----------------------------------------------------------------------------
def test_references_are_saved_edited_exported_and_imported_by_sha256(tmp_path):
    root = tmp_path / "results"
    references.save(references.ClipReference("cmj.mp4", SHA_A, "cmj", 0.57, source="by eye"), root)
    references.save(references.ClipReference("dj.mp4", SHA_B, "dj", takeoff_frame=10, landing_frame=25), root)
    edited = references.get(SHA_A, root)
    edited.flight_time_s, edited.note = 0.6, "re-measured"
    references.save(edited, root)
    listed = references.list_references(root)
    assert list(listed.columns) == list(references.CSV_COLUMNS)
    assert list(listed["clip"]) == ["cmj.mp4", "dj.mp4"]
    assert references.get(SHA_A, root).flight_time_s == 0.6

    exported = references.export_csv(root)
    other = tmp_path / "elsewhere"
    assert len(references.import_csv(exported, other)) == 2
    assert references.get(SHA_B, other).landing_frame == 25
    assert references.get(SHA_A, other).note == "re-measured"
    references.delete(SHA_B, other)
    assert references.get(SHA_B, other) is None


@pytest.mark.parametrize(
    "line, message",
    [
        (f"x.mp4,{SHA_A},cmj,,,,,", "needs a flight time or both"),
        (f"x.mp4,{SHA_A},cmj,3.5,,,,", "between 0 and 2"),
        (f"x.mp4,{SHA_A},cmj,,20,10,,", "must come after the take-off"),
        (f"x.mp4,{SHA_A},squat,0.5,,,,", "cmj or dj"),
        ("x.mp4,abc,cmj,0.5,,,,", "SHA-256"),
        (f"x.mp4,{SHA_A},cmj,fast,,,,", "'fast' is not a number"),
    ],
)
def test_a_bad_reference_row_is_refused_with_its_line(tmp_path, line, message):
    data = ",".join(references.CSV_COLUMNS) + "\n" + line + "\n"
    with pytest.raises(InputError, match=message) as info:
        references.import_csv(data, tmp_path)
    assert "line 2" in str(info.value)
    assert not references.store_path(tmp_path).exists()  # nothing half-imported


# -- pooled statistics ----------------------------------------------------------------------
def _row(sha, backend, flight, takeoff, status="ok"):
    return {
        "clip": f"{sha[:3]}.mp4",
        "sha256": sha,
        "backend": backend,
        "status": status,
        "error": "" if status == "ok" else "no jump found",
        "flight_time_s": flight,
        "jump_height_m": 9.81 * flight**2 / 8,
        "takeoff_frame": takeoff,
        "landing_frame": takeoff + flight * 30,
        "fps_clip": 30.0,
        "fps": 20.0,
        "host": "h",
        "detection_rate": 1.0,
    }


def test_the_pooled_table_is_the_agreement_of_each_backend_with_the_reference():
    refs = {
        s: references.ClipReference(
            f"{s[:3]}.mp4", s, "cmj", flight_time_s=ft, takeoff_frame=t, landing_frame=t + 15
        )
        for s, ft, t in ((SHA_A, 0.50, 100), (SHA_B, 0.60, 200), (SHA_C, 0.40, 50))
    }
    rows = [
        _row(SHA_A, "mp", 0.51, 100),
        _row(SHA_B, "mp", 0.58, 201),
        _row(SHA_C, "mp", 0.41, 50),
        _row(SHA_A, "rtm", 0.46, 102),
        _row(SHA_B, "rtm", 0.55, 202),
        _row(SHA_C, "rtm", np.nan, np.nan, status="failed"),
    ]
    clips = pooled.clip_table(rows, refs, "mp")
    table = pooled.summary(clips, "mp").set_index("backend")
    assert table.loc["mp", "role"] == "baseline" and table.loc["rtm", "role"] == "candidate"
    assert table.loc["mp", "n_clips"] == 3 and table.loc["rtm", "n_clips"] == 2
    assert table.loc["rtm", "n_failed"] == 1
    expected = agreement.agreement([510, 580, 410], [500, 600, 400])
    for col, attr in (("flight_time_bias_ms", "bias"), ("loa_low_ms", "loa_low"), ("icc", "icc"), ("r", "r")):
        assert table.loc["mp", col] == pytest.approx(getattr(expected, attr))
    assert table.loc["rtm", "flight_time_bias_ms"] == pytest.approx(-45.0)
    assert table.loc["rtm", "flight_time_mae_ms"] == pytest.approx(45.0)
    assert table.loc["rtm", "takeoff_bias_frames"] == pytest.approx(2.0)  # 2 frames late
    assert table.loc["rtm", "takeoff_offset_frames"] == -2  # the calibration moves it 2 earlier
    assert table.loc["rtm", "takeoff_diff_bias_frames"] == pytest.approx(1.5)  # vs the baseline
    assert table.loc["rtm", "flight_time_diff_bias_ms"] == pytest.approx(-40.0)
    assert table.loc["rtm", "n_paired_baseline"] == 2
    row = clips[(clips["backend"] == "rtm") & (clips["sha256"] == SHA_A)].iloc[0]
    assert row["flight_time_error_ms"] == pytest.approx(-40.0)
    assert row["takeoff_error_frames"] == 2.0 and row["flight_time_diff_ms"] == pytest.approx(-50.0)


# -- the command ------------------------------------------------------------------------------
def _manifest(folder, lines):
    text = ",".join(references.CSV_COLUMNS) + "\n" + "\n".join(lines) + "\n"
    (folder / "manifest.csv").write_text(text, encoding="utf-8")
    return folder / "manifest.csv"


@pytest.mark.integration
def test_posebench_study_writes_tables_plots_and_verdict_and_resumes(tmp_path, capsys):
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(CMJ, clips / "cmj.mp4")
    shutil.copy(RUNNING, clips / "running.mp4")
    (clips / "notes.mp4").write_text("not a video")
    clipgen.blank_wall_clip(clips / "wall.mp4", frames=12)
    # the clip manifest's by-eye reading of the CMJ clip: first airborne frame 261, first contact 277
    lines = [
        "clips/cmj.mp4,,cmj,,261,277,by eye (shared/clips/MANIFEST.md),±1-2 frames",
        "clips/running.mp4,,cmj,,,,,",
        "clips/notes.mp4,,cmj,0.5,,,made to fail,",
        "clips/wall.mp4,,cmj,0.5,,,made to fail,",
        "clips/missing.mp4,,cmj,0.5,,,made to fail,",
    ]
    manifest = _manifest(tmp_path, lines)
    out = tmp_path / "studies"
    args = ["study", str(manifest), "-b", "mediapipe-lite", "-b", "rtmpose-lightweight-tuned"]
    args += ["--out", str(out), "--warmup", "2"]
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    assert "0 of 10 jobs already done; 10 to run" in printed.err
    assert "cmj.mp4 x mediapipe-lite: ok" in printed.err
    folder = out / "manifest"
    for name in (
        "study_clips.csv",
        "study_summary.csv",
        "verdict.json",
        "bland_altman.png",
        "errors_per_clip.png",
    ):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "bland_altman.png").read_bytes()[:4] == b"\x89PNG"

    table = pd.read_csv(folder / "study_clips.csv")
    assert len(table) == 10  # every clip x backend is a row, failing ones included
    reasons = table.set_index(["clip", "backend"])["error"]
    assert "not a video" in reasons[("clips/notes.mp4", "mediapipe-lite")]
    assert "no person" in reasons[("clips/wall.mp4", "mediapipe-lite")]
    assert "not on this machine" in reasons[("clips/missing.mp4", "rtmpose-lightweight-tuned")]
    cmj = table[table["clip"] == "clips/cmj.mp4"].set_index("backend")
    assert (cmj["status"] == "ok").all()
    assert cmj["reference_flight_time_s"].iloc[0] == pytest.approx(16 / 29.95, abs=0.002)
    assert cmj["takeoff_error_frames"].abs().max() < 6  # within a few frames of the by-eye reading

    summary = pd.read_csv(folder / "study_summary.csv")
    required = "backend, n_clips, flight_time_bias_ms, flight_time_mae_ms, loa_low_ms, loa_high_ms, icc, "
    required += "takeoff_bias_frames, landing_bias_frames"
    assert set(required.split(", ")) <= set(summary.columns)
    assert list(summary["n_clips"]) == [1, 1]  # one clip has both a jump and a reference
    verdict = json.loads((folder / "verdict.json").read_text())
    assert verdict["decision"] == "undecided" or verdict["decision"] == "keep"
    assert verdict["evidence"]["n_clips"] == 1
    if verdict["decision"] == "undecided":
        assert "9 more" in verdict["reason"]

    # add a clip: only its two jobs run, the ten others come from the first run
    shutil.copy(LAB, clips / "lab.mp4")
    _manifest(tmp_path, [*lines, "clips/lab.mp4,,cmj,0.3,,,made up,"])
    before = {r["key"]: r for r in map(json.loads, (folder / "rows.jsonl").read_text().splitlines())}
    assert cli.main(args) in (0, 1)
    printed = capsys.readouterr()
    # lab x 2 run, and the missing clip's 2 jobs are tried again (it may have arrived)
    assert "8 of 12 jobs already done; 4 to run" in printed.err
    assert "4 jobs run now, 8 taken from earlier runs" in printed.out
    after = pd.read_csv(folder / "study_clips.csv")
    assert len(after) == 12
    again = after[after["clip"] == "clips/cmj.mp4"].set_index("backend")
    assert list(again["landmarks_sha256"]) == list(cmj["landmarks_sha256"])
    assert all(k in before for k in again["key"])


@pytest.mark.integration
def test_a_study_started_on_the_dashboard_runs_in_a_worker_process(tmp_path):
    """The Study page times its jobs in a worker process, as the Run page does (issue 10)."""
    import os

    from posebench.dashboard import background_jobs, study_view
    from posebench.studies import study_folder

    clip = study_folder.make_clip(RUNNING)
    study = study_folder.Study("worker study", [clip], ["mediapipe-lite"])
    job = background_jobs.ProcessJob(
        study_view.run_in_worker, {"study": study, "root": tmp_path}, what="a study"
    ).start()
    assert job.wait(300) and job.error is None, job.error
    assert job.result == study.study_id
    assert job.overall()[0] == 1.0 and "1 of 1 jobs" in job.overall()[1]
    rows = study_folder.open_result(study.study_id, tmp_path).clips
    assert list(rows["status"]) == ["ok"] and rows["host"].iloc[0]
    assert job._worker is not None and job._worker.pid not in (None, os.getpid())
