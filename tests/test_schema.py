"""The one definition of the results tables, and the one renderer that shows them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clipgen
from conftest import FakeBackend
from posebench import backends
from posebench.core import schema
from posebench.core.keypoints import LANDMARKS
from posebench.dashboard import tables
from posebench.engine import selection
from posebench.engine.runner import run_benchmark
from posebench.store.run_record import RunOptions


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))


def test_the_runner_writes_exactly_the_schema_columns(tmp_path, fake):
    clip = clipgen.sized_clip(tmp_path / "clip.mp4", 64, 48, frames=6)
    run = run_benchmark(str(clip), ["mediapipe-lite", "rtmpose-lightweight"], RunOptions(warmup=1))
    assert list(run.frames.columns) == list(schema.FRAME_COLUMNS)
    assert list(run.summary.columns) == list(schema.SUMMARY_COLUMNS)
    for name, column in schema.FRAME_COLUMNS.items():
        kind = run.frames[name].dtype.kind
        assert kind == {"str": "O", "int": "i", "float": "f", "bool": "b"}[column.dtype], name


def test_landmark_columns_are_x_y_score_per_landmark_in_order():
    columns = schema.landmark_columns()
    assert len(columns) == 3 * len(LANDMARKS)
    assert columns[:3] == ["nose_x", "nose_y", "nose_score"]
    assert columns[-1] == "right_foot_index_score"
    assert schema.STAGES[0] == "decode" and schema.STAGES[1:] == schema.BACKEND_STAGES


def test_every_column_has_a_sentence_and_a_header_without_underscores():
    for table in (schema.FRAME_COLUMNS, schema.SUMMARY_COLUMNS, schema.RUN_LIST_COLUMNS):
        for name, column in table.items():
            assert column.meaning.endswith("."), name
            assert "_" not in schema.title(name, column), name
    assert schema.title("flight_time_diff_ms", schema.Column("ms", "x")) == "flight time diff (ms)"
    assert schema.title("within_0.1", schema.Column("share", "x")) == "within 0.1 (%)"


def test_numbers_are_rounded_to_what_they_can_mean():
    def write(unit, value, dtype="float", name=""):
        return tables.formatter(schema.Column(unit, "", dtype), None, name)(value)

    assert write("share", 0.9534) == "95.3%"
    assert write("ms", 12.345) == "12.3" and write("ms", 621.3) == "621"
    assert write("", 12, "int") == "12"  # a frame number
    assert write("frames", 3.0) == "3"
    assert write("ms", np.nan) == tables.MISSING and write("", "", "str") == tables.MISSING
    assert write("frames", 2.0, name="takeoff_error_frames") == "+2"
    assert write("ms", -20.0, name="flight_time_diff_ms") == "-20.0"
    assert write("", True, "bool") == "yes"


def test_the_default_baseline_is_the_first_mediapipe_that_ran():
    summary = pd.DataFrame(
        {
            "backend": ["rtm", "mp-broken", "mp"],
            "family": ["rtmpose", "mediapipe", "mediapipe"],
            "status": ["ok", "failed", "ok"],
            "frames": [10, 0, 10],
        }
    )
    assert selection.default_baseline(summary) == "mp"
    assert selection.default_baseline(summary, chosen="rtm") == "rtm"
    assert selection.usable(summary) == ["rtm", "mp"]
    assert "mp-broken" in (selection.why_not_comparable(summary, "mp-broken") or "")
    assert selection.why_not_comparable(summary, "mp", "rtm") is None
    pooled = pd.DataFrame({"backend": ["a", "b"]})  # a study's table: no status, no frames
    assert selection.usable(pooled) == ["a", "b"] and selection.default_baseline(pooled) == "a"
