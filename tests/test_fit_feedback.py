"""Fit and feedback (issue 22): tables keep to what fits at 1280 px, the time left is smoothed,
and a job whose work is done says it is finishing, not "100 % done, about 0 s left"."""

from __future__ import annotations

import threading

import pandas as pd

from posebench.core import schema
from posebench.dashboard import background_jobs, tables, widgets


def test_fit_keeps_the_first_columns_and_drops_what_overflows():
    widths = {"a": 300.0, "b": 300.0, "c": 300.0, "d": 100.0, "e": 90.0}
    kept = tables.fit(["a", "b", "c", "d", "e"], widths, budget=800)
    assert kept == ["a", "b", "d", "e"]  # c overflows; the narrower ones after it still fit
    assert tables.fit(["a", "b", "c"], widths, budget=100) == ["a", "b"]  # never fewer than two


def test_a_run_summary_keeps_detection_rate_in_view():
    summary = pd.DataFrame(
        {
            "backend": ["mediapipe-lite", "rtmpose-lightweight:det_every=0,person=tracked,carry_pad=0.05"],
            "status": ["ok", "ok"],
            "fps": [31.2, 12.5],
            "fps_min": [30.1, 11.9],
            "fps_max": [32.0, 13.1],
            "latency_ms_mean": [31.9, 80.1],
            "latency_ms_p95": [35.0, 90.2],
            "detection_rate": [1.0, 0.98],
            "peak_rss_mb": [310.0, 620.0],
        }
    )
    described = {n: schema.describe(n, schema.SUMMARY_COLUMNS) for n in summary.columns}
    widths = {
        n: tables.width_px(
            schema.title(n, described[n]),
            [tables.formatter(described[n], summary[n], n)(v) for v in summary[n]],
        )
        for n in summary.columns
    }
    keys = [c for c in widgets.SUMMARY_KEY if c in summary.columns]
    kept = tables.fit(keys, widths)
    assert "detection_rate" in kept and "fps" in kept
    assert sum(widths[c] for c in kept) <= tables.FIT_PX
    assert len(kept) < len(keys)  # the long label pushes some columns to "More columns"


class _Job:
    def __init__(self, started_at: float):
        self.started_at = started_at
        self._lock = threading.Lock()


def test_time_left_counts_down_and_follows_a_jump_gradually():
    job = _Job(started_at=0.0)
    assert background_jobs.smoothed_left_s(job, 15.0, now=1.0) is None  # too early to tell
    first = background_jobs.smoothed_left_s(job, 15.0, now=4.0)
    assert first == 15.0
    jumped = background_jobs.smoothed_left_s(job, 102.0, now=6.0)  # a slower backend starts
    assert jumped is not None and 15.0 < jumped < 60.0
    steady = jumped
    for t in range(8, 60, 2):
        steady = background_jobs.smoothed_left_s(job, 102.0 - (t - 6), now=float(t))
    assert abs(steady - (102.0 - 52)) < 5.0  # it catches up with an estimate that holds


class _Finishing:
    what = "a benchmark"
    finished = False
    error = None
    started_at = 0.0

    def __init__(self):
        self._lock = threading.Lock()

    def overall(self):
        return 1.0, "saving"

    def elapsed_s(self):
        return 20.0


def test_a_job_with_its_work_done_says_it_is_finishing():
    job = _Finishing()
    assert widgets.job_fraction_left(job) == (1.0, None)
    line = widgets.job_line(job)
    assert "finishing" in line and "s left" not in line and "100" not in line


def test_a_saved_reference_rewrites_the_jump_tables_errors():
    from posebench.analysis import per_jump

    jump_table = pd.DataFrame(
        {
            "backend": ["a", "b"],
            "flight_time_s": [0.50, 0.55],
            "jump_height_m": [per_jump.height_cm(0.50) / 100, per_jump.height_cm(0.55) / 100],
            "flight_time_error_ms": [float("nan")] * 2,
        }
    )
    marked = {"takeoff_frame": 10, "landing_frame": 25, "fps": 30.0}  # 0.5 s by the frames
    out = per_jump.with_reference(jump_table, marked)
    assert list(out["flight_time_error_ms"].round(6)) == [0.0, 50.0]
    assert out["jump_height_error_cm"].iloc[0] == 0.0 and out["jump_height_error_cm"].iloc[1] > 0
    known = per_jump.with_reference(jump_table, {"flight_time_s": 0.6}, 30.0)
    assert list(known["flight_time_error_ms"].round(6)) == [-100.0, -50.0]
    assert per_jump.with_reference(jump_table, None)["flight_time_error_ms"].isna().all()


def test_the_scrubber_zooms_on_the_feet_both_ways():
    import numpy as np

    from conftest import CLIPS
    from posebench.dashboard import feet_scrubber
    from posebench.io import video

    image = np.zeros((100, 200, 3), dtype=np.uint8)
    crop = feet_scrubber.crop_on_feet(image, 0.4, 0.9)
    assert crop.shape[:2] == (40, 80)  # the same zoom across as down
    assert feet_scrubber.crop_on_feet(image, 1.0, 0.9).shape == image.shape
    image[:, 150:] = 255
    assert (feet_scrubber.crop_on_feet(image, 0.4, 1.0) == 255).mean() > 0.5  # clamped at the right edge

    clip = CLIPS / "jumps" / "cmj_side_dhruvrahuja_3.mp4"  # the athlete jumps mid-frame
    centre = feet_scrubber.feet_centre(str(clip), video.probe(str(clip)).frames)
    assert 0.35 < centre < 0.65


def test_a_clip_uploaded_on_the_clip_page_is_offered_on_the_study_page(results_root, monkeypatch, tmp_path):
    import dataclasses
    import shutil
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from conftest import CLIPS, goto
    from posebench.dashboard import job_registry
    from posebench.io import uploads, video

    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS / "jumps"))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    stored = tmp_path / "upload-1a2b.mp4"  # an upload's random name; its label is the user's
    shutil.copyfile(CLIPS / "jumps" / "cmj_side_dhruvrahuja_5.mp4", stored)
    info = dataclasses.replace(video.probe(stored), name="my jump.mp4", sha256=video.file_sha256(stored))
    accepted = uploads.AcceptedClip(path=stored, label="my jump.mp4", info=info)

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    at.session_state["clip_upload"] = accepted  # as the Clip page keeps it
    goto(at, "study").run()
    assert not at.exception
    box = at.multiselect(key="study-public")
    assert box.options[0] == "my jump.mp4 (your upload)"
    box.set_value(["my jump.mp4 (your upload)"]).run()
    at.button(key="study-add").click().run()
    assert not at.exception
    assert any("References for 1 clips" in s.value for s in at.subheader)

    kept = job_registry.Registry()
    kept.keep_upload("anna", accepted)
    assert kept.latest_upload("anna") is accepted and kept.latest_upload("ben") is None


def test_a_key_column_with_nothing_in_it_gives_its_place_to_one_with_values(monkeypatch):
    shown: dict = {}

    class Grid:
        def dataframe(self, styled, column_order, **kwargs):
            shown["columns"] = list(column_order)

    monkeypatch.setattr(tables.st, "container", lambda: Grid())
    monkeypatch.setattr(tables.st, "expander", lambda label: __import__("contextlib").nullcontext())
    monkeypatch.setattr(tables.st, "toggle", lambda *a, **k: False)
    monkeypatch.setattr(tables.st, "markdown", lambda *a, **k: None)
    df = pd.DataFrame({"backend": ["a", "b"], "still": [None, None], "moving": [0.1, 0.2], "other": [1, 2]})
    meanings = {n: ("", n) for n in df.columns}
    tables.show_table(df, meanings, ["backend", "still"], key="t")
    assert shown["columns"] == ["backend", "moving"]


def test_the_study_jump_table_keeps_every_key_column_in_view():
    from posebench.analysis import per_jump

    rows = pd.DataFrame(
        {
            "clip": ["cmj_side_dhruvrahuja_3.mp4"] * 2,
            "backend": ["mediapipe-lite", "rtmpose-lightweight-tuned"],
            "status": ["ok", "ok"],
            "flight_time_s": [0.623, 0.553],
            "jump_height_m": [0.475, 0.376],
            "takeoff_frame": [19.0, 20.0],
            "landing_frame": [37.0, 36.0],
            "reference_flight_time_s": [0.554, 0.554],
            "reference_takeoff_frame": [19, 19],
            "reference_landing_frame": [35, 35],
        }
    )
    shown = per_jump.display(per_jump.table(rows))
    widths = {c: tables.width_px(c, [str(v) for v in shown[c]]) for c in shown.columns}
    keys = [c for c in per_jump.KEY_DISPLAY if c in shown.columns]
    assert tables.fit(keys, widths) == keys, widths


def test_the_verdicts_warnings_come_in_as_few_boxes_as_they_need():
    from types import SimpleNamespace

    from posebench.dashboard import verdict_view

    verdict = SimpleNamespace(
        unmeasured=[SimpleNamespace(title="Speed (frames/s)"), SimpleNamespace(title="Flight")],
        notes=[
            "The machine was busy: load 11.5 on 2 cores; speed figures are doubtful.",
            "The machine was busy: other work used 139 % of one core; speed figures are doubtful.",
            "Something else.",
        ],
    )
    lines = verdict_view.warnings(verdict)
    assert lines[0] == "Not measured: Speed (frames/s) and Flight. A replace needs them measured."
    assert lines[1].startswith("The machine was busy") and "load 11.5" in lines[1] and "139 %" in lines[1]
    assert lines[2:] == ["Something else."]
