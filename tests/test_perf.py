"""The speed-check script: its structure, not its numbers (timings are never asserted)."""
from __future__ import annotations

import numpy as np
import pytest

from bench.cli import main
from bench.perf import RTMLIB_DEFAULT, TARGETS, run_perf

from conftest import RUNNING

pytestmark = [pytest.mark.timeout(300), pytest.mark.integration]


@pytest.fixture(scope="module")
def report():
    return run_perf(str(RUNNING), frames=6, rounds=1, include_preset_default=False)


def test_perf_reports_the_three_ratios_with_verdicts(report):
    assert report.ratios["ratio"].tolist() == list(TARGETS)
    assert report.ratios["verdict"].isin(["PASS", "MISS"]).all()
    assert (report.ratios["value"] > 0).all() and np.isfinite(report.ratios["value"]).all()


def test_perf_times_every_contestant_and_floors_each_model(report):
    assert set(report.table["contestant"]) == {RTMLIB_DEFAULT, "rtmpose-lightweight-tuned",
                                               "mediapipe-lite"}
    assert (report.table["fps"] > 0).all()
    assert set(report.floors["model"]) == {"detector", "pose"}
    assert (report.floors["ms"] > 0).all()
    rtmlib = report.table.set_index("contestant").loc[RTMLIB_DEFAULT]
    assert rtmlib["detector_runs_per_frame"] == 1.0        # rtmlib: detector on every frame
    tuned = report.table.set_index("contestant").loc["rtmpose-lightweight-tuned"]
    assert tuned["detector_runs_per_frame"] < 1.0


def test_perf_states_the_exact_settings(report):
    tuned = report.settings["rtmpose-lightweight-tuned"]
    assert tuned["det_every"] == 0 and "spinning" in tuned
    assert report.settings[RTMLIB_DEFAULT]["object"] == "rtmlib.BodyWithFeet"


def test_cli_perf_prints_ratios_and_settings(capsys):
    rc = main(["perf", str(RUNNING), "--frames", "4", "--rounds", "1", "--no-preset-default"])
    assert rc == 0
    out = capsys.readouterr().out
    for key in TARGETS:
        assert key in out
    assert sum(out.count(word) for word in ("PASS", "MISS")) >= 3
    assert "intra_threads" in out and "exact settings" in out
